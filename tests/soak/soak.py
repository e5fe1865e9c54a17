#!/usr/bin/python3
"""soak.py - vigil under load and faults for a long time (issue 8).

    VIGIL_BUILD=build /usr/bin/python3 tests/soak/soak.py \
        [--minutes 30] [--providers 50] [--csv build/soak/soak.csv] \
        [--png build/soak/soak.png] [--seed 1]

vigild with N providers at a 1 s interval against vigil-sim, whose
faults change every 20 s (hang, reset, 500s, garbage, slow drip,
latency) on a tenth of the providers; vigil-api under continuous wrk load
(if wrk is installed) and 8 SSE clients; one prober SIGKILLed at random
every 15 s.  Every 10 s the RSS and open descriptors of every process
and the segment's usage go into a CSV.  The run fails (exit 1) when:

  * a series grows without bound: its least-squares slope over the second
    half of the run, projected over that half, exceeds max(1 MiB, 5 %)
    for RSS or 2 for descriptors (vigild, aggregator, vigil-api, the
    largest prober);
  * a sample is lost outside an injected fault: two consecutive samples
    of a provider further apart than 2.5 intervals, when neither a fault
    nor a kill of its prober was active (plus 5 s) in between;
  * a process of vigil dies that the soak did not kill.

A summary (JSON) is printed at the end and written next to the CSV.
The plot is tests/soak/plot.py CSV PNG (gnuplot).
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import harness  # noqa: E402  (the shared harness)

KIND_KEYS = [("openai", "sk-soak-openai"), ("anthropic", "sk-ant-soak"),
             ("google", "AIza-soak"), ("deepseek", "sk-soak-ds"),
             ("qwen", "sk-soak-qwen"), ("http", None)]
FAULTS = [("hang", {"hang": True}), ("reset", {"reset": True}),
          ("5xx", {"status": 500}), ("garbage", {"garbage": True}),
          ("drip", {"body_bytes": 3000, "drip_bytes_per_s": 1000}),
          ("latency", {"latency_ms": 300, "latency_jitter_ms": 200})]
ROLES = ("vigild", "aggregator", "api", "prober_max", "sim")
JUDGED = ("vigild", "aggregator", "api", "prober_max")
WRK_LUA = """
local paths = {"/health", "/health/integration", "/metrics",
               "/health/integration/providers/p000",
               "/health/integration/history?step=1m"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def proc_stat(pid):
    """(rss_kb, fds) of pid, or (None, None)."""
    try:
        rss = None
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    rss = int(ln.split()[1])
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None, None


class SSEClient(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.events = 0
        self.connects = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 5)
                s.settimeout(1)
                self.connects += 1
                s.sendall(b"GET /health/integration/events HTTP/1.1\r\n"
                          b"Host: x\r\nAccept: text/event-stream\r\n\r\n")
                while not self.stop:
                    try:
                        b = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not b:
                        break
                    self.events += b.count(b"\nevent: ")
                s.close()
            except OSError:
                time.sleep(0.5)


def slope(xs, ys):
    n = len(xs)
    if n < 3:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den \
        if den else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--providers", type=int, default=50)
    ap.add_argument("--csv", default=os.path.join(harness.TOP, "build", "soak",
                                                  "soak.csv"))
    ap.add_argument("--png", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every", type=float, default=10.0,
                    help="seconds between two samples of the processes")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    duration = args.minutes * 60
    interval = 1.0
    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)

    names = ["p%03d" % i for i in range(args.providers)]
    kinds = {n: KIND_KEYS[i % len(KIND_KEYS)] for i, n in enumerate(names)}
    h = harness.Harness("soak")
    wrk = None
    sse = []
    problems = []
    faults_by_type = {}
    windows = {n: [] for n in names}      # (start, end) monotonic seconds
    kills = 0
    seen = {n: set() for n in names}       # sample mono_ns
    restarts_seen = {}
    rows = []
    try:
        specs = ["%s:%s:%s" % (n, kinds[n][0], kinds[n][1] or "")
                 for n in names]
        h.sim = harness.Sim(h.tmp, specs)
        h.write_conf([{"name": n, "kind": kinds[n][0],
                       "base_url": h.sim.base(n), "key": kinds[n][1]}
                      for n in names], interval="1s", timeout="800ms",
                     extra="max_providers = %d" % max(64, args.providers))
        h.start(wait_providers=names)
        port = h.listen_port
        if not harness.wait_for(lambda: harness.role_pid(h, "vigil-api"), 10):
            raise RuntimeError("vigil-api did not start")
        for _ in range(8):
            c = SSEClient(port)
            c.start()
            sse.append(c)
        if shutil.which("wrk"):
            lua = os.path.join(h.tmp, "rotate.lua")
            with open(lua, "w") as f:
                f.write(WRK_LUA)
            wrk = subprocess.Popen(
                ["wrk", "-t1", "-c16", "-d%ds" % int(duration + 5),
                 "-s", lua, "http://127.0.0.1:%d" % port],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        start = time.monotonic()
        pids0 = {r: harness.role_pid(h, r) for r in
                 ("vigil-aggregator", "vigil-api")}
        active = {}                        # name -> (fault, until)
        next_fault = start + 5
        next_kill = start + 7
        next_sample = start
        sample_cap = None
        while True:
            now = time.monotonic()
            if now - start >= duration:
                break
            # Faults: expire, then a new round on a tenth of the providers.
            for n, (_, until) in list(active.items()):
                if now >= until:
                    h.sim.fault(n, {"clear": True})
                    del active[n]
            if now >= next_fault:
                for n in rnd.sample(names, max(1, len(names) // 10)):
                    if n in active:
                        continue
                    ftype, obj = rnd.choice(FAULTS)
                    h.sim.fault(n, dict(obj, clear=True))
                    active[n] = (ftype, now + 20)
                    windows[n].append((now, now + 20))
                    faults_by_type[ftype] = faults_by_type.get(ftype, 0) + 1
                next_fault = now + 20
            if now >= next_kill:
                n = rnd.choice(names)
                pid = h.providers(0).get(n, {}).get("pid")
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                        windows[n].append((now, now + 5))
                    except ProcessLookupError:
                        pass
                next_kill = now + 15
            if now >= next_sample:
                d = h.dump(64)
                if d is None:
                    problems.append("segdump failed at t=%.0f" %
                                    (now - start))
                else:
                    sample_cap = d["header"]["sample_cap"]
                    for p in d["providers"]:
                        seen[p["name"]].update(s["mono_ns"]
                                               for s in p["samples"])
                        restarts_seen[p["name"]] = p["restarts"]
                rows.append(sample_row(h, d, now - start, sse, active))
                next_sample = now + args.every
            if h.proc.poll() is not None:
                problems.append("vigild exited with %s" % h.proc.returncode)
                break
            time.sleep(0.2)
        end = time.monotonic()
        # The last samples.
        d = h.dump(64)
        if d:
            for p in d["providers"]:
                seen[p["name"]].update(s["mono_ns"] for s in p["samples"])
        for r, pid in pids0.items():
            if harness.role_pid(h, r) != pid:
                problems.append("%s was restarted (pid %s -> %s) though "
                                "nobody killed it" % (r, pid,
                                                      harness.role_pid(h, r)))
        ok_kills = sum(restarts_seen.values())
        # Lost samples: gaps outside the injected windows.
        lost = []
        expected = 0
        for n in names:
            ts = sorted(x / 1e9 for x in seen[n])
            # Only from the first sample on, up to the last.
            expected += len(ts)
            for a, b in zip(ts, ts[1:]):
                if b - a <= 2.5 * interval:
                    continue
                if any(ws - 1 <= b and a <= we + 5
                       for ws, we in windows[n]):
                    continue
                lost.append((n, round(a - start, 1), round(b - a, 2)))
        if lost:
            problems.append("%d gaps outside injected faults: %s" %
                            (len(lost), lost[:10]))
        # Growth over the second half.
        growth = {}
        half = [r for r in rows if r["t_s"] >= duration / 2]
        for role in JUDGED:
            for what, tol in (("rss_kb", None), ("fds", 2)):
                col = "%s_%s" % (role, what)
                pts = [(r["t_s"], r[col]) for r in half
                       if r.get(col) is not None]
                if len(pts) < 3:
                    continue
                s = slope([p[0] for p in pts], [p[1] for p in pts])
                span = pts[-1][0] - pts[0][0]
                mean = sum(p[1] for p in pts) / len(pts)
                lim = tol if tol is not None else max(1024, 0.05 * mean)
                growth[col] = round(s * span, 1)
                if s * span > lim:
                    problems.append("%s grows: %+.1f over the second half "
                                    "(limit %.0f)" % (col, s * span, lim))
        wrk_out = ""
        if wrk is not None:
            wrk.send_signal(signal.SIGINT)
            try:
                wrk_out = wrk.communicate(timeout=10)[0]
            except subprocess.TimeoutExpired:
                wrk.kill()
                wrk_out = wrk.communicate()[0]
            wrk = None
        rps = None
        for ln in wrk_out.splitlines():
            if ln.startswith("Requests/sec:"):
                rps = float(ln.split()[1])
        summary = {
            "providers": args.providers, "interval_s": interval,
            "duration_s": round(end - start, 1),
            "process_samples": len(rows), "sample_every_s": args.every,
            "faults_injected": faults_by_type,
            "fault_rounds_every_s": 20, "fault_length_s": 20,
            "prober_kills": kills, "prober_restarts_seen": ok_kills,
            "wrk_requests_per_s": rps,
            "wrk_summary": [ln.strip() for ln in wrk_out.splitlines()
                            if "requests in" in ln or "Socket errors" in ln
                            or "Non-2xx" in ln],
            "sse_clients": len(sse),
            "sse_events": sum(c.events for c in sse),
            "sse_connects": sum(c.connects for c in sse),
            "samples_seen": expected, "sample_ring_cap": sample_cap,
            "samples_lost_outside_faults": len(lost),
            "growth_second_half": growth,
            "problems": problems, "result": "fail" if problems else "pass"}
        write_csv(args.csv, rows)
        with open(os.path.splitext(args.csv)[0] + ".json", "w") as f:
            json.dump(summary, f, indent=1)
        print(json.dumps(summary, indent=1))
        if args.png:
            subprocess.run([sys.executable, os.path.join(HERE, "plot.py"),
                            args.csv, args.png], check=False)
        return 1 if problems else 0
    finally:
        for c in sse:
            c.stop = True
        if wrk is not None and wrk.poll() is None:
            wrk.kill()
            wrk.wait()
        for c in sse:
            c.join(3)
        h.stop()


def sample_row(h, d, t, sse, active):
    row = {"t_s": round(t, 1)}
    pids = {"vigild": [h.proc.pid], "aggregator": [], "api": [],
            "prober": [], "sim": [h.sim.proc.pid]}
    for k in harness.children_of(h.proc.pid):
        r = harness.argv0(k)
        key = {"vigil-aggregator": "aggregator", "vigil-api": "api",
               "vigil-prober": "prober"}.get(r)
        if key:
            pids[key].append(k)
    for role in ("vigild", "aggregator", "api", "sim"):
        rss, fds = proc_stat(pids[role][0]) if pids[role] else (None, None)
        row[role + "_rss_kb"] = rss
        row[role + "_fds"] = fds
    stats = [proc_stat(k) for k in pids["prober"]]
    stats = [s for s in stats if s[0] is not None]
    row["prober_max_rss_kb"] = max((s[0] for s in stats), default=None)
    row["prober_max_fds"] = max((s[1] for s in stats), default=None)
    row["prober_sum_rss_kb"] = sum(s[0] for s in stats)
    row["probers_up"] = len(stats)
    if d is not None:
        row["seg_bytes"] = d["header"]["size"]
        row["seg_providers"] = len(d["providers"])
        row["seg_samples_written"] = sum(p["head"] for p in d["providers"])
        row["aggregator_age_ms"] = d["header"]["aggregator_age_ms"]
    row["sse_events"] = sum(c.events for c in sse)
    row["faults_active"] = len(active)
    return row


def write_csv(path, rows):
    cols = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join("" if r.get(c) is None else str(r[c])
                             for c in cols) + "\n")


if __name__ == "__main__":
    sys.exit(main())
