#!/usr/bin/python3
"""bench_detect.py - how fast vigil sees an outage, and what it does not
raise.

    VIGIL_BUILD=build /usr/bin/python3 bench/bench_detect.py \
        [--trials 96] [--providers 8] [--interval 1s] \
        [--fa-probes 3600] [--ramp-steps 20 --ramp-step 15s] [--json F]

Detection.  vigil-sim serves --providers providers (kind openai, each on
its own port); vigild probes them every --interval with the default
thresholds (down_after 4, circuit_failures 5).  Each provider runs its
own series of trials in a thread: wait until it is healthy with a closed
circuit, sleep a random time (a random phase of the probe interval,
stratified: each provider's trials draw one phase in each equal slice of
the interval, in random order), then
switch it hard down (vigil-sim closes its port: connection refused) and
time, from the switch,
  (a) status unhealthy, and circuit open, in the segment (read through
      vigil-api's /health/integration, polled every 10 ms over one kept-
      alive connection);
  (b) the first server-sent event saying so (/health/integration/events);
  (c) the first critical webhook POST (a Python receiver);
then clear the fault and wait for recovery.  Beside them, on the same
trials, the classic rule of 3 consecutive failed checks at the plain
interval (Gatus's default): the first failed check after the switch
starts at the same phase, so the classic rule fires 2 intervals after it:
classic = (first failed sample's start - switch) + 2 * interval, the
failed sample's start time read from the segment (CLOCK_MONOTONIC, the
same clock as Python's time.monotonic()).  It prints mean, p50 and p95
of each and the ratio classic / vigil on the mean.

False alarms and the ramp: tests/e2e/test_detect.py's scenarios (in
tests/e2e/harness.py) at full length (--fa-probes probes of a provider
with 5% random errors and a latency tail; a ramp 0% -> 100% in
--ramp-steps steps after a healthy minute and a half, so that the trend
has history to compare with).
"""
import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("VIGIL_BUILD", "build")

import harness  # noqa: E402  (the shared harness)
from benchlib import mean, parse_dur, pct  # noqa: E402

CONFIRM_MAX_S = 1.0		# prober/sched.h SCHED_CONFIRM_MAX_MS
CONFIRM_MIN_S = 0.05		# SCHED_MIN_MS
DOWN_AFTER = 4			# the default down_after (common/conf.c)


class Watch:
    """What vigil says, time-stamped with time.monotonic(): state changes
    seen through /health/integration, server-sent events, webhooks."""

    def __init__(self, port, rcv):
        self.port = port
        self.rcv = rcv
        self.lock = threading.Lock()
        self.state = {}         # name -> (status, circuit)
        self.changes = []       # (t, name, status, circuit)
        self.events = []        # (t, obj)
        self.stop = False
        self.threads = [threading.Thread(target=self.poll, daemon=True),
                        threading.Thread(target=self.sse, daemon=True)]
        for t in self.threads:
            t.start()

    def poll(self):
        conn = None
        while not self.stop:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                      timeout=5)
                conn.request("GET", "/health/integration")
                doc = json.loads(conn.getresponse().read())
                t = time.monotonic()
            except (OSError, ValueError, http.client.HTTPException):
                conn = None
                time.sleep(0.05)
                continue
            if not isinstance(doc, dict) or \
                    not isinstance(doc.get("providers"), list):
                time.sleep(0.05)	# an error document (503 at start)
                continue
            with self.lock:
                for p in doc["providers"]:
                    s = (p["status"], p["circuit"])
                    if self.state.get(p["name"]) != s:
                        self.state[p["name"]] = s
                        self.changes.append((t, p["name"]) + s)
            time.sleep(0.01)

    def sse(self):
        while not self.stop:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 5)
                s.sendall(b"GET /health/integration/events HTTP/1.1\r\n"
                          b"Host: x\r\nAccept: text/event-stream\r\n\r\n")
                s.settimeout(1.0)
                buf = b""
                while not self.stop:
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk:
                        break
                    t = time.monotonic()
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.startswith(b"data: "):
                            try:
                                obj = json.loads(line[6:])
                            except ValueError:
                                continue
                            with self.lock:
                                self.events.append((t, obj))
                s.close()
            except OSError:
                time.sleep(0.1)

    def first_change(self, name, since, pred):
        with self.lock:
            for t, n, st, cb in self.changes:
                if n == name and t >= since and pred(st, cb):
                    return t
        return None

    def first_event(self, name, since):
        with self.lock:
            for t, o in self.events:
                if t >= since and o.get("provider") == name and (
                        (o.get("type") == "status" and
                         o.get("to") == "unhealthy") or
                        (o.get("type") == "circuit" and
                         o.get("to") == "open")):
                    return t
        return None

    def first_hook(self, name, since):
        for t, o in self.rcv.bodies():
            if t >= since and o.get("provider") == name and \
                    o.get("level") == "critical":
                return t
        return None

    def healthy(self, name):
        with self.lock:
            return self.state.get(name) == ("healthy", "closed")


