#!/usr/bin/python3
"""False alarms and the ramp, shortened for make test (about 45 s).

    VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_detect.py

One vigil-sim, one vigild with the default thresholds (down_after 4,
circuit_failures 5, warning 50%, critical 80%) and a 120 ms interval (the
timeout, 100 ms, must be shorter), three providers probed side by side:

  noisy   5% random errors (503) and a latency tail (5% of answers 40 ms
          late, under the 100 ms timeout), for FA_PROBES probes: it must
          raise no critical alert and never open its circuit;
  ramp    healthy, then errors ramping from 0% to 100% in steps: a warning
          alert must come strictly before the first critical one (by
          alert id, which the aggregator assigns in order), and the ramp
          must end with a critical alert and an open circuit;
  hard    healthy, then every answer a 503: the first failure is
          confirmed by one check of four requests at once (the failures
          still missing to circuit_failures), on four connections of
          which the three new ones are closed afterwards; unhealthy and
          open right after it.

bench/bench_detect.py runs the same scenarios at full length (an hour's
worth of probes) through the same functions, in harness.py.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (the shared harness)
from harness import (FA_PROBES, INTERVAL_MS, false_alarms,  # noqa: E402
                     ok, ramp)
from harness import detect_start as start  # noqa: E402


def sockets_of(pid):
    """How many sockets pid has open (its connections among them)."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                        "socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


def sim_connections(sim):
    with urllib.request.urlopen("http://127.0.0.1:%d/_sim" % sim.port,
                                timeout=5) as r:
        return json.load(r)["connections"]


def confirmation(v, sim, name):
    """Switch name to 503s once it is healthy; return what the prober did
    from its first failure to unhealthy and open, and its sockets and the
    sim's connections before and after."""
    harness.wait_for(lambda: v.integration()[name]["status"] == "healthy", 10,
                     0.05)
    time.sleep(0.5)
    pid = v.ring()[name]["pid"]
    r = {"socks0": sockets_of(pid), "conns0": sim_connections(sim)}
    t0 = time.monotonic_ns()
    sim.fault(name, {"error_rate": 1.0, "error_status": 503})
    r["down"] = harness.wait_for(lambda: (lambda p: p["status"] == "unhealthy"
                                          and p["circuit"] == "open")(
                                         v.integration()[name]), 10, 0.02)
    r["conns1"] = sim_connections(sim)
    r["fails"] = [s for s in v.ring(64)[name]["samples"]
                  if s["mono_ns"] >= t0 and s["outcome"] != "ok"]
    # Still failing, the circuit open: single checks again.
    time.sleep(0.3)
    r["socks1"] = sockets_of(pid)
    r["same_pid"] = v.ring()[name]["pid"] == pid
    sim.fault(name, {"clear": True})
    return r


def check_confirmation(r):
    f = r["fails"]
    ok(r["down"], "hard: unhealthy with an open circuit", f[:6])
    ok(len(f) >= 5 and len({s["outcome"] for s in f[:5]}) == 1,
       "hard: five failed samples, all http_5xx",
       [s["outcome"] for s in f[:6]])
    if len(f) < 5:
        return
    first, conf = f[0], f[1:5]
    starts = [s["mono_ns"] for s in conf]
    ends = first["mono_ns"] + first["latency_ms"] * 1e6
    # At once: sequential checks are at least SCHED_MIN_MS (50 ms) apart.
    ok(max(starts) - min(starts) < 25e6,
       "hard: the four confirmation requests start together (within "
       "%.1f ms)" % ((max(starts) - min(starts)) / 1e6),
       [(s - first["mono_ns"]) / 1e6 for s in starts])
    ok(sum(1 for s in conf if s["confirm"]) == 3,
       "hard: three of them are flagged confirm (kept out of the windows)",
       [s["confirm"] for s in conf])
    ok(min(starts) >= ends,
       "hard: the confirmation starts after the first failure ends",
       ((min(starts) - ends) / 1e6))
    # The sim counts every connection to its port: the fault POST and
    # the GET of the count are this test's two; the check's own
    # connection is kept alive from before.
    ok(r["conns1"] - r["conns0"] - 2 == 3,
       "hard: three new connections for the confirmation (%d)" %
       (r["conns1"] - r["conns0"] - 2))
    ok(r["same_pid"] and r["socks0"] > 0 and r["socks1"] == r["socks0"],
       "hard: the prober is back to its %d sockets (%d): the "
       "confirmation's connections were closed" % (r["socks0"],
                                                   r["socks1"]),
       {k: r[k] for k in ("socks0", "socks1", "same_pid")})


def check_false_alarms(r, probes):
    ok(r["samples"] >= probes, "noisy: %d probes at %d ms" %
       (r["samples"], INTERVAL_MS), r)
    # The faults were really injected (a test that can fail).
    ok(r["failures"] >= 1 and r["failures"] <= 0.15 * r["samples"],
       "noisy: about 5%% of probes failed (%d of %d)" %
       (r["failures"], r["samples"]))
    ok(not r["critical"], "noisy: no critical alert",
       [(a["kind"], a["level"]) for a in r["critical"]])
    ok(r["circuit_opens"] == 0, "noisy: the circuit never opened",
       r["circuit_opens"])


def check_ramp(al, d):
    raised = [a for a in al if a["level"] in ("warning", "critical")]
    warn = harness.first(raised, lambda a: a["level"] == "warning")
    crit = harness.first(raised, lambda a: a["level"] == "critical")
    seq = [(a["kind"], a["level"], a["rate_in_force"]) for a in raised]
    ok(warn is not None and crit is not None,
       "ramp: a warning and a critical alert were raised", seq)
    ok(warn is not None and crit is not None and warn["id"] < crit["id"]
       and warn["at_ns"] <= crit["at_ns"],
       "ramp: the first warning (%s at %s) comes strictly before the first "
       "critical (%s at %s)" % (
           warn and warn["kind"], warn and warn["rate_in_force"],
           crit and crit["kind"], crit and crit["rate_in_force"]), seq)
    ok(d["circuit"] == "open" or d["circuit_opens"] >= 1,
       "ramp: the circuit opened at 100%", (d["circuit"],
                                            d["circuit_opens"]))


def main():
    sim = v = tmp = None
    try:
        sim, v, tmp = start("detect", ["noisy", "ramp", "hard"])
        import threading
        out = {}

        def run_fa():
            out["fa"] = false_alarms(v, sim, "noisy", FA_PROBES,
                                     FA_PROBES * INTERVAL_MS / 1000.0 * 3)
        t = threading.Thread(target=run_fa)
        t.start()
        out["confirm"] = confirmation(v, sim, "hard")
        al, d = ramp(v, sim, "ramp", healthy_s=5.0, steps=10, step_s=2.5)
        t.join()
        check_confirmation(out["confirm"])
        check_false_alarms(out["fa"], FA_PROBES)
        check_ramp(al, d)
    except Exception as e:  # a harness failure is a test failure
        import traceback
        traceback.print_exc()
        ok(False, "harness", e)
        if v is not None:
            print(v.logtext()[-3000:], file=sys.stderr)
    finally:
        if v is not None:
            v.cleanup()
        if sim is not None:
            sim.stop()
        if tmp is not None and not harness.failures:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
