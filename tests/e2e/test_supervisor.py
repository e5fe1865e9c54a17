#!/usr/bin/python3
"""End-to-end tests of vigild itself: --check-config, crash backoff and
permanent exits, and the control socket (permissions, every operation and
its effect, every error case, authorization by peer credentials, many
stalled clients), driven by Debian's python3-msgpack, an implementation
independent of vigild's msgpack-c.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_probing as tp  # noqa: E402  (the shared harness)
from test_probing import ok, wait_for, binpath, pid_alive  # noqa: E402

try:
    import msgpack  # noqa: F401
except ImportError:
    print("not ok - python3-msgpack is not installed (apt-get install "
          "python3-msgpack)")
    sys.exit(1)

KEY_A = "sk-sup-test-aaaa1111"
KEY_B = "sk-sup-test-bbbb2222"


# ---- --check-config ---------------------------------------------------------

def test_check_config(tmp):
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        # user: an existing one (a missing user is refused, see
        # test_privsep.py).
        f.write("[vigil]\ninterval = 30s\ntimeout = 10s\nuser = root\n"
                "shm_name = /vigil-check\n\n[provider \"openai\"]\n"
                "kind = openai\nbase_url = https://api.openai.com\n")
    r = subprocess.run([binpath("vigild"), "--check-config", "-c", good],
                       capture_output=True, text=True, timeout=10)
    ok(r.returncode == 0 and r.stdout.strip() == "configuration OK",
       "--check-config: a good file says configuration OK, status 0",
       (r.returncode, r.stdout, r.stderr))
    bad = {
        "unknown kind": "[provider \"x\"]\nkind = nosuch\n"
                        "base_url = http://h\n",
        "bad duration": "[vigil]\ninterval = soon\n",
        "unknown key": "[vigil]\nfrobnicate = 1\n",
        "timeout not below interval": "[vigil]\ninterval = 10s\n"
                                      "timeout = 20s\n",
        "fast interval refused": "[vigil]\ninterval = 1s\ntimeout = 500ms\n",
        "no section": "interval = 30s\n",
        "bad base_url": "[provider \"x\"]\nkind = openai\n"
                        "base_url = ftp://h\n",
    }
    for name, text in bad.items():
        path = os.path.join(tmp, "bad.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([binpath("vigild"), "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=10)
        lines = r.stderr.strip().splitlines()
        ok(r.returncode == 2 and len(lines) == 1 and
           re.search(re.escape(path) + r":\d+:", lines[0]) is not None,
           "--check-config: %s: one line with file:line, status 2" % name,
           (r.returncode, r.stderr))
    missing = os.path.join(tmp, "nonexistent.conf")
    r = subprocess.run([binpath("vigild"), "--check-config", "-c", missing],
                       capture_output=True, text=True, timeout=10)
    ok(r.returncode == 2 and missing in r.stderr,
       "--check-config: a missing file is named, status 2",
       (r.returncode, r.stderr))


# ---- crash backoff ---------------------------------------------------------

def test_backoff():
    """A prober that dies at once on every start is backed off (100 ms,
    doubling); one that exits 125 is not restarted."""
    h = tp.Harness("backoff")
    try:
        bindir = os.path.join(h.tmp, "bin")
        os.mkdir(bindir)
        vigild = os.path.join(bindir, "vigild")
        shutil.copy(binpath("vigild"), vigild)
        fake = os.path.join(bindir, "vigil-prober")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ncase \"$1\" in perm) exit 125;; "
                    "*) exit 3;; esac\n")
        os.chmod(fake, 0o755)
        h.write_conf([
            {"name": "crashy", "kind": "http",
             "base_url": "http://127.0.0.1:9"},
            {"name": "perm", "kind": "http",
             "base_url": "http://127.0.0.1:9"}])
        h.start(vigild=vigild)
        # (the spawner is the fake too and crashes alongside)
        wait_for(lambda: re.search(r"prober crashy: .* restarting in 1600 "
                                   r"ms", h.logtext()), 15)
        log = h.logtext()
        delays = [int(x) for x in re.findall(
            r"prober crashy: pid \d+ exited with status 3 after \d+ ms up; "
            r"restarting in (\d+) ms", log)]
        ok(delays[:5] == [100, 200, 400, 800, 1600],
           "a crashing prober is restarted after 100, 200, 400, 800, "
           "1600 ms", delays)
        perm = re.findall(r"prober perm: pid \d+ exited with status 125: "
                          r"a permanent error; not restarting", log)
        starts = len(re.findall(r"prober perm: pid \d+ exited", log))
        ok(len(perm) == 1 and starts == 1,
           "exit status 125 is permanent: logged once, not restarted",
           (perm, starts))
        ok(h.proc.poll() is None, "vigild keeps running")
        # A reload gives a child that gave up another chance: the fix
        # may be outside the config (a key file, a binary).
        os.kill(h.proc.pid, signal.SIGHUP)
        ok(wait_for(lambda: len(re.findall(
            r"prober perm: pid \d+ exited with status 125",
            h.logtext())) == 2, 10) and
           "reload: provider perm was down: starting its prober again" in
           h.logtext(), "reload restarts a permanently failed child once")
    finally:
        h.stop()


def test_handshake_and_stragglers():
    """A child that never answers configure is killed after 5 s and
    restarted; one that ignores SIGTERM is SIGKILLed at shutdown."""
    h = tp.Harness("straggler")
    try:
        bindir = os.path.join(h.tmp, "bin")
        os.mkdir(bindir)
        vigild = os.path.join(bindir, "vigild")
        shutil.copy(binpath("vigild"), vigild)
        fake = os.path.join(bindir, "vigil-prober")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ntrap '' TERM\nexec sleep 100\n")
        os.chmod(fake, 0o755)
        h.write_conf([{"name": "mute", "kind": "http",
                       "base_url": "http://127.0.0.1:9"}])
        h.start(vigild=vigild)
        ok(wait_for(lambda: re.search(
            r"prober mute: no configure reply within 5000 ms; killing",
            h.logtext()) and "restarting in 100 ms" in h.logtext(), 25),
           "a child that never answers configure is killed and restarted")
        def sleeping():
            out = []
            for k in tp.children_of(h.proc.pid):
                try:
                    with open("/proc/%d/cmdline" % k, "rb") as f:
                        if f.read().startswith(b"sleep"):
                            out.append(k)
                except OSError:
                    pass
            return out
        # The replacement has set its trap and exec'd sleep.
        kids = wait_for(sleeping, 5)
        h.proc.send_signal(signal.SIGTERM)
        try:
            rc = h.proc.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        ok(rc == 0 and "still running 3000 ms after SIGTERM; SIGKILL" in
           h.logtext(), "a child ignoring SIGTERM is SIGKILLed at shutdown",
           rc)
        ok(kids and not [k for k in kids if tp.pid_alive(k)],
           "no child is left after shutdown", kids)
    finally:
        h.stop()


MUTE_PROBER = r"""#!/usr/bin/python3
# Answers configure, then reads requests and never answers them;
# "closer" closes its control socket instead and lives on.
import os, struct, sys, time, msgpack
def rd(n):
    b = b""
    while len(b) < n:
        c = os.read(4, n - len(b))
        if not c:
            raise SystemExit(0)
        b += c
    return b
