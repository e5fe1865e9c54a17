#!/usr/bin/python3
"""The fault matrix (issue 8): every process of vigil killed, stopped and
crash-looped, and every way a provider can misbehave.

Process faults, for each of vigild, a prober, the aggregator and
vigil-api: SIGKILL; SIGSTOP for longer than its heartbeat limit, then
SIGCONT; a crash loop (killed again as soon as it is back).  Expected: a
child is restarted with growing backoff; the others keep working (the
other probers' samples keep arriving); vigil-api reports stale data as
stale, never as fresh, while the aggregator is stopped; when vigild is
SIGKILLed its children exit within 2 s, and a new vigild starts over the
stale segment with the history kept in state_dir.

Provider faults from vigil-sim (and a self-signed TLS server here): hang,
reset, slow drip, a 10 MB body, invalid TLS, an unresolvable name, each
classified, the prober staying within its memory bound.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (ok, wait_for, pid_alive, role_pid,  # noqa: E402
                     http_get, rss_kb)

KEY = "sk-fault-test-0000"
# A prober's resident set while answering a 10 MB body: the body is cut
# at 1 MiB (PROBE_BODY_MAX), so it stays far below this.
PROBER_RSS_MAX_KB = 48 * 1024
PROBER_RSS_MAX_KB_ASAN = 256 * 1024


# ---- helpers ---------------------------------------------------------------

def heads(h):
    return {n: p["head"] for n, p in h.providers(0).items()}


def integ(h):
    st, js = http_get(h.listen_port, "/health/integration")
    if st != 200 or not isinstance(js, dict):
        return None
    js["by_name"] = {p["name"]: p for p in js.get("providers", [])}
    return js


def still_sampling(h, names, before, n=3, timeout=10):
    """True once each of names has n samples more than in before."""
    return wait_for(lambda: (lambda c: c and all(
        c.get(x, 0) >= before.get(x, 0) + n for x in names))(heads(h)),
        timeout)


def restart_delays(h, label):
    """The restart delays vigild logged for `label` (e.g. prober a)."""
    return [int(x) for x in re.findall(
        re.escape(label) + r": pid \d+ [^\n]*?restarting in (\d+) ms",
        h.logtext())]


def crash_loop(h, label, getpid, n=4):
    """Kill the child each time it is back; return its pids and delays."""
    pids = []
    before = len(restart_delays(h, label))
    for _ in range(n):
        pid = wait_for(lambda: (lambda p: p if p and p not in pids
                                else None)(getpid()), 15)
        if not pid:
            break
        pids.append(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: len(restart_delays(h, label)) >= before + len(pids),
             10)
    return pids, restart_delays(h, label)[before:]


def grows(delays):
    return len(delays) >= 3 and all(b > a for a, b in
                                    zip(delays, delays[1:]))


# ---- process faults ----------------------------------------------------------

def test_prober_faults(h):
    a0 = h.providers(0)["a"]
    # SIGKILL
    os.kill(a0["pid"], signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p and p["pid"] not in
                            (0, a0["pid"]) else None)(
        h.providers(0).get("a")), 10)
    ok(new is not None, "prober SIGKILL: restarted with a new pid")
    b = heads(h)
    ok(still_sampling(h, ["a", "b", "c"], b),
       "prober SIGKILL: it and the others sample on")

    # SIGSTOP past 3 intervals (600 ms), then SIGCONT.
    pid = h.providers(0)["a"]["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        ok(wait_for(lambda: (lambda j: j and j["by_name"]["a"]["stale"])(
            integ(h)), 10), "prober SIGSTOP: vigil-api says a is stale")
        j = integ(h)
        ok(j and not j["by_name"]["b"]["stale"] and
           not j["by_name"]["c"]["stale"] and not j["aggregator_stale"],
           "prober SIGSTOP: the others are not stale",
           j and {n: p["stale"] for n, p in j["by_name"].items()})
        b = heads(h)
        ok(still_sampling(h, ["b", "c"], b),
           "prober SIGSTOP: the other probers' samples keep arriving")
        d = h.call("status")
        st = {p["name"]: p for p in d.get("result", {}).get("providers",
                                                              [])}
        ok(st.get("a", {}).get("stale") is True,
           "prober SIGSTOP: vigilctl status says a is stale", st.get("a"))
    finally:
        os.kill(pid, signal.SIGCONT)
    b = heads(h)
    ok(still_sampling(h, ["a"], b) and wait_for(
        lambda: (lambda j: j and not j["by_name"]["a"]["stale"])(integ(h)),
        10), "prober SIGCONT: a samples again and is fresh")

    # Crash loop: killed as soon as it is back.
    pids, delays = crash_loop(
        h, "prober a", lambda: h.providers(0).get("a", {}).get("pid"))
    ok(len(pids) == 4 and grows(delays),
       "prober crash loop: restarted with growing backoff", delays)
    b = heads(h)
    ok(still_sampling(h, ["b", "c"], b),
       "prober crash loop: the other probers sample on")
    ok(wait_for(lambda: (lambda p: p and p["pid"] not in [0] + pids)(
        h.providers(0).get("a")), 15) and still_sampling(h, ["a"],
                                                         heads(h), 2, 15),
       "prober crash loop: it comes back and samples once left alone")


def test_aggregator_faults(h):
    pid = role_pid(h, "vigil-aggregator")
    ok(pid is not None, "the aggregator runs")
    st, js = http_get(h.listen_port, "/health")
    ok(st == 200 and js["status"] == "ok", "/health 200 before", (st, js))

    # SIGSTOP past the 5 s heartbeat limit.
    os.kill(pid, signal.SIGSTOP)
    try:
        got = wait_for(lambda: http_get(h.listen_port, "/health")[0] ==
                       503, 12, 0.2)
        st, js = http_get(h.listen_port, "/health")
        ok(got and st == 503 and js.get("status") == "unavailable",
           "aggregator SIGSTOP: /health 503", (st, js))
        j = integ(h)
        ok(j is not None and j["aggregator_stale"] is True and
           j["status"] == "unknown" and
           all(p["stale"] is True for p in j["providers"]),
           "aggregator SIGSTOP: /health/integration marks everything "
           "stale, status unknown",
           j and (j["aggregator_stale"], j["status"],
                  [p["stale"] for p in j["providers"]]))
        st, js = http_get(h.listen_port, "/health/integration/providers/b")
        ok(st == 200 and js.get("stale") is True,
           "aggregator SIGSTOP: one provider's view is stale too",
           (st, js and js.get("stale")))
        b = heads(h)
        ok(still_sampling(h, ["a", "b", "c"], b),
           "aggregator SIGSTOP: probers keep writing samples")
    finally:
        os.kill(pid, signal.SIGCONT)
    ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200, 10)
       and wait_for(lambda: (lambda j: j and not j["aggregator_stale"] and
                             not any(p["stale"] for p in j["providers"]))(
           integ(h)), 10),
       "aggregator SIGCONT: fresh again")

    # SIGKILL
    pid = role_pid(h, "vigil-aggregator")
    os.kill(pid, signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p and p != pid else None)(
        role_pid(h, "vigil-aggregator")), 10)
    ok(new is not None and "aggregator: pid %d killed by signal 9" % pid
       in h.logtext(), "aggregator SIGKILL: restarted, the log says why")
    ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200, 10),
       "aggregator SIGKILL: /health 200 again")
    ok(wait_for(lambda: (lambda j: j and all(
        p["last_check"] and p["updated_at"] and not p["stale"]
        for p in j["providers"]))(integ(h)), 10),
       "aggregator SIGKILL: providers aggregated again")

    # Crash loop.
    pids, delays = crash_loop(h, "aggregator",
                              lambda: role_pid(h, "vigil-aggregator"))
    ok(len(pids) == 4 and grows(delays),
       "aggregator crash loop: restarted with growing backoff", delays)
    b = heads(h)
    ok(still_sampling(h, ["a", "b", "c"], b),
       "aggregator crash loop: probers sample on")
    ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200, 20),
       "aggregator crash loop: healthy once left alone")


def test_api_faults(h):
    port = h.listen_port
    # SIGKILL: vigild keeps the listening socket, the new child serves it.
    pid = role_pid(h, "vigil-api")
    os.kill(pid, signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p and p != pid else None)(
        role_pid(h, "vigil-api")), 10)
    ok(new is not None, "vigil-api SIGKILL: restarted with a new pid")
    ok(wait_for(lambda: http_get(port, "/health")[0] == 200, 10),
       "vigil-api SIGKILL: the same port serves again")

    # SIGSTOP: probing and aggregation go on; it answers after SIGCONT.
    pid = role_pid(h, "vigil-api")
    os.kill(pid, signal.SIGSTOP)
    try:
        b = heads(h)
        ok(still_sampling(h, ["a", "b", "c"], b),
           "vigil-api SIGSTOP: probers keep sampling")
        r = h.call("status")
        ok(r.get("ok") and not r["result"].get("aggregator_stale", False),
           "vigil-api SIGSTOP: vigild and the aggregator answer", r.get(
               "error"))
    finally:
        os.kill(pid, signal.SIGCONT)
    st, js = http_get(port, "/health", 10)
    ok(st == 200, "vigil-api SIGCONT: serves again", (st, js))

    # Crash loop.
    pids, delays = crash_loop(h, "api", lambda: role_pid(h, "vigil-api"))
    ok(len(pids) == 4 and grows(delays),
       "vigil-api crash loop: restarted with growing backoff", delays)
    ok(wait_for(lambda: http_get(port, "/health")[0] == 200, 20),
       "vigil-api crash loop: serves once left alone")


def test_vigild_stop(h):
    os.kill(h.proc.pid, signal.SIGSTOP)
    try:
        b = heads(h)
        ok(still_sampling(h, ["a", "b", "c"], b),
           "vigild SIGSTOP: probers keep sampling")
        ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200,
                    5), "vigild SIGSTOP: vigil-api serves, aggregator fresh")
    finally:
        os.kill(h.proc.pid, signal.SIGCONT)
    r = h.call("ping")
    ok(r.get("ok"), "vigild SIGCONT: the control socket answers", r)


def history_points(h, name):
    st, js = http_get(h.listen_port, "/health/integration/history?"
                      "provider=%s&from=0" % name)
    if st != 200:
        return []
    for p in js.get("providers", []):
        if p["name"] == name:
            return p["points"]
    return []


def fresh_up(h, names=("a", "b", "c")):
    """The restarted vigild's own children are up: the control socket and
    the segment may still be the killed one's for a moment."""
    def up():
        kids = set(harness.children_of(h.proc.pid))
        ps = h.providers(0)
        return (all(n in ps and ps[n]["pid"] in kids for n in names) and
                role_pid(h, "vigil-aggregator") and
                role_pid(h, "vigil-api") and
                http_get(h.listen_port, "/health")[0] == 200)
    return wait_for(up, 15)


