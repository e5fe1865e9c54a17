#!/usr/bin/python3
"""Ours or theirs, and grouped incidents (issue 19, part A), on loopback.

vigil-sim plays six providers and a canary, each on a port of its own,
and two more providers for a second vigild.  The sim's `down` fault
closes a provider's listener: connection refused.

A (six providers and `canary =`):
  - everything refuses: the vantage state is "ours", the providers show
    unknown with reason network and are not usable; one critical
    `vantage` alert and no provider outage alert; back up, the vantage
    alert resolves and still no provider outage alert;
  - only the six providers refuse (the canary answers): each raises its
    own down alert, no `vantage` alert, and one `incident` alert names
    all six; their critical down alerts carry its incident_id.
B (two providers, no canary), at the same time: the second one fails
  some seconds after the first, within group_window: one `incident`
  alert naming both.
"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, Sim, Vigil  # noqa: E402

SIX = ["p1", "p2", "p3", "p4", "p5", "p6"]
OUTAGE = ("down", "circuit_open", "error_rate", "latency", "degrading")
# Detection waits: a few 1 s intervals, generous for ASan on a busy host.
WAIT = 30


def conf(v, sim, names, extra=""):
    v.write_conf([{"name": n, "kind": "openai",
                   "base_url": sim.own_url(n), "key": "sk-vantage-" + n}
                  for n in names],
                 extra=["down_after = 3", "alert_cooldown = 0"] +
                 ([extra] if extra else []),
                 interval="1s", timeout="500ms")


def alerts(v):
    return v.api("/health/integration/alerts")["alerts"]


def integ(v):
    return v.api("/health/integration")


def all_status(v, names, want):
    js = integ(v)
    ps = {p["name"]: p for p in js["providers"]}
    return all(n in ps and ps[n]["status"] == want for n in names)


def provider_outages(als):
    return [a for a in als if a["provider"] != "*" and a["kind"] in OUTAGE
            and a["level"] != "resolved"]


def run_a(sim):
    v = Vigil("vantage-a")
    try:
        conf(v, sim, SIX, "canary = %s/health" % sim.own_url("canary"))
        v.start(SIX + ["canary-1"])
        ok(wait_for(lambda: all_status(v, SIX, "healthy"), WAIT),
           "A: six providers healthy")
        js = integ(v)
        ok([p["name"] for p in js["providers"]] == SIX,
           "A: the canary is not listed as a provider",
           [p["name"] for p in js["providers"]])
        van = js.get("vantage", {})
        ok(van.get("state") == "ok" and [c["name"] for c in
                                        van.get("canaries", [])] ==
           ["canary-1"], "A: vantage ok, canary-1 listed there", van)

        # Ours: everything refuses connections.
        for n in SIX + ["canary"]:
            sim.fault(n, {"down": True})
        ok(wait_for(lambda: integ(v)["vantage"]["state"] == "ours", WAIT),
           "A: all refusing: vantage state ours", integ(v)["vantage"])
        ok(wait_for(lambda: all_status(v, SIX, "unknown"), WAIT),
           "A: providers unknown")
        ps = integ(v)["providers"]
        ok(all(p["reason"] == "network" and not p["usable"] for p in ps),
           "A: reason network, not usable",
           [(p["name"], p["reason"], p["usable"]) for p in ps])
        als = alerts(v)
        van = [a for a in als if a["kind"] == "vantage"]
        ok(len(van) == 1 and van[0]["level"] == "critical" and
           van[0]["provider"] == "*", "A: one critical vantage alert", van)
        ok(not provider_outages(als), "A: no provider outage alert",
           provider_outages(als))

        # Back: the vantage alert resolves; the outage never paged.
        for n in SIX + ["canary"]:
            sim.fault(n, {"clear": True})
        ok(wait_for(lambda: any(a["kind"] == "vantage" and
                                a["level"] == "resolved"
                                for a in alerts(v)), WAIT),
           "A: vantage alert resolved")
        ok(wait_for(lambda: all_status(v, SIX, "healthy"), WAIT),
           "A: providers healthy again")
        als = alerts(v)
        ok(not provider_outages(als),
           "A: still no provider outage alert", provider_outages(als))
        ok(not [a for a in als if a["kind"] == "incident"],
           "A: an outage that is ours is no incident")

        # Theirs: only the providers refuse, the canary answers.
        base = max([a["id"] for a in als] or [0])
        for n in SIX:
            sim.fault(n, {"down": True})

        def downs():
            return {a["provider"] for a in alerts(v)
                    if a["id"] > base and a["kind"] == "down" and
                    a["level"] == "critical"}
        ok(wait_for(lambda: downs() == set(SIX), WAIT),
           "A: providers only: each raises its down alert", downs())
        als = [a for a in alerts(v) if a["id"] > base]
        ok(not [a for a in als if a["kind"] == "vantage"],
           "A: providers only: no vantage alert")
        ok(integ(v)["vantage"]["state"] == "ok", "A: vantage state ok")
        inc = [a for a in als if a["kind"] == "incident"]
        ok(len(inc) == 1 and sorted(inc[0].get("members", [])) == SIX,
           "A: one incident alert naming the six", inc)
        if inc:
            iid = inc[0]["incident_id"]
            crit = [a for a in als if a["kind"] == "down" and
                    a["level"] == "critical"]
            ok(iid and all(a["incident_id"] == iid for a in crit),
               "A: the down alerts carry its incident_id",
               [(a["provider"], a["incident_id"]) for a in crit])
        for n in SIX:
            sim.fault(n, {"clear": True})
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "A: harness", e)
        print(v.logtext()[-3000:], file=sys.stderr)
    finally:
        v.cleanup()


def ctl_incident(v, iid):
    """The control protocol and vigilctl alerts show incident_id as the
    HTTP API does: the incident alert and its members' alerts carry it,
    the others none."""
    als = v.call("alerts", {"limit": 1000}).get("result") or []
    api = {a["id"]: a["incident_id"] for a in alerts(v)}
    ok(als and all("incident_id" in a and
                   a["incident_id"] == api.get(a["id"]) for a in als) and
       [a for a in als if a["kind"] == "incident" and
        a["incident_id"] == iid] and
       {a["provider"] for a in als if a["incident_id"] == iid and
        a["kind"] == "down"} == {"q1", "q2"},
       "B: the control protocol's alerts carry incident_id, as the API",
       [(a["provider"], a["kind"], a["incident_id"]) for a in als])
    r = subprocess.run([harness.binpath("vigilctl"), "-s", v.sock,
                        "alerts", "--level", "critical"],
                       capture_output=True, text=True, timeout=30)
    lines = r.stdout.splitlines()
    head = lines[0].split() if lines else []
    rows = [ln.split() for ln in lines[1:]]
    col = head.index("INCIDENT") if "INCIDENT" in head else None
    # Every cell is one word: a row's words line up with the header's.
    ok(r.returncode == 0 and col is not None and
       all(len(rw) == len(head) for rw in rows) and
       {w for rw in rows if rw[col] == str(iid) for w in rw} >=
       {"*", "q1", "q2", "incident", "down"} and
       all(rw[col] in ("-", str(iid)) for rw in rows),
       "B: vigilctl alerts shows the INCIDENT column",
       r.stdout + r.stderr)


def run_b(sim):
    v = Vigil("vantage-b")
    names = ["q1", "q2"]
    try:
        conf(v, sim, names)
        v.start(names)
        ok(wait_for(lambda: all_status(v, names, "healthy"), WAIT),
           "B: two providers healthy")
        sim.fault("q1", {"down": True})
        ok(wait_for(lambda: all_status(v, ["q1"], "unhealthy"), WAIT),
           "B: q1 unhealthy")
        ok(not [a for a in alerts(v) if a["kind"] == "incident"],
           "B: one provider failing is no incident")
        sim.fault("q2", {"down": True})

        def incs():
            return [a for a in alerts(v) if a["kind"] == "incident"]
        ok(wait_for(lambda: incs(), WAIT), "B: an incident alert")
        ok(wait_for(lambda: all_status(v, names, "unhealthy"), WAIT),
           "B: q2 unhealthy")
        inc = incs()
        ok(len(inc) == 1 and inc[0]["level"] == "critical" and
           inc[0]["provider"] == "*" and
           inc[0].get("members") == ["q1", "q2"],
           "B: two providers failing within a minute: one incident "
           "alert naming both", inc)
        if inc:
            ctl_incident(v, inc[0]["incident_id"])
        for n in names:
            sim.fault(n, {"clear": True})
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "B: harness", e)
        print(v.logtext()[-3000:], file=sys.stderr)
    finally:
        v.cleanup()


def main():
    import tempfile
    import shutil
    tmp = tempfile.mkdtemp(prefix="vigil-vantage-sim-")
    sim = None
    try:
        sim = Sim(tmp, ["%s:openai:sk-vantage-%s:0" % (n, n) for n in SIX] +
                  ["canary:http::0",
                   "q1:openai:sk-vantage-q1:0", "q2:openai:sk-vantage-q2:0"])
        tb = threading.Thread(target=run_b, args=(sim,))
        tb.start()
        run_a(sim)
        tb.join()
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "harness", e)
    finally:
        if sim is not None:
            sim.stop()
        if not harness.failures:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