m = msgpack.unpackb(rd(struct.unpack(">I", rd(4))[0]), raw=False)
r = msgpack.packb({"id": m["id"], "ok": True, "result": {"pid": os.getpid()}})
os.write(4, struct.pack(">I", len(r)) + r)
if sys.argv[1] == "closer":
    os.close(4)
    time.sleep(100)
while True:
    rd(struct.unpack(">I", rd(4))[0])
"""


def test_child_timeout():
    """A prober that is up but does not answer a forwarded request: the
    client gets a timeout error, not a hang, and vigild goes on."""
    h = tp.Harness("mute")
    try:
        bindir = os.path.join(h.tmp, "bin")
        os.mkdir(bindir)
        vigild = os.path.join(bindir, "vigild")
        shutil.copy(binpath("vigild"), vigild)
        fake = os.path.join(bindir, "vigil-prober")
        with open(fake, "w") as f:
            f.write(MUTE_PROBER)
        os.chmod(fake, 0o755)
        h.write_conf([{"name": "mute", "kind": "http",
                       "base_url": "http://127.0.0.1:9"},
                      {"name": "closer", "kind": "http",
                       "base_url": "http://127.0.0.1:9"}])
        h.start(vigild=vigild, wait_providers=["mute"])
        ok(wait_for(lambda: re.search(
            r"prober closer: pid \d+ closed its control socket but still "
            r"runs; killing it", h.logtext()) and re.search(
            r"prober closer: pid \d+ killed by signal 9", h.logtext()), 10),
           "a child that closes its control socket is killed and "
           "restarted")
        r = h.call("probe_now", {"provider": "mute"})
        ok(err_code(r) == "timeout", "probe_now to a mute prober: timeout",
           r)
        r = h.call("pause", {"provider": "mute"})
        ok(err_code(r) == "timeout", "pause to a mute prober: timeout", r)
        ok(h.call("ping").get("ok"), "vigild answers after the timeouts")
    finally:
        h.stop()


def test_watchdog():
    """watchdog = 3s: a prober or the aggregator stopped (SIGSTOP) past
    it is killed and restarted, the log giving the age of its last beat;
    one stopped for less than the limit is left alone."""
    h = tp.Harness("watchdog")
    stopped = []
    try:
        h.write_conf([{"name": "a", "kind": "http",
                       "base_url": "http://127.0.0.1:9"},
                      {"name": "b", "kind": "http",
                       "base_url": "http://127.0.0.1:9"}],
                     extra="watchdog = 3s")
        h.start(wait_providers=["a", "b"])
        # Up for longer than the limit first: a new child is given that
        # long before it is judged.
        time.sleep(3.5)

        pb = h.providers(0)["b"]["pid"]
        os.kill(pb, signal.SIGSTOP)
        stopped.append(pb)
        time.sleep(1.5)
        os.kill(pb, signal.SIGCONT)
        stopped.remove(pb)

        pa = h.providers(0)["a"]["pid"]
        os.kill(pa, signal.SIGSTOP)
        stopped.append(pa)
        pat = (r"prober a: pid %d: last heartbeat (\d+) ms ago \(watchdog "
               r"3000 ms\): stopped or stuck; killing it" % pa)
        ok(wait_for(lambda: re.search(pat, h.logtext()), 10),
           "watchdog: a stopped prober is killed, the log gives its last "
           "beat", h.logtext()[-600:])
        m = re.search(pat, h.logtext())
        ok(m and 3000 <= int(m.group(1)) < 6000,
           "watchdog: it was killed between 3 and 6 s after its last beat",
           m and m.group(1))
        ok(wait_for(lambda: not pid_alive(pa), 5),
           "watchdog: the stopped prober is gone (reaped)")
        ok(wait_for(lambda: h.providers(0)["a"]["pid"] not in (0, pa), 10),
           "watchdog: a new prober runs for a")
        head = h.providers(0)["a"]["head"]
        ok(wait_for(lambda: h.providers(0)["a"]["head"] > head, 10),
           "watchdog: the new prober samples")
        ok(h.providers(0)["b"]["pid"] == pb and
           not re.search(r"prober b: pid %d: last heartbeat" % pb,
                         h.logtext()),
           "watchdog: a prober stopped for 1.5 s (under the limit) is "
           "left alone")

        ag = tp.role_pid(h, "vigil-aggregator")
        os.kill(ag, signal.SIGSTOP)
        stopped.append(ag)
        ok(wait_for(lambda: re.search(
            r"aggregator: pid %d: last heartbeat \d+ ms ago" % ag,
            h.logtext()) and
            tp.role_pid(h, "vigil-aggregator") not in (None, ag), 15),
           "watchdog: a stopped aggregator is killed and restarted",
           h.logtext()[-600:])
    finally:
        for p in stopped:
            try:
                os.kill(p, signal.SIGCONT)
            except OSError:
                pass
        h.stop()


def test_silence_webhook():
    """silence: alerts are recorded (flagged silenced) but not delivered to
    the webhook; an unsilenced provider's alerts are delivered."""
    import http.server
    import threading
    got = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            try:
                got.append(json.loads(self.rfile.read(n)))
            except ValueError:
                got.append(None)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass
    srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    h = tp.Harness("hook")
    try:
        h.sim = tp.Sim(h.tmp, ["b:openai:" + KEY_A, "c:openai:" + KEY_B])
        h.write_conf([
            {"name": "b", "kind": "openai", "base_url": h.sim.base("b"),
             "key": KEY_A},
            {"name": "c", "kind": "openai", "base_url": h.sim.base("c"),
             "key": KEY_B}],
            extra="webhook_url = http://127.0.0.1:%d/hook\n"
                  "webhook_timeout = 2s" % srv.server_address[1])
        h.start(wait_providers=["b", "c"])
        # The aggregator may still be starting (slow under ASan on a busy
        # machine): "unavailable" is the documented transient answer.
        last = {}

        def silence():
            last["r"] = h.call("silence", {"provider": "b",
                                           "duration": "10m",
                                           "reason": "maintenance window"})
            return last["r"].get("ok")
        wait_for(silence, 10)
        r = last["r"]
        ok(r.get("ok"), "silence b", r)
        wait_for(lambda: h.providers(0)["b"]["stats"][
            "silenced_until_ns"] > 0, 5)
        h.sim.fault("b", {"status": 500})
        h.sim.fault("c", {"status": 500})

        def provs(alerts):
            return {a.get("provider") for a in alerts if a}
        ok(wait_for(lambda: "c" in provs(got), 15),
           "an unsilenced provider's alert reaches the webhook",
           provs(got))
        al = wait_for(lambda: [a for a in h.call("alerts")["result"]
                               if a["provider"] == "b"], 10) or []
        ok(al and all(a["silenced"] for a in al),
           "the silenced provider's alerts are recorded, flagged silenced",
           al)
        ok("b" not in provs(got),
           "the silenced provider's alerts are not delivered", provs(got))
    finally:
        h.stop()
        srv.shutdown()
        srv.server_close()


