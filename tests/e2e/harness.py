#!/usr/bin/python3
"""The end-to-end harness: everything the tests in tests/e2e, the
benchmarks in bench/ and the soak in tests/soak share, so that no test
imports another.

- counting: ok() (and result(), the same with the name first), note();
  passed and failures: a test exits non-zero when harness.failures is;
- paths and processes: binpath, public_binpath, free_port, wait_for,
  rss_kb, pid_alive, children_of, cmdline, argv0, kill_pid, guarded,
  stop_process, role_pid, drop_to, as_user;
- the control protocol (python3-msgpack): need_msgpack, frame,
  recv_frame, ctl_connect, ctl_send, err_code, ctl_call;
- servers: Sim (vigil-sim), Harness (a vigild over a config), Vigil (a
  Harness restartable with its state_dir, with vigil-api), Receiver (a
  webhook receiver), ApiServer (vigil-api alone over a segment) and
  Segfill (tests/tools/segfill, which writes that segment);
- HTTP: http_json, http_get, get, get_json, prom_samples, prom_layout,
  SSE and WS (stdlib server-sent-events and RFC 6455 clients);
- the detection scenarios that test_detect checks and bench_detect
  measures.

Every server is started on 127.0.0.1 with free ports, a temporary shm
name and control socket, and stopped (by pid) even on failure.
"""
import base64
import contextlib
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

BUILD = os.environ.get("VIGIL_BUILD", "build")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

passed = 0
failures = 0
out_lock = threading.Lock()     # ok() and note() from several threads


def ok(cond, name, detail=""):
    """Print "ok - name" or "not ok - name: detail" (counted in passed
    or failures); returns cond."""
    global passed, failures
    with out_lock:
        if cond:
            passed += 1
            print("ok - %s" % name)
        else:
            failures += 1
            print("not ok - %s%s" % (name, (": " + str(detail))
                                      if detail != "" else ""))
        sys.stdout.flush()
    return cond


def result(name, cond, detail=""):
    """ok() with the name first."""
    return ok(cond, name, detail)


def note(msg):
    with out_lock:
        print("# %s" % msg)
        sys.stdout.flush()


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


def status_field(pid, name):
    """The first number of line NAME: in /proc/PID/status; None if the
    process has gone or has no such line."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith(name + ":"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return None


def rss_kb(pid):
    """VmRSS of pid in kB; None if it has gone."""
    return status_field(pid, "VmRSS")


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


def cmdline(pid):
    """pid's /proc cmdline split at NULs (a trailing ""); [] if gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0")]


def argv0(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0].decode())
    except (OSError, IndexError, UnicodeDecodeError):
        return ""


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except OSError:
        pass



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

def need_msgpack():
    """python3-msgpack, or a failed test and exit 1 without it."""
    try:
        import msgpack
    except ImportError:
        print("not ok - python3-msgpack is not installed (apt-get install "
              "python3-msgpack)")
        sys.exit(1)
    return msgpack


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


def ctl_send(s, obj):
    """Send obj on a connected control socket; its reply."""
    s.sendall(frame(obj))
    return recv_frame(s)


def err_code(r):
    """The error code of a failed reply, None for a success."""
    return (r.get("error") or {}).get("code") if not r.get("ok") else None


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

    def own_url(self, name):
        return self.info["providers"][name]["url"]

    def fault(self, name, obj):
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

    def __init__(self, tag="t", kind=""):
        """kind names the temporary directory and segment apart from tag:
        "agg-" gives /tmp/vigil-agg-TAG-* and /vigil-test-agg-TAG-PID."""
        self.tmp = tempfile.mkdtemp(
            prefix=("vigil-%s%s-" if kind else "vigild-%s%s-") % (kind, tag))
        self.shm = "/vigil-test-%s%s-%d" % (kind, tag, os.getpid())
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
        lines += [extra] if isinstance(extra, str) else list(extra)
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

    def spawn(self, vigild=None, env=None):
        """Start vigild and wait for its control socket."""
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

    def start(self, vigild=None, wait_providers=None, env=None):
        """spawn(), then wait for the probers of wait_providers and the
        aggregator."""
        self.spawn(vigild, env)
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
            shutil.rmtree(self.tmp, ignore_errors=True)