def trial_loop(name, n, interval, sim, v, w, out, errors):
    rnd = random.Random(name)
    # Recovery takes checks at the plain interval (the half-open probe,
    # then circuit_successes in a row): at 30 s that is over a minute.
    settle = max(60.0, 6 * interval)
    # Random phases, stratified: one in each n-th of the interval, in a
    # random order, so that the mean phase is half an interval with far
    # less spread than n independent draws would give.
    phases = [(i + rnd.random()) / n for i in range(n)]
    rnd.shuffle(phases)
    for ph in phases:
        if not harness.wait_for(lambda: w.healthy(name), settle, 0.02):
            errors.append("%s: not healthy again within %.0f s" % (
                name, settle))
            return
        time.sleep(0.5 + ph * interval)
        t_sw = time.monotonic()
        sim.fault(name, {"down": True})
        got = harness.wait_for(lambda: (
            w.first_change(name, t_sw, lambda s, c: s == "unhealthy") and
            w.first_change(name, t_sw, lambda s, c: c == "open") and
            w.first_event(name, t_sw) and w.first_hook(name, t_sw)),
            10 + 6 * interval, 0.02)
        # The first failed check after the switch, from the segment.
        p = v.ring(64).get(name, {})
        fails = [s for s in p.get("samples", [])
                 if s["mono_ns"] >= t_sw * 1e9 and s["outcome"] != "ok"]
        sim.fault(name, {"clear": True})
        if not got or not fails:
            errors.append("%s: trial at %.1f incomplete" % (name, t_sw))
            continue
        f1 = fails[0]["mono_ns"] / 1e9
        # The down_after-th failed check (default 4): status unhealthy.
        f3 = fails[min(DOWN_AFTER - 1, len(fails) - 1)]
        out.append({
            "provider": name,
            "phase": f1 - t_sw,
            "third": f3["mono_ns"] / 1e9 + f3["latency_ms"] / 1000.0 -
            t_sw,
            "unhealthy": w.first_change(name, t_sw,
                                        lambda s, c: s == "unhealthy") - t_sw,
            "open": w.first_change(name, t_sw, lambda s, c: c == "open") -
            t_sw,
            "sse": w.first_event(name, t_sw) - t_sw,
            "webhook": w.first_hook(name, t_sw) - t_sw,
            "classic": f1 - t_sw + 2 * interval,
        })


