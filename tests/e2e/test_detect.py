#!/usr/bin/python3
"""False alarms and the ramp, shortened for make test (about 45 s).

    VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_detect.py

One vigil-sim, one vigild with the default thresholds (down_after 3,
circuit_failures 5, warning 50%, critical 80%) and a 120 ms interval (the timeout, 100 ms, must be shorter), two
providers probed side by side:

  noisy   5% random errors (503) and a latency tail (5% of answers 40 ms
          late, under the 100 ms timeout), for FA_PROBES probes: it must
          raise no critical alert and never open its circuit;
  ramp    healthy, then errors ramping from 0% to 100% in steps: a warning
          alert must come strictly before the first critical one (by
          alert id, which the aggregator assigns in order), and the ramp
          must end with a critical alert and an open circuit.

bench/bench_detect.py runs the same scenarios at full length (an hour's
worth of probes) through the functions here.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_aggregation as ta  # noqa: E402  (Sim, Vigil, wait_for)

FA_PROBES = int(os.environ.get("DETECT_FA_PROBES", "300"))
INTERVAL_MS = 120
TIMEOUT_MS = 100
NOISY_FAULTS = {"error_rate": 0.05, "error_status": 503, "latency_ms": 2,
                "latency_jitter_ms": 5, "latency_tail_ms": 40,
                "tail_prob": 0.05}
ok = ta.ok


def start(tag, names, extra=()):
    """vigil-sim with the named providers (kind openai, own key) and a
    vigild over them at INTERVAL_MS with the default thresholds."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix="vigil-detect-sim-")
    sim = ta.Sim(tmp, ["%s:openai:sk-detect-%s" % (n, n) for n in names])
    v = ta.Vigil(tag)
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
    warn = ta.first(raised, lambda a: a["level"] == "warning")
    crit = ta.first(raised, lambda a: a["level"] == "critical")
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
        sim, v, tmp = start("detect", ["noisy", "ramp"])
        import threading
        out = {}

        def run_fa():
            out["fa"] = false_alarms(v, sim, "noisy", FA_PROBES,
                                     FA_PROBES * INTERVAL_MS / 1000.0 * 3)
        t = threading.Thread(target=run_fa)
        t.start()
        al, d = ramp(v, sim, "ramp", healthy_s=5.0, steps=10, step_s=2.5)
        t.join()
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
        if tmp is not None and not ta.failures:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if ta.failures else 0


if __name__ == "__main__":
    sys.exit(main())