class Vigil(Harness):
    """A Harness restartable with the same state_dir (stop() leaves the
    directory; cleanup() removes it); control calls, vigil-api."""

    def __init__(self, tag):
        Harness.__init__(self, tag, kind="agg-")
        self.tag = tag
        self.state = os.path.join(self.tmp, "state")
        self.port = self.listen_port
        self.log = None
        self.pids = set()       # every child we ever saw, killed at the end

    def start(self, names):
        self.start_mono = time.monotonic()
        self.spawn()
        if not wait_for(lambda: self.all_up(names), 10):
            raise RuntimeError("probers did not start: %s" %
                               self.logtext()[-2000:])
        self.remember_children()

    def remember_children(self):
        if self.proc is not None and self.proc.poll() is None:
            self.pids.update(children_of(self.proc.pid))

    def dump(self, samples=0):
        return Harness.dump(self, samples)

    def ring(self, samples=0):
        return self.providers(samples)

    def result(self, op, args=None):
        r = self.call(op, args)
        if not r.get("ok"):
            raise RuntimeError("%s: %r" % (op, r))
        return r["result"]

    def alerts(self, provider=None):
        args = {"limit": 100000}
        if provider:
            args["provider"] = provider
        return self.result("alerts", args)

    def history(self, provider, from_ns=None):
        args = {"provider": provider, "limit": 100000}
        if from_ns is not None:
            args["from_ns"] = from_ns
        return self.result("history", args)["points"]

    def api(self, path):
        return http_json("http://127.0.0.1:%d%s" % (self.port, path))

    def integration(self):
        return {p["name"]: p for p in
                self.api("/health/integration")["providers"]}

    def detail(self, name):
        return self.api("/health/integration/providers/%s?samples=0" % name)

    def aggregator_pid(self):
        for k in children_of(self.proc.pid):
            if argv0(k) == "vigil-aggregator":
                return k
        return None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop vigild with sig; returns its exit status (None if it had
        to be killed)."""
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            self.remember_children()
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif self.proc is not None:
            rc = self.proc.returncode
        if self.log is not None:
            self.log.close()
            self.log = None
        return rc

    def cleanup(self):
        self.stop()
        if self.sim is not None:       # a restartable vigild's simulator
            self.sim.stop()
            self.sim = None
        bad = [ln for ln in self.logtext().splitlines()
               if "Sanitizer" in ln or "runtime error:" in ln]
        ok(not bad, "%s: no sanitizer report in vigild's log" % self.tag,
           bad[:5])
        for k in self.pids:
            if pid_alive(k):
                kill_pid(k)
        try:
            os.unlink("/dev/shm" + self.shm)
        except OSError:
            pass
        if not failures:
            shutil.rmtree(self.tmp, ignore_errors=True)



class Receiver:
    """The webhook receiver: http.server on a fixed free port in a thread;
    stop() closes the listening socket (connection refused), start()
    opens it again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.got = []           # (monotonic time, body)
        self.lock = threading.Lock()
        self.srv = None
        self.thr = None
        self.down_ns = self.up_ns = self.up_mono = 0

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def start(self):
        rcv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                try:
                    obj = json.loads(body)
                except ValueError:
                    obj = {"bad": body.decode(errors="replace")}
                with rcv.lock:
                    rcv.got.append((time.monotonic(), obj))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", self.port), H)
        self.thr = threading.Thread(target=self.srv.serve_forever,
                                    kwargs={"poll_interval": 0.05},
                                    daemon=True)
        self.thr.start()

    def stop(self):
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
            self.thr.join(5)
            self.srv = None

    def ids(self):
        with self.lock:
            return [o.get("id") for _, o in self.got]

    def bodies(self):
        with self.lock:
            return list(self.got)




# ---- HTTP ------------------------------------------------------------------

def http_json(url, timeout=5):
    """GET url as JSON.  A 503 "busy" (a segment writer held its
    seqlock through the reader's retries, e.g. descheduled under ASan on
    a loaded machine: docs/http-api.md) is retried for up to 2 s, as a
    client should; any other error is raised."""
    deadline = time.monotonic() + 2
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read()
            if e.code != 503 or b'"busy"' not in body or \
                    time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def http_get(port, path, timeout=5.0):
    """(status, parsed JSON or None); (None, error) when unreachable."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, None
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        c.close()



def request(port, method, path, headers=None, body=None, timeout=10):
    """One request on a new connection to 127.0.0.1:port: (status,
    headers with lower-case names, body bytes).  A dict or list body is
    sent as JSON."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def get(port, path, method="GET", headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), dict(r.getheaders()), data


def get_json(port, path):
    st, ct, hdrs, data = get(port, path)
    return st, ct, json.loads(data) if data else None



PROM_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
PROM_ESC = re.compile(r'\\(.)')


