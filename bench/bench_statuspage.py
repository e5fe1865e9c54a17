#!/usr/bin/python3
"""bench_statuspage.py - vigil's lead over a provider's own status page.

    VIGIL_BUILD=build /usr/bin/python3 bench/bench_statuspage.py \
        [--providers 4] [--delay 30] [--interval 1s] [--json F]

vigil-sim serves --providers providers (kind openai), each with its fake
Statuspage page (/_status/NAME/api/v2/summary.json), which admits an
outage --delay seconds after it began, as real pages lag (issue 19: 30 s;
real ones often lag minutes).  vigild probes every --interval with the
default thresholds and polls each page every 2 s.  All providers go
down at once (vigil-sim closes nothing: every request is reset); for each,
once its page shows the incident, the API's status_page.lead_s: from
vigil's first outage alert (down, circuit_open, error_rate) to the
incident's created_at.  Beside it, vigil's own detection: the switch to
that first alert.  Prints each provider's figures and their mean, min
and max.  About --delay + 20 s.
"""
import argparse
import json
import os
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("VIGIL_BUILD", "build")

import harness  # noqa: E402  (the shared harness)
from benchlib import mean  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--providers", type=int, default=4)
    ap.add_argument("--delay", type=int, default=30)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--json")
    a = ap.parse_args()
    names = ["p%d" % i for i in range(a.providers)]
    v = harness.Vigil("bsp")
    res = []
    try:
        v.sim = harness.Sim(v.tmp, ["%s:openai:sk-%s" % (n, n)
                                    for n in names])
        page = "http://127.0.0.1:%d/_status/%%s/api/v2/summary.json" % \
            v.sim.port
        v.write_conf([{"name": n, "kind": "openai", "key": "sk-" + n,
                       "base_url": v.sim.base(n),
                       "extra": ["status_page = " + page % n,
                                 "status_page_interval = 2s"]}
                      for n in names], interval=a.interval,
                     timeout="800ms" if a.interval == "1s" else "5s")
        v.start(names)

        def provs():
            try:
                return v.integration()
            except Exception:
                return {}
        if not harness.wait_for(lambda: all(
                (provs().get(n, {}).get("status_page") or {}).get(
                    "indicator") == "none" and
                provs().get(n, {}).get("usable") for n in names), 60):
            print("providers or pages not ready")
            return 1
        t_switch = time.time()
        for n in names:
            v.sim.fault(n, {"down": True, "status_page_delay_s": a.delay})

        def done():
            ps = provs()
            return all(((ps.get(n, {}).get("status_page") or {}).get(
                "lead_s") is not None) for n in names)
        if not harness.wait_for(done, a.delay + 60, 0.2):
            print("the pages did not show the incidents: %s" %
                  {n: provs().get(n, {}).get("status_page") for n in names})
            return 1
        ps = provs()
        alerts = v.api("/health/integration/alerts")["alerts"]
        for n in names:
            first = [al for al in alerts if al["provider"] == n and
                     al["kind"] in ("down", "circuit_open", "error_rate")
                     and al["level"] != "resolved"]
            sp = ps[n]["status_page"]
            res.append({"provider": n, "lead_s": sp["lead_s"],
                        "detect_s": round(first[0]["unix"] - t_switch, 3)
                        if first else None,
                        "incident_created_at": sp["incident"]["created_at"]})
    finally:
        v.cleanup()
    print("vigil-sim pages admit the outage %d s after it began; probes "
          "every %s" % (a.delay, a.interval))
    print("%-6s %12s %14s" % ("", "detect (s)", "lead_s (s)"))
    for r in res:
        print("%-6s %12s %14.3f" % (r["provider"], r["detect_s"],
                                    r["lead_s"]))
    leads = [r["lead_s"] for r in res]
    dets = [r["detect_s"] for r in res if r["detect_s"] is not None]
    summary = {"delay_s": a.delay, "interval": a.interval,
               "lead_s_mean": round(mean(leads), 3),
               "lead_s_min": min(leads), "lead_s_max": max(leads),
               "detect_s_mean": round(mean(dets), 3) if dets else None,
               "results": res}
    print("lead_s: mean %.3f, min %.3f, max %.3f; vigil's first alert "
          "%.3f s after the switch (mean)" % (
              summary["lead_s_mean"], summary["lead_s_min"],
              summary["lead_s_max"], summary["detect_s_mean"] or 0))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0 if len(res) == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