# ---- sd_notify ---------------------------------------------------------------

def children_of(pid):
    """{pid: argv[0] and argv[1]} of the live processes whose parent is
    pid (probers forked by the spawner are re-parented to vigild)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out[int(d)] = b" ".join(argv[:2]).decode(errors="replace")
    return out


def test_log_level_reload():
    """A reload that changes only log_level restarts nobody: the probers,
    the spawner, the aggregator and vigil-api keep their pids, and each
    takes the new level (set_log_level) without an error."""
    h = tp.Harness("loglevel")
    try:
        names = ["l1", "l2"]
        provs = [{"name": n, "kind": "http",
                  "base_url": "http://127.0.0.1:9"} for n in names]
        h.write_conf(provs)
        h.start(wait_providers=names)
        ok(wait_for(lambda: len(children_of(h.proc.pid)) >= 5, 10),
           "log_level reload: two probers, the spawner, the aggregator "
           "and vigil-api are up", children_of(h.proc.pid))
        time.sleep(0.5)
        before = children_of(h.proc.pid)
        for level in ("debug", "warn"):
            h.write_conf(provs, "log_level = %s" % level)
            # (at warn, vigild does not log "reload done": ask for it)
            r = h.call("reload")
            ok(r.get("ok") is True, "log_level reload: reloaded to %s" %
               level, r)
            time.sleep(1.0)
            after = children_of(h.proc.pid)
            ok(after == before, "log_level reload to %s: every child "
               "keeps its pid" % level, (before, after))
        log = h.logtext()
        ok("settings changed: restarting" not in log and
           "restarting its prober" not in log,
           "log_level reload: nothing restarted",
           [ln for ln in log.splitlines() if "restart" in ln])
        ok("set_log_level:" not in log, "log_level reload: every child "
           "took set_log_level",
           [ln for ln in log.splitlines() if "set_log_level" in ln])
    finally:
        h.stop()


def test_notify():
    """READY=1 once the children started, RELOADING=1 and READY=1 around a
    reload, STOPPING=1 on SIGTERM, over $NOTIFY_SOCKET."""
    h = tp.Harness("notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(h.tmp, "notify.sock")
    ns.bind(path)
    ns.settimeout(10)
    msgs = []

    def wait_msg(word):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if any(word in m for m in msgs):
                return True
            try:
                msgs.append(ns.recv(4096).decode())
            except socket.timeout:
                break
        return any(word in m for m in msgs)
    try:
        h.sim = tp.Sim(h.tmp, ["a:openai:" + KEY_A])
        h.write_conf([{"name": "a", "kind": "openai",
                       "base_url": h.sim.base("a"), "key": KEY_A}])
        h.start(env={"NOTIFY_SOCKET": path})
        ok(wait_msg("READY=1") and h.all_up(["a"]),
           "sd_notify: READY=1 once the children are up", msgs)
        msgs.clear()
        os.kill(h.proc.pid, signal.SIGHUP)
        ok(wait_msg("RELOADING=1") and wait_msg("READY=1"),
           "sd_notify: RELOADING=1 then READY=1 on reload", msgs)
        msgs.clear()
        h.proc.send_signal(signal.SIGTERM)
        ok(wait_msg("STOPPING=1"), "sd_notify: STOPPING=1 on SIGTERM", msgs)
        ok(h.proc.wait(10) == 0, "vigild exits 0")
    finally:
        ns.close()
        h.stop()


# ---- the control socket ----------------------------------------------------

def raw_conn(h):
    return tp.ctl_connect(h.sock, 10)


def send(s, obj):
    s.sendall(tp.frame(obj))
    return tp.recv_frame(s)


def err_code(r):
    return (r.get("error") or {}).get("code") if not r.get("ok") else None


def still_works(h, name):
    try:
        r = h.call("ping", {}, 99)
        ok(r == {"id": 99, "ok": True, "result": {}}, name, r)
    except Exception as e:
        ok(False, name, e)


def test_socket_mode(h):
    st = os.stat(h.sock)
    ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660,
       "the control socket is mode 0660", oct(st.st_mode))


def test_read_ops(h):
    r = h.call("hello", {}, 5)
    ok(r.get("id") == 5 and r.get("ok") and
       r["result"].get("protocol") == 1 and
       isinstance(r["result"].get("version"), str),
       "hello: protocol 1 and a version", r)
    r = h.call("version")
    ok(r.get("ok") and r["result"]["protocol"] == 1, "version", r)
    r = h.call("ping")
    ok(r == {"id": 1, "ok": True, "result": {}}, "ping", r)
    r = h.call("providers")
    names = sorted(p["name"] for p in r.get("result", []))
    ok(r.get("ok") and names == ["a", "b"] and
       all(p["state"] == "up" and p["pid"] > 0 for p in r["result"]),
       "providers lists both, up, with pids", r)
    r = wait_for(lambda: (lambda x: x if x.get("ok") and all(
        p["last_check"] for p in x["result"]["providers"]) else None)(
        h.call("status")), 10) or h.call("status")
    ps = {p["name"]: p for p in r.get("result", {}).get("providers", [])}
    ok(sorted(ps) == ["a", "b"] and
       ps["a"]["last_check"]["outcome"] == "ok" and
       set(ps["a"]["windows"]) == {"1m", "5m", "15m"} and
       r["result"]["status"] in ("healthy", "degraded", "unhealthy",
                                 "unknown", "misconfigured"),
       "status: every provider with its last check and windows", r)
    r = wait_for(lambda: (lambda x: x if x.get("ok") and
                          x["result"]["points"] else None)(
        h.call("history", {"provider": "a"})), 10) or \
        h.call("history", {"provider": "a"})
    ok(r.get("ok") and r["result"]["provider"] == "a" and
       r["result"]["points"] and
       r["result"]["points"][-1]["outcome"] == "ok",
       "history: raw points of a provider", r.get("error") or
       len(r.get("result", {}).get("points", [])))
    r2 = h.call("history", {"provider": "a", "step": "1h"})
    ok(r2.get("ok") and 1 <= len(r2["result"]["points"]) <= 2,
       "history: a 1h step keeps one point per hour",
       r2.get("error") or len(r2["result"]["points"]))
    r = h.call("alerts", {"limit": 10})
    ok(r.get("ok") and isinstance(r["result"], list), "alerts: a list", r)


def test_probe_now(h):
    t0 = time.time_ns()
    r = h.call("probe_now", {"provider": "a"})
    ok(r.get("ok") and r["result"]["outcome"] == "ok" and
       r["result"]["wall_ns"] >= t0 and r["result"]["http_status"] == 200,
       "probe_now: a fresh sample in the reply", r)
    r = h.call("probe_now", {"provider": "all"})
    ok(r.get("ok") and sorted(r["result"]) == ["a", "b"] and
       all(v["ok"] and v["result"]["wall_ns"] >= t0
           for v in r["result"].values()),
       "probe_now all: one fresh sample per provider", r)
    ps = h.providers(64)
    ok(any(s["manual"] and s["wall_ns"] >= t0 for s in ps["a"]["samples"]),
       "probe_now: the manual sample is in the ring")


def test_pause_resume(h):
    r = h.call("pause", {"provider": "a"})
    ok(r == {"id": 1, "ok": True, "result": {}}, "pause a", r)
    time.sleep(0.4)
    p = h.providers(0)
    h1 = p["a"]["head"]
    hb = p["b"]["head"]
    time.sleep(1.2)
    p = h.providers(0)
    ok(p["a"]["paused"] and p["a"]["head"] == h1,
       "pause: no new samples, the directory says paused",
       (h1, p["a"]["head"], p["a"]["paused"]))
    ok(p["b"]["head"] > hb + 2, "pause: other providers keep probing")
    st = {x["name"]: x for x in h.call("status")["result"]["providers"]}
    ok(st["a"]["status"] == "paused", "status shows a paused", st["a"])
    r = h.call("resume", {"provider": "a"})
    ok(r.get("ok"), "resume a", r)
    ok(wait_for(lambda: h.providers(0)["a"]["head"] > h1 + 2, 10) and
       not h.providers(0)["a"]["paused"], "resume: samples again")


def test_set_interval(h):
    r = h.call("set_interval", {"provider": "b", "interval_ms": 1000})
    ok(r.get("ok"), "set_interval b 1000 ms", r)
    p = h.providers(0)
    ok(p["b"]["interval_ms"] == 1000, "set_interval: the directory shows it",
       p["b"]["interval_ms"])
    time.sleep(0.5)
    b0, a0 = h.providers(0)["b"]["head"], h.providers(0)["a"]["head"]
    time.sleep(2.5)
    p = h.providers(0)
    nb, na = p["b"]["head"] - b0, p["a"]["head"] - a0
    ok(nb <= 4 and na >= 8, "set_interval: b samples at 1 s, a at 200 ms",
       (nb, na))
    r = h.call("set_interval", {"provider": "b", "interval": "200ms"})
    ok(r.get("ok") and h.providers(0)["b"]["interval_ms"] == 200,
       "set_interval with a duration string", r)
    r = h.call("set_interval", {"provider": "all", "interval_ms": 200})
    ok(r.get("ok") and sorted(r["result"]) == ["a", "b"],
       "set_interval all: per provider results", r)


def test_silence(h):
    r = h.call("silence", {"provider": "a", "duration": "10m",
                           "reason": "provider maintenance"})
    ok(r.get("ok") and r["result"]["until_ns"] > time.time_ns(),
       "silence a for 10 minutes", r)
    until = r.get("result", {}).get("until_ns")
    got = wait_for(lambda: h.providers(0)["a"]["stats"][
        "silenced_until_ns"] > 0, 5)
    st = h.providers(0)["a"]["stats"]["silenced_until_ns"]
    ok(got and abs(st - until) < 1e6,
       "silence: the aggregator records it", (st, until))
    r = h.call("unsilence", {"provider": "a"})
    ok(r.get("ok"), "unsilence a", r)
    ok(wait_for(lambda: h.providers(0)["a"]["stats"][
        "silenced_until_ns"] == 0, 5), "unsilence: cleared")


def test_errors(h):
    s = raw_conn(h)
    try:
        r = send(s, {"id": 3, "op": "frobnicate", "args": {}})
        ok(err_code(r) == "unknown_op" and r["id"] == 3,
           "unknown op: structured error", r)
        r = send(s, {"id": 4, "op": "ping"})
        ok(r == {"id": 4, "ok": True, "result": {}},
           "unknown op: the connection stays usable", r)
        cases = [
            ({"op": "ping"}, "bad_request", "no id"),
            ({"id": "x", "op": "ping"}, "bad_request", "id not a uint"),
            ({"id": 5, "op": 7}, "bad_request", "op not a string"),
            ({"id": 5}, "bad_request", "no op"),
            ({"id": 5, "op": "ping", "args": [1]}, "bad_request",
             "args not a map"),
            ({"id": 5, "op": "pause", "args": {"provider": 5}},
             "bad_argument", "provider not a string"),
            ({"id": 5, "op": "pause", "args": {}}, "missing_argument",
             "provider missing"),
            ({"id": 5, "op": "pause", "args": {"provider": "zzz"}},
             "not_found", "unknown provider"),
            ({"id": 5, "op": "set_interval", "args": {"provider": "a"}},
             "missing_argument", "interval missing"),
            ({"id": 5, "op": "set_interval",
              "args": {"provider": "a", "interval_ms": 5}},
             "bad_argument", "interval below the minimum"),
            ({"id": 5, "op": "set_interval",
              "args": {"provider": "a", "interval_ms": -5}},
             "bad_argument", "negative interval"),
            ({"id": 5, "op": "set_interval",
              "args": {"provider": "a", "interval": "soon"}},
             "bad_argument", "interval not a duration"),
            ({"id": 5, "op": "silence", "args": {"provider": "a"}},
             "missing_argument", "silence without a duration"),
            ({"id": 5, "op": "silence",
              "args": {"provider": "a", "until_ns": 1}},
             "bad_argument", "silence until the past"),
            ({"id": 5, "op": "history", "args": {"provider": "all"}},
             "bad_argument", "history of all"),
            ({"id": 5, "op": "history",
              "args": {"provider": "a", "step": "7m"}},
             "bad_argument", "history with a bad step"),
            ({"id": 5, "op": "alerts", "args": {"level": "loud"}},
             "bad_argument", "alerts with a bad level"),
        ]
        for req, code, name in cases:
            r = send(s, req)
            ok(err_code(r) == code and isinstance(
               r["error"].get("message"), str),
               "%s: error %s" % (name, code), r)
        r = send(s, {"id": 6, "op": "ping"})
        ok(r.get("ok"), "after every bad request the connection works", r)

        # A whole frame whose body is not one msgpack map.
        for name, body in (("random bytes", random.Random(1).randbytes(64)),
                           ("an array", tp.frame([1, 2])[4:]),
                           ("two maps", tp.frame({})[4:] * 2)):
            s.sendall(struct.pack(">I", len(body)) + body)
            r = tp.recv_frame(s)
            ok(err_code(r) == "bad_frame" and r["id"] == 0,
               "a frame holding %s: bad_frame" % name, r)
        r = send(s, {"id": 7, "op": "ping"})
        ok(r.get("ok"), "after bad frames the connection works", r)
    finally:
        s.close()

    # Over the maximum: refused before anything is buffered, then closed.
    s = raw_conn(h)
    try:
        s.sendall(struct.pack(">I", 2 << 20) + b"\x80")
        r = tp.recv_frame(s)
        ok(err_code(r) == "frame_too_large", "a frame over 1 MiB: error", r)
        ok(s.recv(16) == b"", "a frame over 1 MiB: connection closed")
    finally:
        s.close()
    still_works(h, "after an oversized frame a new connection works")

    # Zero length.
    s = raw_conn(h)
    try:
        s.sendall(struct.pack(">I", 0))
        r = tp.recv_frame(s)
        ok(err_code(r) == "frame_too_large", "a zero-length frame: error", r)
    finally:
        s.close()

    # Truncated: half a frame, then the client goes away.
    s = raw_conn(h)
    body = tp.frame({"id": 1, "op": "status"})
    s.sendall(body[:len(body) // 2])
    s.close()
    still_works(h, "after a truncated frame a new connection works")

    # Random bytes, unframed.
    s = raw_conn(h)
    try:
        s.sendall(random.Random(2).randbytes(4096))
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()
    still_works(h, "after random bytes a new connection works")
    ok(h.proc.poll() is None, "vigild survived every bad client")


def test_authorization(h):
    if os.geteuid() != 0:
        print("ok - authorization tests need root (skipped)")
        return
    import grp
    gid = grp.getgrnam("nogroup").gr_gid
    st = os.stat(h.sock)
    ok(st.st_gid == gid, "the socket belongs to read_group", st.st_gid)

    def member():
        return {"status": h.call("status").get("ok"),
                "pause": h.call("pause", {"provider": "a"}),
                "reload": h.call("reload")}
    r = tp.as_user(member, 65534, gid)
    ok(r.get("status") is True, "a read_group member can read", r)
    ok(err_code(r.get("pause", {})) == "forbidden" and
       err_code(r.get("reload", {})) == "forbidden",
       "a read_group member cannot mutate", r)
    ok(not h.providers(0)["a"]["paused"], "the refused pause did nothing")
    ok(re.search(r"pause a refused: uid 65534 pid \d+", h.logtext()),
       "the refused mutation is logged with uid and pid")

    # Outside the group: the socket mode refuses at connect...
    def outsider():
        try:
            s = tp.ctl_connect(h.sock)
        except PermissionError:
            return {"refused": "connect"}
        try:
            # vigild may have refused and closed before we write.
            try:
                s.sendall(tp.frame({"id": 1, "op": "status"}))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return tp.recv_frame(s)
        finally:
            s.close()
    r = tp.as_user(outsider, 54321, 54321)
    ok(r.get("refused") == "connect", "a non-member cannot connect", r)
    # ...and vigild itself refuses too, should the mode be loosened.
    os.chmod(h.sock, 0o666)
    try:
        r = tp.as_user(outsider, 54321, 54321)
        ok(err_code(r) == "forbidden" and r.get("id") == 0,
           "a non-member is refused by vigild at connect", r)
        # Whole, or, within a second of another refusal, counted with
        # the last refused uid when that second ends.
        ok(wait_for(lambda: re.search(r"refused uid 54321 pid \d+",
                                      h.logtext()), 3),
           "the refusal is logged")
    finally:
        os.chmod(h.sock, 0o660)


def test_many_clients(h):
    """100 connections, half stalled mid-frame, half idle: probing and
    other clients go on."""
    conns = []
    try:
        body = tp.frame({"id": 1, "op": "status"})
        for i in range(100):
            s = raw_conn(h)
            if i % 2 == 0:
                s.sendall(body[:5])
            conns.append(s)
        a0 = h.providers(0)["a"]["head"]
        t0 = time.time_ns()
        r = h.call("probe_now", {"provider": "b"})
        ok(r.get("ok") and r["result"]["wall_ns"] >= t0,
           "100 stalled connections: another client is served", r)
        ok(wait_for(lambda: h.providers(0)["a"]["head"] > a0 + 3, 10),
           "100 stalled connections: probing goes on")
    finally:
        for s in conns:
            s.close()


def test_second_vigild(h):
    """A second vigild with the same config refuses to start and leaves
    the running one's segment and socket alone."""
    before = h.providers(0)
    # Another listen port, so that the control socket is what refuses.
    second = os.path.join(h.tmp, "second.conf")
    with open(h.conf) as f:
        text = f.read()
    with open(second, "w") as f:
        f.write(text.replace("listen = 127.0.0.1:%d" % h.listen_port,
                             "listen = 127.0.0.1:%d" % tp.free_port()))
    r = subprocess.run([binpath("vigild"), "-c", second],
                       capture_output=True, text=True, timeout=10)
    ok(r.returncode == 1 and "is in use: is another vigild running?" in
       r.stderr, "a second vigild refuses to start", (r.returncode,
                                                      r.stderr))
    after = h.providers(0)
    ok(os.path.exists(h.sock) and after and
       {n: p["pid"] for n, p in after.items()} ==
       {n: p["pid"] for n, p in before.items()} and
       h.call("ping").get("ok"),
       "the running vigild keeps its segment and socket")