def describe(pids):
    out = []
    for k in pids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
            with open("/proc/%d/stat" % k) as f:
                st = f.read().split(")")[-1].split()[:2]
            out.append((k, cmd, st))
        except OSError:
            out.append((k, "gone"))
    return out


def kill_vigild(h, what):
    kids = harness.children_of(h.proc.pid)
    os.kill(h.proc.pid, signal.SIGKILL)
    h.proc.wait()
    gone = wait_for(lambda: not [k for k in kids if pid_alive(k)], 2.0,
                    0.02)
    left = describe([k for k in kids if pid_alive(k)])
    ok(len(kids) >= 5 and gone, "%s: every child exits within 2 s "
       "(no orphans)" % what, (len(kids), left))
    for k in kids:
        wait_for(lambda: not pid_alive(k), 5)
    for k in left:
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass


def test_vigild_kill(h):
    # Something worth keeping: history points, saved at exit (SIGTERM by
    # PR_SET_PDEATHSIG) or by the last periodic snapshot.
    wait_for(lambda: len(history_points(h, "a")) >= 5, 10)
    before = history_points(h, "a")
    ok(len(before) >= 5, "history exists before the kill", len(before))
    kill_vigild(h, "vigild SIGKILL")
    ok(os.path.exists("/dev/shm" + h.shm),
       "vigild SIGKILL: the segment is left behind (stale)")
    # Restart over the stale segment and the stale control socket.
    h.log.close()
    h.start()
    ok(fresh_up(h) and h.proc.poll() is None,
       "restarted vigild runs over the stale segment and socket")
    ok(still_sampling(h, ["a", "b", "c"], {}, 3),
       "restarted vigild: every prober samples")
    after = wait_for(lambda: (lambda x: x if len(x) > len(before) else
                              None)(history_points(h, "a")), 10) or \
        history_points(h, "a")
    lost = sorted(set(p["unix"] for p in before) -
                  set(p["unix"] for p in after))
    ok(before and not lost,
       "restarted vigild: the history from before the kill is kept",
       (len(before), len(after), lost[:5]))

    # vigild crash loop: killed and restarted three times.
    for i in range(3):
        kill_vigild(h, "vigild crash loop %d" % (i + 1))
        h.log.close()
        h.start()
        fresh_up(h)
    ok(still_sampling(h, ["a", "b", "c"], {}, 3) and
       wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200, 10),
       "vigild crash loop: it comes up clean every time")
    ok(len(history_points(h, "a")) >= len(before),
       "vigild crash loop: history survives every restart")