def detection(args, interval):
    names = ["d%02d" % i for i in range(args.providers)]
    import tempfile
    tmp = tempfile.mkdtemp(prefix="vigil-bench-detect-")
    sim = harness.Sim(tmp, ["%s:openai:sk-bench-%s:0" % (n, n) for n in names])
    v = harness.Vigil("bdetect")
    rcv = harness.Receiver()
    w = None
    trials, errors = [], []
    try:
        rcv.start()
        v.write_conf([{"name": n, "kind": "openai",
                       "base_url": sim.own_url(n), "key": "sk-bench-%s" % n}
                      for n in names],
                     ["alert_cooldown = 0", "circuit_cooldown = 1s",
                      "circuit_cooldown_max = 2s",
                      "webhook_url = %s" % rcv.url(),
                      "webhook_timeout = 1s"],
                     "%dms" % int(interval * 1000),
                     "%dms" % int(min(interval / 2, 5) * 1000))
        v.start(names)
        w = Watch(v.port, rcv)
        per = max(1, (args.trials + len(names) - 1) // len(names))
        th = [threading.Thread(target=trial_loop,
                               args=(n, per, interval, sim, v, w, trials,
                                     errors)) for n in names]
        for t in th:
            t.start()
        for t in th:
            t.join()
    finally:
        if w is not None:
            w.stop = True
        v.cleanup()
        sim.stop()
        rcv.stop()
    return trials, errors


def false_alarms_and_ramp(args):
    sim, v, tmp = harness.detect_start("bfa", ["noisy", "ramp"])
    res = {}
    try:
        def run_fa():
            res["fa"] = harness.false_alarms(
                v, sim, "noisy", args.fa_probes,
                args.fa_probes * harness.INTERVAL_MS / 1000.0 * 3)
        t = threading.Thread(target=run_fa)
        t.start()
        al, d = harness.ramp(v, sim, "ramp", healthy_s=args.ramp_healthy,
                             steps=args.ramp_steps, step_s=args.ramp_step)
        t.join()
        res["ramp_alerts"] = [(a["id"], a["kind"], a["level"],
                               a["rate_in_force"]) for a in al]
        res["ramp_circuit_opens"] = d["circuit_opens"]
    finally:
        v.cleanup()
        sim.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=96)
    ap.add_argument("--providers", type=int, default=8)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--fa-probes", type=int, default=3600)
    ap.add_argument("--ramp-healthy", type=float, default=90.0)
    ap.add_argument("--ramp-steps", type=int, default=20)
    ap.add_argument("--ramp-step", type=float, default=15.0)
    ap.add_argument("--skip-detection", action="store_true")
    ap.add_argument("--skip-false-alarms", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    interval = parse_dur(a.interval)
    report = {"interval_s": interval}
    rc = 0
    if not a.skip_detection:
        trials, errors = detection(a, interval)
        for e in errors:
            print("bench_detect: %s" % e, file=sys.stderr)
        confirm = min(max(interval / 8, CONFIRM_MIN_S), CONFIRM_MAX_S)
        bound = 0.5 * interval + 2 * confirm
        cols = ["phase", "third", "unhealthy", "open", "sse", "webhook", "classic"]
        print("detection at a %gs interval, %d trials at random phases "
              "(%d incomplete)" % (interval, len(trials), len(errors)))
        print("%-34s %8s %8s %8s %8s" % ("from the switch to", "mean s",
                                          "p50 s", "p95 s", "max s"))
        label = {"phase": "first failed check (phase)",
                 "third": "down_after-th failed check ends",
                 "unhealthy": "(a) status unhealthy in the segment",
                 "open": "(a) circuit open in the segment",
                 "sse": "(b) SSE event",
                 "webhook": "(c) webhook POST (critical)",
                 "classic": "classic: 3 failed checks at interval"}
        summary = {}
        for c in cols:
            xs = [t[c] for t in trials]
            summary[c] = {"mean": mean(xs), "p50": pct(xs, 50),
                          "p95": pct(xs, 95), "max": max(xs) if xs else 0}
            print("%-34s %8.3f %8.3f %8.3f %8.3f" % (
                label[c], summary[c]["mean"], summary[c]["p50"],
                summary[c]["p95"], summary[c]["max"]))
        ratio = summary["classic"]["mean"] / summary["unhealthy"]["mean"] \
            if trials else 0
        print("ratio classic / vigil (status unhealthy, mean): %.2fx "
              "(acceptance: >= 2x)" % ratio)
        print("mean to unhealthy %.3f s; bound 0.5 interval + 2 "
              "confirmation delays (interval/8, at most 1 s) = %.3f s "
              "(%s)" % (summary["unhealthy"]["mean"], bound,
                        "met" if summary["unhealthy"]["mean"] <= bound
                        else "NOT met"))
        # The phase is random: what vigil adds after the first failed
        # check, beside what the bound allows there (2 confirmations).
        after = mean([t["unhealthy"] - t["phase"] for t in trials])
        print("from the first failed check to unhealthy: mean %.3f s "
              "(one confirmation after %.3f s, its requests at once, and "
              "the aggregator's tick; the bound allows %.3f s)" % (
                  after, confirm, 2 * confirm))
        report["after_first_failure_s"] = after
        report.update({"trials": len(trials), "incomplete": len(errors),
                       "summary": summary, "ratio": ratio, "bound_s": bound,
                       "raw": trials})
        if not trials:
            rc = 1
    if not a.skip_false_alarms:
        r = false_alarms_and_ramp(a)
        fa = r["fa"]
        print("false alarms: %d probes at %d ms, 5%% errors (%d failed) "
              "and a latency tail: %d critical alerts, %d warnings, %d "
              "circuit openings" % (
                  fa["samples"], harness.INTERVAL_MS, fa["failures"],
                  len(fa["critical"]), len(fa["warnings"]),
                  fa["circuit_opens"]))
        raised = [x for x in r["ramp_alerts"]
                  if x[2] in ("warning", "critical")]
        fw = next((x for x in raised if x[2] == "warning"), None)
        fc = next((x for x in raised if x[2] == "critical"), None)
        print("ramp 0%% -> 100%% in %d steps of %gs after %gs healthy: "
              "first warning %s, first critical %s: %s" % (
                  a.ramp_steps, a.ramp_step, a.ramp_healthy,
                  fw and "%s at %.0f%%" % (fw[1], fw[3] * 100),
                  fc and "%s at %.0f%%" % (fc[1], fc[3] * 100),
                  "warning first" if fw and fc and fw[0] < fc[0] else
                  "NOT warning first"))
        report.update({"false_alarms": {
            "probes": fa["samples"], "failed": fa["failures"],
            "critical": len(fa["critical"]),
            "warnings": len(fa["warnings"]),
            "circuit_opens": fa["circuit_opens"]},
            "ramp": {"alerts": r["ramp_alerts"],
                     "warning_first": bool(fw and fc and fw[0] < fc[0])}})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return rc


if __name__ == "__main__":
    sys.exit(main())