def prom_samples(text):
    """(name, {label: value}, value) of every sample line of an exposition,
    label values unescaped."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, val = line.rpartition(" ")
        name, _, lbl = head.partition("{")
        labels = {k: PROM_ESC.sub(lambda m: "\n" if m.group(1) == "n"
                                  else m.group(1), v)
                  for k, v in PROM_LABEL.findall(lbl)}
        out.append((name, labels, val))
    return out


def prom_layout(text, kinds):
    """Where the exposition breaks the layout of issue 9, as a list of
    strings (empty: fine).  kinds: {provider: kind} expected.  Only
    vigil_provider_info carries kind, exactly one per provider with value
    1; the window summary has no _sum or _count; every per-provider
    series carries provider=."""
    bad = []
    info = {}
    for name, labels, val in prom_samples(text):
        if name == "vigil_provider_info":
            p = labels.get("provider")
            if p in info or set(labels) != {"provider", "kind"} or \
                    val != "1":
                bad.append("info %r %r %s" % (p, labels, val))
            info[p] = labels.get("kind")
        elif "kind" in labels:
            bad.append("kind on %s %r" % (name, labels))
        if name in ("vigil_latency_seconds_sum",
                    "vigil_latency_seconds_count"):
            bad.append("summary series %s is back" % name)
        if name == "vigil_latency_seconds" and \
                set(labels) != {"provider", "window", "quantile"}:
            bad.append("%s labels %r" % (name, labels))
    for p in sorted(set(info) | set(kinds)):
        if info.get(p) != kinds.get(p):
            bad.append("vigil_provider_info of %r: kind %r, want %r" %
                       (p, info.get(p), kinds.get(p)))
    return bad



class SSE:
    """A minimal server-sent events client on a raw socket."""

    def __init__(self, port, last_id=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        hdr = "GET /health/integration/events HTTP/1.1\r\nHost: x\r\n" \
              "Accept: text/event-stream\r\n"
        if last_id is not None:
            hdr += "Last-Event-ID: %d\r\n" % last_id
        self.s.sendall((hdr + "\r\n").encode())
        self.buf = b""
        self.head = None
        self.text = ""

    def _fill(self, deadline):
        self.s.settimeout(max(0.01, deadline - time.time()))
        try:
            b = self.s.recv(65536)
        except socket.timeout:
            return False
        if not b:
            return False
        self.buf += b
        if self.head is None and b"\r\n\r\n" in self.buf:
            self.head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if self.head is not None:
            # De-chunk what we have.
            while True:
                line, sep, rest = self.buf.partition(b"\r\n")
                if not sep:
                    break
                n = int(line, 16)
                if len(rest) < n + 2:
                    break
                self.text += rest[:n].decode()
                self.buf = rest[n + 2:]
        return True

    def events(self, want, timeout):
        """Wait until `want` events have arrived; return all parsed."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            evs = self.parse()
            if len(evs) >= want:
                return evs
            if not self._fill(deadline):
                continue
        return self.parse()

    def parse(self):
        evs = []
        for block in self.text.split("\n\n")[:-1]:
            e = {}
            for line in block.split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                k, _, v = line.partition(":")
                e[k] = v[1:] if v.startswith(" ") else v
            if "data" in e:
                evs.append(e)
        return evs

    def close(self):
        self.s.close()


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WS:
    """A minimal RFC 6455 client (masked frames, no extensions)."""

    def __init__(self, port, path="/ws/health", key=None, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" %
                        (path, self.key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(4096)
            if not b:
                break
            self.buf += b
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0] else 0
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def expected_accept(self):
        return base64.b64encode(hashlib.sha1(
            (self.key + WS_GUID).encode()).digest()).decode()

    def send(self, opcode, payload=b"", fin=True):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.s.sendall(hdr + mask + body)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.01, deadline - time.time()))
            b = self.s.recv(65536)
            if not b:
                raise EOFError("connection closed")
            self.buf += b

    def recv(self, timeout=5):
        """One frame: (opcode, payload).  Raises socket.timeout/EOFError."""
        deadline = time.time() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise ValueError("server frame is masked")
        n = b1 & 0x7f
        off = 2
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            off = 10
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0f, payload

    def recv_text(self, timeout=5):
        """The next text frame's JSON, answering nothing else."""
        deadline = time.time() + timeout
        while True:
            op, p = self.recv(max(0.01, deadline - time.time()))
            if op == 1:
                return json.loads(p.decode())
            if op == 8:
                raise EOFError("close frame")

    def close(self):
        self.s.close()


def ws_frame_ok(port):
    """Is the WebSocket built in (101) or is this a build without
    libwslay (501)?"""
    w = WS(port)
    st = w.status
    w.close()
    return st



# ---- vigil-api alone over a segment that segfill writes ---------------------

SEGFILL = binpath("tests/tools/segfill")
API = binpath("vigil-api")


