#!/usr/bin/python3
"""End-to-end tests of probing: vigil-sim plays the providers, vigild
starts the probers, segdump reads the segment.

Also the harness that test_supervisor.py imports (Harness, Sim, ctl_call).
Every server is started here on 127.0.0.1 with free ports, a temporary
shm name and control socket, and stopped (by pid) even on failure.
"""
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("VIGIL_BUILD", "build")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

failures = 0


def ok(cond, name, detail=""):
    global failures
    if cond:
        print("ok - %s" % name)
    else:
        failures += 1
        print("not ok - %s%s" % (name, (": " + str(detail)) if detail else ""))
    sys.stdout.flush()
    return cond


def binpath(name):
    return os.path.join(TOP, BUILD, name)


def drop_to(uid, gid, groups=()):
    """In a child: become uid with primary gid and exactly these
    supplementary groups (nothing from /etc/group)."""
    os.setgroups(list(groups))
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def as_user(fn, uid, gid, groups=()):
    """Run fn() in a forked child with that identity; its JSON result
    ({"exception": ...} when it raised)."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            drop_to(uid, gid, groups)
            out = fn()
        except Exception as e:
            out = {"exception": repr(e)}
        os.write(wr, json.dumps(out).encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    os.waitpid(pid, 0)
    return json.loads(data or b"{}")


_public = {}


def public_binpath(name):
    """A copy of build/NAME that any user may run: for tests that run a
    binary as an unprivileged user, since the clone may be in a
    directory only root can enter.  Removed when the test exits."""
    if name not in _public:
        import atexit
        import shutil
        d = tempfile.mkdtemp(prefix="vigil-pub-")
        os.chmod(d, 0o755)
        shutil.copy(binpath(name), d)
        atexit.register(shutil.rmtree, d, True)
        _public[name] = os.path.join(d, name)
    return _public[name]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(fn, timeout=10.0, step=0.05):
    """Poll fn until it returns a true value or timeout; return the value."""
    end = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < end:
        time.sleep(step)
        v = fn()
    return v


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            if int(st.split(")")[-1].split()[1]) == pid:
                out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


@contextlib.contextmanager
def guarded(label, h=None):
    """A harness failure is a test failure: an exception in the block
    fails the test named label, with its traceback and the end of h's
    vigild log; h is stopped however the block ends."""
    try:
        yield
    except Exception as e:
        traceback.print_exc()
        ok(False, label, e)
        if h is not None:
            print(h.logtext()[-3000:], file=sys.stderr)
    finally:
        if h is not None:
            h.stop()


def stop_process(proc, wait_s=5):
    """SIGTERM a Popen we started, SIGKILL it after wait_s, reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def role_pid(h, role):
    """The pid of vigild's live child running `role` (argv[0] basename,
    e.g. "vigil-aggregator"), or None."""
    for k in children_of(h.proc.pid):
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode()
        except OSError:
            continue
        if os.path.basename(argv0) == role and pid_alive(k):
            return k
    return None


# ---- the control protocol, with Debian's python3-msgpack -----------------

def frame(obj):
    import msgpack
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" %
                           (len(b), n))
        b += chunk
    return b


def recv_frame(s):
    import msgpack
    n = struct.unpack(">I", recv_exact(s, 4))[0]
    return msgpack.unpackb(recv_exact(s, n), raw=False)


def ctl_connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def ctl_call(path, op, args=None, rid=1, timeout=10.0):
    s = ctl_connect(path, timeout)
    try:
        req = {"id": rid, "op": op}
        if args is not None:
            req["args"] = args
        s.sendall(frame(req))
        return recv_frame(s)
    finally:
        s.close()


# ---- servers ---------------------------------------------------------------

