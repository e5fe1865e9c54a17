#!/usr/bin/python3
"""test_llm_errors.py - what an LLM provider's errors mean, end to end.

Issue 16's acceptance through vigild + vigil-sim, read back from the
segment (segdump), /health/integration and the webhook:

  - an OpenAI key out of credit (429 insufficient_quota) is `exhausted`:
    not usable, needs a human, circuit closed, error rate 0, one critical
    `quota` alert to the webhook and no `down` or `circuit_open`;
  - a 429 with Retry-After: 5 is `throttled` with usable_at about 5 s
    ahead, usable again within 1 s of it, and raises no outage alert;
  - an Anthropic 529 overloaded_error is outcome `overloaded` and counts
    as a failure (down, circuit open, reason overloaded).

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_llm_errors.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Receiver, Sim, Vigil, guarded, ok, wait_for  # noqa: E402

# vigil-sim's error modes (tests/sim/errors.c, tests/sim/README.md).
MODE_QUOTA = "openai_insufficient_quota"
MODE_OVERLOADED = "anthropic_overloaded"


def seg(v, name):
    return v.providers(8).get(name, {})


def stats(v, name):
    return seg(v, name).get("stats", {})


def api_prov(v, name):
    try:
        return v.integration().get(name, {})
    except Exception:
        return {}


def alerts_of(rcv, name):
    return [o for _, o in rcv.bodies() if o.get("provider") == name]


def main():
    v = Vigil("llm")
    rcv = Receiver()
    rcv.start()
    with guarded("llm errors", v):
        v.sim = Sim(v.tmp, ["broke:openai:sk-broke", "busy:openai:sk-busy",
                            "over:anthropic:sk-over", "fine:openai:sk-fine"])
        provs = [{"name": n, "kind": k, "key": key,
                  "base_url": v.sim.base(n)}
                 for n, k, key in (("broke", "openai", "sk-broke"),
                                   ("busy", "openai", "sk-busy"),
                                   ("over", "anthropic", "sk-over"),
                                   ("fine", "openai", "sk-fine"))]
        v.write_conf(provs, interval="500ms", timeout="400ms",
                     extra=["webhook_url = %s" % rcv.url(),
                            "alert_cooldown = 0"])
        v.start([p["name"] for p in provs])
        ok(wait_for(lambda: all(stats(v, n).get("status") == "healthy"
                                for n in ("broke", "busy", "over", "fine")),
                    20), "every provider healthy first")

        v.sim.fault("broke", {"error_mode": MODE_QUOTA})
        v.sim.fault("over", {"error_mode": MODE_OVERLOADED})

        # Out of credit.
        ok(wait_for(lambda: stats(v, "broke").get("status") == "exhausted",
                    15), "insufficient_quota: status exhausted",
           stats(v, "broke"))
        time.sleep(3)       # several more quota answers
        s = stats(v, "broke")
        ok(s.get("status") == "exhausted" and s.get("usable") is False and
           s.get("needs_human") is True and s.get("reason") == "quota",
           "exhausted: not usable, needs a human, reason quota", s)
        ok(s.get("circuit") == "closed" and s.get("error_rate_1m") == 0,
           "exhausted: circuit closed, error rate 0", s)
        ok(s.get("last_outcome") == "quota", "outcome quota", s)
        p = api_prov(v, "broke")
        ok(p.get("status") == "exhausted" and p.get("usable") is False and
           p.get("needs_human") is True and p.get("usable_at") is None,
           "/health/integration: exhausted, usable false, needs_human, "
           "usable_at null", p)
        ok(wait_for(lambda: any(o.get("kind") == "quota" and
                                o.get("level") == "critical"
                                for o in alerts_of(rcv, "broke")), 10),
           "one critical quota alert to the webhook")
        got = alerts_of(rcv, "broke")
        ok(len([o for o in got if o.get("kind") == "quota" and
                o.get("level") == "critical"]) == 1 and
           all(o.get("needs_human") for o in got
               if o.get("kind") == "quota" and o.get("level") != "resolved"),
           "exactly one quota alert, needs_human", got)
        ok(not [o for o in got if o.get("kind") in
                ("down", "circuit_open", "error_rate")],
           "no outage alert for an account out of credit", got)

        # Throttled with Retry-After: 5.
        v.sim.fault("busy", {"status": 429, "retry_after": 5})
        ok(wait_for(lambda: stats(v, "busy").get("status") == "throttled",
                    10), "429 Retry-After 5: throttled", stats(v, "busy"))
        s = stats(v, "busy")
        now_ns = time.time() * 1e9
        ua = s.get("usable_at_wall_ns", 0)
        last = [x for x in seg(v, "busy").get("samples", [])
                if x["outcome"] == "rate_limited"][-1:]
        # The wait counts from the check's start, the header from the
        # answer: a few ms more than 5000.
        ok(last and 5000 <= last[0]["retry_after_ms"] <= 5100 and
           last[0]["retry_hint"] and abs(last[0]["wall_ns"] +
                                         last[0]["retry_after_ms"] * 1e6 -
                                         ua) < 1e6,
           "usable_at is the 429's time + its Retry-After (5 s, from the "
           "header)", (last, ua))
        ok(s.get("usable") is False and 3.5e9 <= ua - now_ns <= 5.5e9,
           "throttled: not usable, usable_at about 5 s ahead",
           (s, (ua - now_ns) / 1e9))
        p = api_prov(v, "busy")
        ok(p.get("status") == "throttled" and p.get("usable") is False and
           p.get("usable_at") is not None and p.get("needs_human") is False,
           "/health/integration: throttled with usable_at", p)
        # Usable again within 1 s of usable_at (read in the segment by
        # the aggregator's tick, even before the next 429).
        ok(wait_for(lambda: time.time() * 1e9 >= ua, 8), "usable_at came")
        ok(wait_for(lambda: stats(v, "busy").get("usable") is True or
                    stats(v, "busy").get("usable_at_wall_ns", 0) > ua, 1.0),
           "usable within 1 s of usable_at", stats(v, "busy"))
        ok(not [o for o in alerts_of(rcv, "busy") if o.get("kind") in
                ("down", "circuit_open", "error_rate")],
           "no outage alert for a rate limit", alerts_of(rcv, "busy"))

        # Overloaded counts as a failure.
        ok(wait_for(lambda: stats(v, "over").get("circuit") == "open", 15),
           "529 overloaded: the circuit opens", stats(v, "over"))
        s = stats(v, "over")
        ok(s.get("last_outcome") == "overloaded" and
           s.get("status") == "unhealthy" and
           s.get("reason") == "overloaded" and s.get("usable") is False,
           "overloaded: unhealthy, reason overloaded, not usable", s)
        ok(any(o.get("kind") == "down" and o.get("level") == "critical"
               for o in alerts_of(rcv, "over")),
           "overloaded raises the down alert")
        ok(stats(v, "fine").get("status") == "healthy" and
           stats(v, "fine").get("usable") is True,
           "the healthy neighbour stays healthy and usable")

        # Credit back: healthy again, quota resolved.
        v.sim.fault("broke", {"error_mode": ""})
        ok(wait_for(lambda: stats(v, "broke").get("status") == "healthy",
                    10), "credit back: healthy", stats(v, "broke"))
        ok(wait_for(lambda: any(o.get("kind") == "quota" and
                                o.get("level") == "resolved"
                                for o in alerts_of(rcv, "broke")), 10),
           "quota resolved")
    rcv.stop()
    v.cleanup()
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