# ---- provider faults ---------------------------------------------------------

class TLSServer:
    """A TLS server on 127.0.0.1 with a fresh self-signed certificate,
    answering 200 to anything: the client must refuse the certificate."""

    def __init__(self, tmp):
        self.cert = os.path.join(tmp, "cert.pem")
        key = os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", self.cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.stopping = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            c.settimeout(2)
            self.handshakes += 1
            try:
                s = self.ctx.wrap_socket(c, server_side=True)
                s.recv(4096)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                s.close()
            except (OSError, ssl.SSLError):
                c.close()

    def stop(self):
        self.stopping = True
        self.t.join(2)
        self.sock.close()


def test_provider_faults():
    h = harness.Harness("pfault")
    tls = None
    try:
        names = ["hang", "reset", "drip", "big", "good"]
        h.sim = harness.Sim(h.tmp, ["%s:openai:%s" % (n, KEY) for n in names],
                            {"hang": {"hang": True},
                        "reset": {"reset": True},
                        "drip": {"body_bytes": 4000,
                                 "drip_bytes_per_s": 500},
                        "big": {"body_bytes": 10 << 20}})
        tls = TLSServer(h.tmp)
        provs = [{"name": n, "kind": "openai", "base_url": h.sim.base(n),
                  "key": KEY} for n in names]
        provs.append({"name": "tls", "kind": "http",
                      "base_url": "https://127.0.0.1:%d" % tls.port})
        provs.append({"name": "dns", "kind": "http",
                      "base_url": "http://nonexistent.invalid"})
        h.write_conf(provs, interval="1s", timeout="800ms")
        h.start(wait_providers=[p["name"] for p in provs])
        want = {"hang": ("timeout",), "reset": ("other", "connect"),
                "drip": ("timeout", "bad_response"),
                "big": ("bad_response",), "tls": ("tls",),
                "dns": ("dns",), "good": ("ok",)}

        def settled():
            ps = h.providers(8)
            return ps if all(len(ps.get(n, {}).get("samples", [])) >= 3
                             for n in want) else None
        ps = wait_for(settled, 20) or h.providers(8)
        for n, o in want.items():
            got = [s["outcome"] for s in ps.get(n, {"samples": []})[
                "samples"]]
            ok(got and all(x in o for x in got),
               "provider fault %s: every sample is %s" % (n, "/".join(o)),
               got)
        errs = [s["error"] for s in ps["big"]["samples"]]
        ok(errs and all(e == "body:too_big" for e in errs),
           "provider fault big (10 MB): error body:too_big", errs)
        ok(tls.handshakes >= 1, "the TLS server saw the prober",
           tls.handshakes)
        lim = PROBER_RSS_MAX_KB_ASAN if "asan" in harness.BUILD else \
            PROBER_RSS_MAX_KB
        rss = {n: rss_kb(ps[n]["pid"]) for n in want}
        ok(all(v is not None and v < lim for v in rss.values()),
           "every prober under a fault stays below %d MiB RSS" %
           (lim // 1024), rss)
        ok(h.proc.poll() is None and all(
            ps[n]["restarts"] == 0 for n in want),
           "no prober crashed on a provider fault",
           {n: ps[n]["restarts"] for n in want})
        # The sim's 10 MB answers are cut: it saw the client leave.
        sim = json.load(__import__("urllib.request").request.urlopen(
            "http://127.0.0.1:%d/_sim/big" % h.sim.port, timeout=5))
        ok(sim.get("counters", sim).get("requests", 0) >= 3,
           "the 10 MB provider was asked", sim.get("counters"))
    finally:
        if tls is not None:
            tls.stop()
        h.stop()


def main():
    h = harness.Harness("faults")
    with harness.guarded("harness", h):
        h.sim = harness.Sim(h.tmp, ["%s:openai:%s" % (n, KEY)
                                    for n in ("a", "b", "c")])
        h.write_conf([{"name": n, "kind": "openai",
                       "base_url": h.sim.base(n), "key": KEY}
                      for n in ("a", "b", "c")],
                     extra="persist_interval = 1s")
        h.start(wait_providers=["a", "b", "c"])
        ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200,
                    10), "vigil-api serves /health")
        test_prober_faults(h)
        test_aggregator_faults(h)
        test_api_faults(h)
        test_vigild_stop(h)
        test_vigild_kill(h)
    with harness.guarded("provider faults harness"):
        test_provider_faults()
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