def test_reload_op(h):
    r = h.call("reload")
    ok(r == {"id": 1, "ok": True, "result": {}}, "reload: ok", r)
    with open(h.conf) as f:
        good = f.read()
    with open(h.conf, "a") as f:
        f.write("\n[vigil]\ninterval = forever\n")
    try:
        r = h.call("reload")
        ok(err_code(r) == "config" and
           re.search(re.escape(h.conf) + r":\d+:", r["error"]["message"]),
           "reload with a bad config: error config with file:line", r)
    finally:
        with open(h.conf, "w") as f:
            f.write(good)
    ok(h.call("ping").get("ok"), "vigild runs on after a refused reload")


def test_shutdown_op(h):
    kids = tp.children_of(h.proc.pid)
    r = h.call("shutdown")
    ok(r == {"id": 1, "ok": True, "result": {}}, "shutdown: ok", r)
    try:
        rc = h.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "shutdown: vigild exits 0", rc)
    ok(not [k for k in kids if tp.pid_alive(k)] and
       not os.path.exists(h.sock) and
       not os.path.exists("/dev/shm" + h.shm),
       "shutdown: children, socket and segment are gone")


def main():
    tmp = tp.Harness("check").tmp
    try:
        test_check_config(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        test_backoff()
    except Exception as e:
        ok(False, "backoff harness", e)
    for t in (test_notify, test_log_level_reload,
              test_handshake_and_stragglers,
              test_child_timeout, test_silence_webhook, test_watchdog):
        try:
            t()
        except Exception as e:
            ok(False, "%s harness" % t.__name__, e)

    h = tp.Harness("ctl")
    with tp.guarded("harness", h):
        os.chmod(h.tmp, 0o755)
        h.sim = tp.Sim(h.tmp, ["a:openai:" + KEY_A, "b:openai:" + KEY_B])
        extra = "read_group = nogroup" if os.geteuid() == 0 else ""
        h.write_conf([
            {"name": "a", "kind": "openai", "base_url": h.sim.base("a"),
             "key": KEY_A},
            {"name": "b", "kind": "openai", "base_url": h.sim.base("b"),
             "key": KEY_B}], extra=extra)
        h.start(wait_providers=["a", "b"])
        test_socket_mode(h)
        test_read_ops(h)
        test_probe_now(h)
        test_pause_resume(h)
        test_set_interval(h)
        test_silence(h)
        test_errors(h)
        test_authorization(h)
        test_many_clients(h)
        test_second_vigild(h)
        test_reload_op(h)
        test_shutdown_op(h)
    return 1 if tp.failures else 0


if __name__ == "__main__":
    sys.exit(main())