class ApiServer:
    def __init__(self, shm, env=None, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="vigil-api-test-")
        self.portfile = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "api.log"), "w+")
        # Under ASan, freed memory waits in a quarantine of up to 256 MB,
        # which grows RSS with no leak at all: cap it, so that the
        # memory-bound checks measure the server and not the sanitizer.
        env = dict(os.environ if env is None else env)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
            ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
        self.proc = subprocess.Popen(
            [API, "--shm", shm, "--listen", "127.0.0.1:0", "--port-file",
             self.portfile] + list(extra),
            stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 10
        while not os.path.exists(self.portfile):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                raise RuntimeError("vigil-api did not start: " +
                                   self.log.read())
            time.sleep(0.02)
        with open(self.portfile) as f:
            self.port = int(f.read())

    def stop(self):
        stop_process(self.proc, 10)
        self.log.seek(0)
        tail = self.log.read()[-2000:]
        if self.proc.returncode != 0:
            print("# vigil-api exited %d:\n# %s" % (
                self.proc.returncode, tail.replace("\n", "\n# ")))
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode


class Segfill:
    """tests/tools/segfill over shm (extra: e.g. ["--recent"])."""

    def __init__(self, shm, extra=()):
        self.proc = subprocess.Popen([SEGFILL, "--shm", shm] + list(extra),
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready t0="):
            raise RuntimeError("segfill: " + line)
        self.t0 = int(line.split("=")[1])

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self):
        stop_process(self.proc)


# ---- helpers over alerts -----------------------------------------------------

def first(seq, pred):
    for x in seq:
        if pred(x):
            return x
    return None


# ---- detection: the scenarios test_detect checks and bench_detect measures ---

FA_PROBES = int(os.environ.get("DETECT_FA_PROBES", "300"))
INTERVAL_MS = 120
TIMEOUT_MS = 100
NOISY_FAULTS = {"error_rate": 0.05, "error_status": 503, "latency_ms": 2,
                "latency_jitter_ms": 5, "latency_tail_ms": 40,
                "tail_prob": 0.05}


def detect_start(tag, names, extra=()):
    """vigil-sim with the named providers (kind openai, own key) and a
    vigild over them at INTERVAL_MS with the default thresholds."""
    tmp = tempfile.mkdtemp(prefix="vigil-detect-sim-")
    sim = Sim(tmp, ["%s:openai:sk-detect-%s" % (n, n) for n in names])
    v = Vigil(tag)
    v.write_conf([{"name": n, "kind": "openai", "base_url": sim.base(n),
                   "key": "sk-detect-%s" % n} for n in names],
                 ["sample_capacity = 65536"] + list(extra),
                 "%dms" % INTERVAL_MS, "%dms" % TIMEOUT_MS)
    v.start(names)
    return sim, v, tmp


def samples_seen(v, name):
    p = v.ring().get(name)
    return p["head"] if p else 0


def false_alarms(v, sim, name, probes, deadline_s):
    """Run name with NOISY_FAULTS until it has `probes` samples; return
    a dict of what happened (samples, failures, criticals, circuit opens,
    statuses seen)."""
    h0 = samples_seen(v, name)
    sim.fault(name, dict(NOISY_FAULTS, clear=True))
    statuses = set()
    end = time.monotonic() + deadline_s
    while samples_seen(v, name) - h0 < probes and time.monotonic() < end:
        try:
            p = v.integration()[name]
            statuses.add((p["status"], p["circuit"]))
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    sim.fault(name, {"clear": True})
    d = v.detail(name)
    al = v.alerts(name)
    return {"samples": samples_seen(v, name) - h0,
            "failures": sum(n for k, n in d["checks_total"].items()
                            if k != "ok"),
            "critical": [a for a in al if a["level"] == "critical"],
            "warnings": [a for a in al if a["level"] == "warning"],
            "circuit_opens": d["circuit_opens"],
            "statuses": sorted(statuses)}


def ramp(v, sim, name, healthy_s, steps, step_s):
    """Healthy for healthy_s, then error_rate k/steps for k = 1..steps,
    step_s each.  Returns the alerts raised (in id order) with the error
    rate in force when each was seen."""
    time.sleep(healthy_s)
    rates = []
    for k in range(1, steps + 1):
        rate = k / float(steps)
        sim.fault(name, {"error_rate": rate, "error_status": 503})
        rates.append((time.time_ns(), rate))
        time.sleep(step_s)
    time.sleep(1.0)
    al = sorted(v.alerts(name), key=lambda a: a["id"])

    def rate_at(ns):
        r = 0.0
        for t, x in rates:
            if t <= ns:
                r = x
        return r
    for a in al:
        a["rate_in_force"] = rate_at(a["at_ns"])
    d = v.detail(name)
    sim.fault(name, {"clear": True})
    return al, d
