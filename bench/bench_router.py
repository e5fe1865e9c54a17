#!/usr/bin/python3
"""bench_router.py - requests a router loses to a hard outage (issue 18).

examples/router sends 20 requests a second over three vigil-sim
providers; vigil probes every 30 s.  Each trial starts a fresh vigild,
lets the router run, then takes the provider the router sends to first
hard down (every answer a 503) at a random moment, and counts the
requests the router sent it from then on ("lost": each failed, the
router then failed over).  Three ways of choosing, on the same kind of
trial:

  vigil     vigil's route order and usable, the router reporting every
            outcome (issue 18): vigil judges on traffic too;
  probe     the same router reporting nothing: vigil on its 30 s probes
            alone;
  cooldown  vigil not asked: a provider with 3 failures in a minute is
            skipped for a minute (LiteLLM's allowed_fails default).

For vigil and probe it also gives the time from the router's first failed
request to `unhealthy` in the segment (as /health/integration shows it,
polled every 20 ms).  Issue 18's acceptance: with vigil, at most 1 s on
average and at most 3 requests lost per outage.

Run: VIGIL_BUILD=build /usr/bin/python3 bench/bench_router.py --trials 20
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("VIGIL_BUILD", "build")

import harness  # noqa: E402  (the shared harness)
from benchlib import mean, pct  # noqa: E402

NAMES = ["p1", "p2", "p3"]
KEYS = {n: "sk-bench-router-%s" % n for n in NAMES}
RATE = 20
INTERVAL_S = 30


class Router:
    """examples/router in the background; its failure lines as they come."""

    def __init__(self, mode, shm, sim):
        args = [harness.binpath("examples/router"), "-m", mode, "-n",
                str(RATE * 600), "-r", str(RATE), "-t", "1000"]
        if shm:
            args += ["-s", shm]
        args += ["%s=%s=%s" % (n, sim.base(n), KEYS[n]) for n in NAMES]
        self.fails = []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     text=True)
        self.thr = threading.Thread(target=self.read, daemon=True)
        self.thr.start()

    def read(self):
        for ln in self.proc.stdout:
            try:
                o = json.loads(ln)
            except ValueError:
                continue
            if "fail" in o:
                self.fails.append((o["fail"], o["mono_ns"] / 1e9))

    def stop(self):
        harness.stop_process(self.proc)


def primary(v):
    ps = v.integration()
    return [n for n, p in ps.items() if p["route_rank"] == 0][0]


DOWN_AFTER = None      # --down-after: vigil.conf's, else its default


def trial(mode, sim, k):
    """One outage: (lost, seconds from the first failure to unhealthy or
    None)."""
    for n in NAMES:
        sim.fault(n, {"clear": True})
    v = None
    if mode != "cooldown":
        v = harness.Vigil("brouter%d" % k)
        v.write_conf([{"name": n, "kind": "openai", "base_url": sim.base(n),
                       "key": KEYS[n]} for n in NAMES],
                     ["down_after = %d" % DOWN_AFTER] if DOWN_AFTER else [],
                     "%ds" % INTERVAL_S, "2s")
        v.start(NAMES)
        if not harness.wait_for(lambda: all(
                p["status"] == "healthy" and p["route_rank"] is not None
                for p in v.integration().values()), 15):
            raise RuntimeError("providers not healthy")
    try:
        r = Router(mode, v.shm if v else None, sim)
        # A random phase against the probes' schedule.
        time.sleep(1.0 + (random.uniform(0, INTERVAL_S) if mode == "probe"
                          else random.uniform(0, 2)))
        dead = primary(v) if v else NAMES[0]
        sim.fault(dead, {"error_rate": 1.0, "error_status": 503})
        t_down = time.monotonic()
        detect = None
        if v is not None:
            end = t_down + 3 * INTERVAL_S
            while time.monotonic() < end:
                if v.integration()[dead]["status"] == "unhealthy":
                    detect = time.monotonic()
                    break
                time.sleep(0.02)
        time.sleep(2.0)          # what the router still sends it
        r.stop()
        fails = [t for n, t in r.fails if n == dead and t >= t_down - 0.1]
        first = fails[0] if fails else None
        if os.environ.get("BENCH_ROUTER_DEBUG"):
            print("# fails at %s; unhealthy at %s (s after the first)" % (
                ["%.3f" % (t - first) for t in fails],
                "%.3f" % (detect - first) if detect and first else None))
        secs = detect - first if detect is not None and first else None
        return len(fails), secs
    finally:
        if v is not None:
            v.cleanup()
            try:
                os.unlink("/dev/shm" + v.shm + ".reports")
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--modes", default="vigil,cooldown,probe")
    ap.add_argument("--down-after", type=int,
                    help="vigil.conf down_after (default: vigil's, 4)")
    ap.add_argument("--json")
    a = ap.parse_args()
    global DOWN_AFTER
    DOWN_AFTER = a.down_after
    tmp = harness.tempfile.mkdtemp(prefix="vigil-brouter-")
    sim = harness.Sim(tmp, ["%s:openai:%s" % (n, KEYS[n]) for n in NAMES])
    modes = a.modes.split(",")
    res = {m: {"trials": a.trials, "lost": [], "detect_s": []}
           for m in modes}
    try:
        # Trial k of every mode runs before trial k + 1 of any: a machine
        # busy for a while weighs on every mode alike.
        for k in range(a.trials):
            for mode in modes:
                n, s = trial(mode, sim, k)
                res[mode]["lost"].append(n)
                if s is not None:
                    res[mode]["detect_s"].append(s)
    finally:
        sim.stop()
    print("requests lost per outage, router at %d requests/s, probes every "
          "%d s, down_after %s, %d trials each" % (
              RATE, INTERVAL_S, a.down_after or "4 (default)", a.trials))
    print("%-10s %10s %8s %8s %16s %12s" % ("choice", "lost mean", "p50",
                                            "max", "to unhealthy s",
                                            "p95 s"))
    for mode, r in res.items():
        d = r["detect_s"]
        print("%-10s %10.2f %8d %8d %16s %12s" % (
            mode, mean(r["lost"]), pct(r["lost"], 50), max(r["lost"]),
            "%.3f" % mean(d) if d else "-", "%.3f" % pct(d, 95) if d
            else "-"))
    if "vigil" in res:
        v = res["vigil"]
        print("acceptance (issue 18): lost <= 3 on average %s (%.2f); "
              "unhealthy <= 1 s on average %s (%s)" % (
                  "met" if mean(v["lost"]) <= 3 else "NOT met",
                  mean(v["lost"]),
                  "met" if v["detect_s"] and mean(v["detect_s"]) <= 1
                  else "NOT met",
                  "%.3f s" % mean(v["detect_s"]) if v["detect_s"]
                  else "none"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
