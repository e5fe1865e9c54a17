#!/usr/bin/python3
"""A rate-limited prober (issue 16, items 3 and 5): it waits for the
provider's word in every form before its next check, backs off when it
has none, and never answers a 429 with a burst of confirmations.

One vigild (interval 1 s, retry_after_max 4 s) probes vigil-sim
providers that answer:

  conf      500 always: the control, whose failures are confirmed (a test
            that counts no confirmations must be able to see some);
  backoff   429 without any hint: no confirmation request (the sim's
            request counter equals the checks), the waits 1, 2, 4, 4 s;
  ra_s      429 with Retry-After: 3 (seconds): the next check ~3 s later;
  ra_date   429 with Retry-After as an HTTP-date 3 s ahead;
  ra_ms     429 with retry-after-ms: 3000;
  room      500 with a rate limit of 3 requests an hour: the confirmation
            after the first failure makes 2 requests, not 4 (the headroom
            the 500's headers reported), and then no more than one;
  reset_oa  1 request per 3 s window, 429s with OpenAI's reset headers
            and no Retry-After: the prober waits for the reset, so every
            429 is followed by an ok, never by another 429;
  reset_an  the same with Anthropic's RFC 3339 resets.

Times are asserted loosely: lower bounds (the prober cannot be early, a
check after a 429 starts no sooner than the wait it chose), and upper
bounds with seconds of slack.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import Harness, Sim, guarded, http_json, ok, wait_for  # noqa

KEY = "sk-retry-test-0000"

FAULTS = {
    "conf": {"status": 500},
    "backoff": {"status": 429},
    "ra_s": {"status": 429, "retry_after": 3},
    "ra_date": {"status": 429, "retry_after": 3,
                "retry_after_form": "date"},
    "ra_ms": {"status": 429, "retry_after": 3, "retry_after_form": "ms"},
    "room": {"status": 500,
             "ratelimit": {"requests": 3, "window_s": 3600}},
    "reset_oa": {"ratelimit": {"requests": 1, "window_s": 3},
                 "retry_after_form": "none"},
    "reset_an": {"ratelimit": {"requests": 1, "window_s": 3},
                 "retry_after_form": "none"},
}
KINDS = {"conf": "openai", "backoff": "openai", "ra_s": "openai",
         "ra_date": "anthropic", "ra_ms": "deepseek", "room": "openai",
         "reset_oa": "openai", "reset_an": "anthropic"}


def samples(h):
    """name -> its samples, oldest first."""
    return {n: p.get("samples", []) for n, p in h.providers(256).items()}


def sim_prov(sim, name):
    return http_json("http://127.0.0.1:%d/_sim/%s" % (sim.port, name))


def gaps(ss):
    """Seconds between the starts of consecutive samples."""
    return [(b["mono_ns"] - a["mono_ns"]) / 1e9 for a, b in zip(ss, ss[1:])]


def enough(h):
    s = samples(h)
    return (len(s.get("backoff", [])) >= 5 and
            all(len(s.get(n, [])) >= 3 for n in
                ("ra_s", "ra_date", "ra_ms")) and
            all(len(s.get(n, [])) >= 6 for n in ("reset_oa", "reset_an")))


def test_no_confirmations(h, sim, s):
    c = s["conf"]
    ok(any(x["confirm"] for x in c) and
       sim_prov(sim, "conf")["counters"]["requests"] > len(
           [x for x in c if not x["confirm"]]),
       "control: a 500 is confirmed with extra requests",
       [(x["outcome"], x["confirm"]) for x in c[:8]])
    for n in ("backoff", "ra_s", "ra_date", "ra_ms"):
        ss = s[n]
        req = sim_prov(sim, n)["counters"]["requests"]
        ok(ss and all(x["outcome"] == "rate_limited" for x in ss),
           "%s: every answer is rate_limited" % n,
           [x["outcome"] for x in ss])
        ok(not any(x["confirm"] for x in ss),
           "%s: no confirmation request after a 429" % n,
           [x["confirm"] for x in ss])
        # Each request is a sample: as many requests as checks.  The
        # sim may have counted one more, in flight as we read.
        ok(len(ss) <= req <= len(ss) + 1,
           "%s: the sim's request counter equals the checks" % n,
           (req, len(ss)))


def test_hint_waits(s):
    for n, lo in (("ra_s", 2.9), ("ra_date", 1.9), ("ra_ms", 2.9)):
        g = gaps(s[n])
        ok(g and all(lo <= x <= 7.0 for x in g),
           "%s: the next check comes when the provider said" % n,
           ["%.2f" % x for x in g])


def test_backoff(s):
    g = gaps(s["backoff"])[:4]
    # 1 s, 2 s, 4 s, then capped at retry_after_max 4 s (+-5% jitter
    # before the cap).
    lows = (0.9, 1.8, 3.6, 3.6)
    ok(len(g) == 4 and all(x >= lo for x, lo in zip(g, lows)) and
       all(x <= 7.0 for x in g) and g[0] < g[1] < g[2],
       "backoff: a 429 without a hint waits interval, 2x, 4x, capped",
       ["%.2f" % x for x in g])


def test_headroom(h, sim, s):
    ss = s["room"]
    c = sim_prov(sim, "room")["counters"]
    by = c.get("by_status", {})
    ok(by.get("500") == 3 and
       sum(1 for x in ss if x["confirm"]) == 1,
       "room: the confirmation makes no more requests than the headroom "
       "left (2, not 4)",
       (by, [(x["http_status"], x["confirm"]) for x in ss]))
    rl = [x for x in ss if x["outcome"] == "rate_limited"]
    g = gaps(rl)
    ok(rl and c["rate_limited"] <= len(rl) + 1 and
       not any(x["confirm"] for x in rl) and all(x >= 3.6 for x in g),
       "room: once it ran out, one request per wait (retry_after_max)",
       (c["rate_limited"], ["%.2f" % x for x in g]))


def test_resets(s):
    for n in ("reset_oa", "reset_an"):
        outs = [x["outcome"] for x in s[n]]
        twice = [i for i in range(1, len(outs))
                 if outs[i] == outs[i - 1] == "rate_limited"]
        ok(outs.count("rate_limited") >= 2 and outs.count("ok") >= 2 and
           not twice,
           "%s: after a 429 it waits for the reset: the next answer is ok"
           % n, outs)


def main():
    h = Harness("retry")
    with guarded("retry", h):
        sim = Sim(h.tmp, ["%s:%s:%s" % (n, k, KEY)
                          for n, k in KINDS.items()], FAULTS)
        h.sim = sim
        h.write_conf([{"name": n, "kind": k, "base_url": sim.base(n),
                       "key": KEY} for n, k in KINDS.items()],
                     extra="retry_after_max = 4s", interval="1s",
                     timeout="500ms")
        h.start(wait_providers=list(KINDS))
        ok(wait_for(lambda: enough(h), 45, 0.5),
           "the probers sampled long enough",
           {n: len(v) for n, v in samples(h).items()})
        s = samples(h)
        test_no_confirmations(h, sim, s)
        test_hint_waits(s)
        test_backoff(s)
        test_headroom(h, sim, s)
        test_resets(s)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