class Sim:
    """vigil-sim with the given -P specs and -f faults."""

    def __init__(self, tmp, providers, faults=None):
        self.portfile = os.path.join(tmp, "sim.json")
        args = [binpath("vigil-sim"), "-p", "0", "--port-file",
                self.portfile, "--seed", "1"]
        for p in providers:
            args += ["-P", p]
        for name, f in (faults or {}).items():
            args += ["-f", "%s=%s" % (name, json.dumps(f))]
        self.log = open(os.path.join(tmp, "sim.log"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        if not wait_for(lambda: os.path.exists(self.portfile), 10):
            raise RuntimeError("vigil-sim did not start")
        with open(self.portfile) as f:
            self.info = json.load(f)
        self.port = self.info["port"]

    def base(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def fault(self, name, obj):
        import urllib.request
        req = urllib.request.Request(
            "http://127.0.0.1:%d/_sim/%s" % (self.port, name),
            data=json.dumps(obj).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def stop(self):
        stop_process(self.proc)
        self.log.close()


class Harness:
    """A temporary directory, a config, a vigild; segdump and control."""

    def __init__(self, tag="t"):
        self.tmp = tempfile.mkdtemp(prefix="vigild-%s-" % tag)
        self.shm = "/vigil-test-%s-%d" % (tag, os.getpid())
        self.sock = os.path.join(self.tmp, "run", "control.sock")
        self.conf = os.path.join(self.tmp, "vigil.conf")
        self.logpath = os.path.join(self.tmp, "vigild.log")
        self.listen_port = free_port()
        self.proc = None
        self.keys = {}
        self.sim = None

    def key_file(self, name, key):
        path = os.path.join(self.tmp, "key." + name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (key + "\n").encode())
        os.close(fd)
        self.keys[name] = key
        return path

    def write_conf(self, providers, extra="", interval="200ms",
                   timeout="150ms"):
        """providers: list of dicts name, kind, base_url, key (optional),
        extra (lines)."""
        user = "root" if os.geteuid() == 0 else ""
        lines = ["[vigil]",
                 "interval = %s" % interval,
                 "timeout = %s" % timeout,
                 "allow_fast_probes = yes",
                 "listen = 127.0.0.1:%d" % self.listen_port,
                 "control_socket = %s" % self.sock,
                 "state_dir = %s" % os.path.join(self.tmp, "state"),
                 "shm_name = %s" % self.shm]
        if user:
            lines.append("user = %s" % user)
        lines.append(extra)
        for p in providers:
            lines += ["", '[provider "%s"]' % p["name"],
                      "kind = %s" % p["kind"],
                      "base_url = %s" % p["base_url"]]
            if p.get("key") is not None:
                lines.append("api_key_file = %s" %
                             self.key_file(p["name"], p["key"]))
            lines += p.get("extra", [])
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, vigild=None, wait_providers=None, env=None):
        self.log = open(self.logpath, "a")
        env = dict(env or {}, PATH="/usr/bin:/bin")
        self.proc = subprocess.Popen(
            [vigild or binpath("vigild"), "-c", self.conf],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if not wait_for(lambda: os.path.exists(self.sock) or
                        self.proc.poll() is not None, 10):
            raise RuntimeError("vigild did not create its control socket")
        if self.proc.poll() is not None:
            raise RuntimeError("vigild exited with %d: %s" %
                               (self.proc.returncode, self.logtext()))
        if wait_providers:
            if not wait_for(lambda: self.all_up(wait_providers), 10):
                raise RuntimeError("probers did not start: %s" %
                                   self.logtext()[-2000:])
            # And the aggregator, which ops such as silence go to (slow
            # to start under ASan on a busy machine).
            if not wait_for(lambda: "aggregator: ready" in self.logtext()
                            or "vigil-aggregator is not installed" in
                            self.logtext(), 15):
                raise RuntimeError("the aggregator did not start: %s" %
                                   self.logtext()[-2000:])

    def logtext(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def dump(self, samples=64):
        r = subprocess.run([binpath("tests/tools/segdump"), "--shm",
                            self.shm, "--samples", str(samples)],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def providers(self, samples=64):
        d = self.dump(samples)
        if d is None:
            return {}
        return {p["name"]: p for p in d["providers"]}

    def all_up(self, names):
        ps = self.providers(0)
        return all(n in ps and ps[n]["pid"] != 0 for n in names)

    def call(self, op, args=None, rid=1):
        return ctl_call(self.sock, op, args, rid)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            kids = children_of(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            for k in kids:
                if pid_alive(k):
                    try:
                        os.kill(k, signal.SIGKILL)
                    except OSError:
                        pass
        if self.sim is not None:
            self.sim.stop()
        try:
            os.unlink("/dev/shm" + self.shm)
        except OSError:
            pass
        if self.proc is not None and hasattr(self, "log"):
            self.log.close()
        # Keep the logs of a failed run for a look.
        if not failures:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---- the tests -----------------------------------------------------------------

KEYS = {"openai": "sk-test-openai-1111", "anthropic": "sk-ant-test-2222",
        "google": "AIza-test-3333", "deepseek": "sk-test-ds-4444",
        "qwen": "sk-test-qwen-5555", "cursor": "key-test-cursor-6666",
        "garb": "sk-test-garb-7777", "shut": "sk-test-shut-8888",
        "extra": "sk-test-extra-9999"}


def outcomes(p):
    return [s["outcome"] for s in p["samples"]]


def test_outcomes(h, closed_port):
    want = {"openai": "ok", "anthropic": "auth", "google": "http_5xx",
            "deepseek": "rate_limited", "qwen": "timeout",
            "garb": "bad_response", "shut": "connect"}

    def reset_seen(ps):
        return "cursor" in ps and any(o in ("connect", "other")
                                      for o in outcomes(ps["cursor"]))

    def settled():
        ps = h.providers(8)
        return all(n in ps and want[n] in outcomes(ps[n]) for n in want) \
            and reset_seen(ps) and ps
    ps = wait_for(settled, 10) or h.providers(8)
    for n, o in want.items():
        got = outcomes(ps.get(n, {"samples": []}))
        ok(o in got, "%s gets outcome %s" % (n, o), got)
    cur = ps.get("cursor", {"samples": []})
    ok(reset_seen(ps), "cursor (connection reset) gets connect or other",
       (outcomes(cur), {k: cur.get(k) for k in ("head", "pid")}))
    kinds = {n: ps[n]["kind"] for n in ps}
    ok(kinds.get("anthropic") == "anthropic" and
       kinds.get("cursor") == "cursor" and kinds.get("google") == "google",
       "directory holds each provider's kind", kinds)
    # A hang ends at the configured timeout (150 ms), not later.
    lat = [s["latency_ms"] for s in ps["qwen"]["samples"]
           if s["outcome"] == "timeout"]
    ok(lat and all(140 <= x < 400 for x in lat),
       "timeouts end at the configured 150 ms", lat)
    ok(all(ps[n]["writer_epoch"] == 1 and ps[n]["ring_epoch"] == 1
           for n in ps), "every ring starts at writer epoch 1",
       {n: (ps[n]["writer_epoch"], ps[n]["ring_epoch"]) for n in ps})


def test_secrets(h):
    """No child holds another provider's key in its environment, command
    line or memory, and no key reaches the log."""
    kids = children_of(h.proc.pid)
    names = {}
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                names[k] = f.read().split(b"\0")
        except OSError:
            pass
    bad = []
    seen_own = []
    for k, argv in names.items():
        own = argv[1].decode() if len(argv) > 1 and argv[1] else None
        with open("/proc/%d/environ" % k, "rb") as f:
            env = f.read()
        blob = b"\0".join(argv) + env
        for n, key in KEYS.items():
            if key.encode() in blob:
                bad.append((k, n, "argv/environ"))
        if env.split(b"\0")[0] != b"PATH=/usr/bin:/bin":
            bad.append((k, "env", env[:80]))
        # Memory: readable mappings of the process.
        try:
            mem = read_memory(k)
        except OSError as e:
            mem = None
            bad.append((k, "memory unreadable", str(e)))
        if mem is not None:
            for n, key in KEYS.items():
                if n != own and key.encode() in mem:
                    bad.append((k, n, "memory"))
            # The scan sees memory at all: a prober holds its own key.
            if own in KEYS and KEYS[own].encode() in mem:
                seen_own.append(own)
    ok(len(names) >= 7 and not bad,
       "children hold no other provider's key (argv, environ, memory)",
       bad)
    ok(len(seen_own) >= 6, "the memory scan finds each prober's own key",
       seen_own)
    log = h.logtext()
    leaked = [n for n, key in KEYS.items() if key in log]
    ok(not leaked, "no key appears in the log", leaked)


def read_memory(pid):
    out = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or (len(f) > 5 and f[5].startswith("[v")):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if hi - lo > 256 << 20:
                continue
            try:
                mem.seek(lo)
                out.append(mem.read(hi - lo))
            except (OSError, OverflowError, ValueError):
                pass
    return b"".join(out)


def test_fds(h):
    """Descriptors as docs/internals.md says: 3 the segment (read-only for
    vigil-api), 4 the socketpair, 5 the listening socket of vigil-api."""
    bad = []
    seen = 0
    for k in children_of(h.proc.pid):
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                role = f.read().split(b"\0")[0].decode()
            with open("/proc/%d/fdinfo/3" % k) as f:
                flags = int([ln.split()[1] for ln in f
                             if ln.startswith("flags:")][0], 8)
            seg = os.readlink("/proc/%d/fd/3" % k)
            sock = os.readlink("/proc/%d/fd/4" % k)
        except OSError as e:
            bad.append((k, str(e)))
            continue
        seen += 1
        want = os.O_RDONLY if role == "vigil-api" else os.O_RDWR
        if (flags & os.O_ACCMODE) != want or h.shm not in seg:
            bad.append((k, role, "fd 3", seg, oct(flags)))
        if not sock.startswith("socket:"):
            bad.append((k, role, "fd 4", sock))
        if role == "vigil-api" and not os.readlink(
                "/proc/%d/fd/5" % k).startswith("socket:"):
            bad.append((k, role, "fd 5"))
    ok(seen >= 8 and not bad, "children get fds 3, 4 (and 5) as documented",
       bad)


def test_kill_prober(h):
    before = h.providers(0)
    old = before["openai"]
    other0 = before["google"]["head"]
    os.kill(old["pid"], signal.SIGKILL)

    def restarted():
        p = h.providers(0).get("openai")
        return p if p and p["pid"] not in (0, old["pid"]) else None
    new = wait_for(restarted, 10)
    ok(new is not None, "a SIGKILLed prober is restarted with a new pid")
    if new is None:
        return
    ok(new["writer_epoch"] == old["writer_epoch"] + 1 and
       new["ring_epoch"] == new["writer_epoch"],
       "its writer epoch is bumped in the directory and the ring",
       (old["writer_epoch"], new["writer_epoch"], new["ring_epoch"]))
    ok(new["restarts"] == old["restarts"] + 1, "restart counted",
       (old["restarts"], new["restarts"]))
    ok("prober openai: pid %d killed by signal 9" % old["pid"] in
       h.logtext(), "the log says why the prober ended")
    ok("restarting in 100 ms" in h.logtext(),
       "the first restart comes after 100 ms")
    head = new["head"]
    cont = wait_for(lambda: h.providers(0)["openai"]["head"] > head + 2, 10)
    ok(cont, "samples continue after the restart")
    # The other probers' streams: no gap beyond a few intervals.
    g = h.providers(256)["google"]
    ts = [s["mono_ns"] for s in g["samples"]]
    gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
    ok(g["head"] > other0 and gaps and max(gaps) < 1500,
       "another prober's samples show no gap", max(gaps) if gaps else None)
    ok(g["pid"] == before["google"]["pid"], "other probers keep their pid")


def test_reload(h, sim):
    before = h.providers(0)
    h.write_conf([
        {"name": "openai", "kind": "openai", "base_url": sim.base("openai"),
         "key": KEYS["openai"]},
        {"name": "anthropic", "kind": "anthropic",
         "base_url": sim.base("anthropic"), "key": KEYS["anthropic"]},
        {"name": "google", "kind": "google", "base_url": sim.base("google"),
         "key": KEYS["google"]},
        {"name": "deepseek", "kind": "deepseek",
         "base_url": sim.base("deepseek"), "key": KEYS["deepseek"]},
        {"name": "cursor", "kind": "cursor", "base_url": sim.base("cursor"),
         "key": KEYS["cursor"]},
        {"name": "garb", "kind": "openai", "base_url": sim.base("garb"),
         "key": KEYS["garb"]},
        # changed: the sim instead of a closed port, a new timeout
        {"name": "shut", "kind": "openai", "base_url": sim.base("shut"),
         "key": KEYS["shut"], "extra": ["timeout = 100ms"]},
        # added
        {"name": "extra", "kind": "openai", "base_url": sim.base("extra"),
         "key": KEYS["extra"]},
        # qwen removed
    ])
    os.kill(h.proc.pid, signal.SIGHUP)
    ps = wait_for(lambda: (lambda p: p if "extra" in p and
                           p["extra"]["pid"] and "qwen" not in p and
                           p["shut"]["pid"] not in (0, before["shut"]["pid"])
                           else None)(h.providers(0)), 10)
    ok(ps is not None, "reload: the added prober runs, the removed is gone",
       sorted(h.providers(0)))
    if ps is None:
        return
    same = [n for n in ("openai", "anthropic", "google", "deepseek",
                        "cursor", "garb")
            if ps[n]["pid"] == before[n]["pid"]]
    ok(len(same) == 6, "reload: unchanged providers keep their pids", same)
    ok(all(ps[n]["head"] >= before[n]["head"] for n in same) and
       all(ps[n]["slot"] == before[n]["slot"] for n in same),
       "reload: unchanged providers keep their rings")
    ok(ps["shut"]["timeout_ms"] == 100 and
       ps["shut"]["generation"] > before["shut"]["generation"],
       "reload: the changed provider restarted with its new settings",
       (ps["shut"]["timeout_ms"], ps["shut"]["generation"]))
    ok(not pid_alive(before["qwen"]["pid"]),
       "reload: the removed provider's prober is gone")
    got = wait_for(lambda: "ok" in outcomes(h.providers(8)["extra"]), 10)
    ok(got, "reload: the added provider gets samples")


def test_bad_reload(h):
    before = h.providers(0)
    with open(h.conf) as f:
        good = f.read()
    with open(h.conf, "a") as f:
        f.write("\n[provider \"broken\"]\nkind = nosuchkind\n")
    os.kill(h.proc.pid, signal.SIGHUP)
    ok(wait_for(lambda: "reload refused" in h.logtext(), 10),
       "a bad config on reload is refused")
    line = [ln for ln in h.logtext().splitlines() if "reload refused" in ln]
    ok(line and ("%s:" % h.conf) in line[-1] and
       any(c.isdigit() for c in line[-1].split(h.conf + ":")[1][:6]),
       "the refusal names file:line", line[-1:])
    after = h.providers(0)
    ok(h.proc.poll() is None and
       {n: p["pid"] for n, p in after.items()} ==
       {n: p["pid"] for n, p in before.items()},
       "vigild keeps running with the old configuration")
    with open(h.conf, "w") as f:
        f.write(good)


def test_sigterm(h):
    kids = children_of(h.proc.pid)
    h.proc.send_signal(signal.SIGTERM)
    try:
        rc = h.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "SIGTERM: vigild exits with status 0", rc)
    left = [k for k in kids if pid_alive(k)]
    ok(len(kids) >= 7 and not left, "SIGTERM: no child is left", left)
    ok(not os.path.exists("/dev/shm" + h.shm),
       "SIGTERM: the segment is unlinked")
    ok(not os.path.exists(h.sock), "SIGTERM: the control socket is removed")


def main():
    h = Harness("probing")
    with guarded("harness", h):
        closed = free_port()
        sim = Sim(h.tmp, [
            "openai:openai:" + KEYS["openai"],
            "anthropic:anthropic:right-key-not-ours",
            "google:google:" + KEYS["google"],
            "deepseek:deepseek:" + KEYS["deepseek"],
            "qwen:qwen:" + KEYS["qwen"],
            "cursor:cursor:" + KEYS["cursor"],
            "garb:openai:" + KEYS["garb"],
            "shut:openai:" + KEYS["shut"],
            "extra:openai:" + KEYS["extra"],
        ], {"google": {"status": 500}, "deepseek": {"status": 429},
            "qwen": {"hang": True}, "cursor": {"reset": True},
            "garb": {"garbage": True}})
        h.sim = sim
        provs = [
            {"name": n, "kind": k, "base_url": sim.base(n), "key": KEYS[n]}
            for n, k in (("openai", "openai"), ("anthropic", "anthropic"),
                         ("google", "google"), ("deepseek", "deepseek"),
                         ("qwen", "qwen"), ("cursor", "cursor"),
                         ("garb", "openai"))]
        provs.append({"name": "shut", "kind": "openai",
                      "base_url": "http://127.0.0.1:%d" % closed,
                      "key": KEYS["shut"]})
        h.write_conf(provs)
        h.start(wait_providers=[p["name"] for p in provs])
        test_outcomes(h, closed)
        test_secrets(h)
        test_fds(h)
        test_kill_prober(h)
        test_reload(h, sim)
        test_bad_reload(h)
        test_sigterm(h)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
