#!/usr/bin/python3
"""Inference health per model (issue 17), the prober's side, end to end.

One vigild probes vigil-sim providers, each with its `models` (or
gen_model alone), and the test reads the samples back from the segment
(tests/tools/segdump):

  ka     deepseek: keep-alive comments for 800 ms after headers sent at
         once, then the first token 200 ms later: the generation
         sample's TTFT is 1000 ms +/- 50 ms, not the first byte's ~0;
  ping   anthropic: the same with ping events;
  long   deepseek: keep-alives for 5 s, past the 1.5 s timeout: timeout;
  ov     anthropic: `event: error` overloaded_error after the 200: outcome
         overloaded (http 200, error sse:overloaded_error);
  bud    openai, gen_budget = 50, 20 tokens a check (15 in, 5 out):
         exactly two generation checks that UTC day, then one log line;
         the aggregator's probe_tokens_today is 40, and a prober killed
         and restarted resumes from it (no third check);
  exp    openai, gen_model alone with gen_expect = ^OK$ against the
         sim's "pong": bad_response body:unexpected, model 0;
  body   qwen with gen_body (a file), gen_prompt, gen_expect = ^pong$:
         ok, the usage the stream reported;
  cat    openai, models = gpt-4o-mini, gpt-4o, o3-mini, where gpt-4o
         answers 404 model_not_found: that model's generation samples
         are model_missing, the others ok; every models-list check
         gives one catalogue sample per model (ok), o3-mini missing
         from the list (model_missing); then dropping gpt-4o from the
         sim's list gives a catalogue model_missing for it at the next
         list check;
  cut    google: a stream that ends before its finishReason:
         bad_response body:cut.

Catalogue samples are told apart as the segment tells them: a model,
no generation flag, no request (http_status 0).

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_models.py
"""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import Harness, Sim, guarded, ok, wait_for  # noqa: E402

KEY = "sk-models-test-0000"

SIM_FAULTS = {
    "ka": {"keepalive_ms": 800, "keepalive_every_ms": 100,
           "first_token_ms": 200},
    "ping": {"keepalive_ms": 800, "keepalive_every_ms": 100,
             "first_token_ms": 200},
    "long": {"keepalive_ms": 5000, "keepalive_every_ms": 100},
    "ov": {"stream_error": "anthropic_overloaded"},
    "bud": {"tokens_in": 15, "tokens_out": 5},
    "body": {"tokens_in": 7, "tokens_out": 2},
    "cat": {"model_faults": {"gpt-4o":
                             {"error_mode": "openai_model_not_found"}}},
    "cut": {"stream_cut": True},
}
KINDS = {"two": "openai", "ka": "deepseek", "ping": "anthropic", "long": "deepseek", "ov": "anthropic",
         "bud": "openai", "exp": "openai", "body": "qwen", "cat": "openai",
         "cut": "google"}


def provider_lines(tmp):
    """Each provider's section lines beyond kind, base_url and key."""
    body = os.path.join(tmp, "gen-body.json")
    with open(body, "w") as f:
        json.dump({"messages": [{"role": "user", "content": "x"}],
                   "max_tokens": 1, "temperature": 0}, f)
    os.chmod(body, 0o644)
    slow = ["interval = 2s", "timeout = 1500ms", "gen_interval = 300ms"]
    return {
        "ka": ["models = deepseek-chat"] + slow,
        "ping": ["models = claude-sonnet-4-0"] + slow,
        "long": ["models = deepseek-chat"] + slow,
        "ov": ["models = claude-sonnet-4-0", "gen_interval = 300ms"],
        "bud": ["models = gpt-4o-mini", "gen_interval = 200ms",
                "gen_budget = 50"],
        "exp": ["gen_model = gpt-4o-mini", "gen_interval = 300ms",
                "gen_expect = ^OK$"],
        "body": ["models = qwen-plus", "gen_interval = 300ms",
                 "gen_body = %s" % body, "gen_prompt = Say pong",
                 "gen_expect = ^pong$"],
        "cat": ["models = gpt-4o-mini, gpt-4o, o3-mini",
                "gen_interval = 300ms"],
        "cut": ["models = gemini-2.0-flash", "gen_interval = 300ms"],
        "two": ["models = gpt-4o-mini, gpt-4o", "gen_interval = 300ms"],
    }


def samples(h, n=400):
    """name -> its samples, oldest first."""
    return {k: p.get("samples", []) for k, p in h.providers(n).items()}


def gen(ss, model=None):
    return [s for s in ss if s["generation"] and
            (model is None or s["model"] == model)]


def catalogue(ss):
    return [s for s in ss if s["model"] != 0 and not s["generation"] and
            s["http_status"] == 0]


def wait_midnight():
    """The budget counts per UTC day: keep the test off 00:00 UTC."""
    now = datetime.datetime.now(datetime.timezone.utc)
    left = 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
    if left < 60:
        harness.note("waiting %d s for 00:00 UTC to pass" % (left + 2))
        time.sleep(left + 2)


def test_ttft(h):
    for name in ("ka", "ping"):
        ok(wait_for(lambda: len(gen(samples(h)[name])) >= 3, 30),
           "%s: three generation checks" % name)
        g = gen(samples(h)[name])
        ttft = [s["ttfb_ms"] for s in g]
        ok(g and all(s["outcome"] == "ok" and s["http_status"] == 200 and
                     s["model"] == 1 for s in g),
           "%s: the generation checks are ok, model 1" % name,
           [(s["outcome"], s["error"], s["model"]) for s in g])
        harness.note("%s: TTFT %s ms" % (name, ttft))
        ok(ttft and all(950 <= t <= 1050 for t in ttft),
           "%s: TTFT is the first content token, 1000 ms +/- 50 ms after "
           "keep-alives (not the first byte)" % name, ttft)


def test_keepalive_timeout(h):
    ok(wait_for(lambda: len(gen(samples(h)["long"])) >= 2, 20),
       "long: generation checks ran")
    g = gen(samples(h)["long"])
    ok(g and all(s["outcome"] == "timeout" and s["error"] == "curl:28" and
                 s["ttfb_ms"] == 0 for s in g),
       "long: keep-alives past the timeout are a timeout, no TTFT",
       [(s["outcome"], s["error"], s["ttfb_ms"]) for s in g])


def test_overloaded(h):
    ok(wait_for(lambda: len(gen(samples(h)["ov"])) >= 2, 20),
       "ov: generation checks ran")
    g = gen(samples(h)["ov"])
    ok(g and all(s["outcome"] == "overloaded" and s["http_status"] == 200
                 and s["error"] == "sse:overloaded_error" for s in g),
       "ov: Anthropic's event: error overloaded_error after a 200 is "
       "outcome overloaded", [(s["outcome"], s["http_status"], s["error"])
                              for s in g])
    ok(all(s["ttfb_ms"] == 0 for s in g),
       "ov: no content token, no TTFT", [s["ttfb_ms"] for s in g])


def test_budget(h):
    ok(wait_for(lambda: "token budget spent" in h.logtext(), 30),
       "bud: the prober logs that the budget is spent")
    # After the log line the third check was refused; more intervals
    # go by (200 ms each) without a check.
    time.sleep(2)
    g = gen(samples(h)["bud"])
    ok(len(g) == 2, "bud: gen_budget 50 at 20 tokens a check: exactly two "
       "generation checks today", len(g))
    ok(all(s["tokens_in"] == 15 and s["tokens_out"] == 5 for s in g),
       "bud: each sample carries the usage the stream reported",
       [(s["tokens_in"], s["tokens_out"]) for s in g])
    lines = [ln for ln in h.logtext().splitlines()
             if "prober bud:" in ln and "token budget spent" in ln]
    ok(len(lines) == 1 and "40 of 50" in lines[0],
       "bud: one info line, 40 of 50 tokens", lines)
    ok(len([s for s in samples(h)["bud"] if not s["generation"] and
            s["model"] == 0]) >= 4,
       "bud: the models-list checks go on")

    # The aggregator counts the same tokens into the segment; a prober
    # that restarts goes on from that count, not from zero.
    def today():
        return h.providers(0)["bud"].get("stats", {}).get(
            "probe_tokens_today")
    ok(wait_for(lambda: today() == 40, 10),
       "bud: the segment's probe_tokens_today is the prober's 40", today())

    # And /metrics says 40 used of 50 (issue 17's acceptance).
    def metric(name):
        st, _, _, body = harness.get(h.listen_port, "/metrics")
        for n, lbl, v in harness.prom_samples(body.decode()):
            if n == name and lbl.get("provider") == "bud":
                return float(v)
        return None
    ok(wait_for(lambda: metric("vigil_probe_tokens_today") == 40 and
                metric("vigil_probe_token_budget") == 50, 5),
       "bud: /metrics shows 40 tokens used of a budget of 50",
       (metric("vigil_probe_tokens_today"),
        metric("vigil_probe_token_budget")))
    # The event stream said so, once (replayed from the start).
    sse = harness.SSE(h.listen_port, last_id=0)
    try:
        evs = [json.loads(e["data"]) for e in sse.events(10000, 2)
               if e.get("event") == "budget"]
    finally:
        sse.close()
    bud = [e for e in evs if e.get("provider") == "bud"]
    ok(len(bud) == 1 and bud[0].get("spent") is True and
       bud[0].get("level") == "info" and bud[0].get("used_today") == 40 and
       bud[0].get("budget") == 50 and
       bud[0].get("resumes_at", "").endswith("T00:00:00Z"),
       "bud: one info event says the budget is spent, until 00:00 UTC",
       bud)
    pid = h.providers(0)["bud"]["pid"]
    harness.kill_pid(pid)
    ok(wait_for(lambda: h.providers(0)["bud"]["pid"] not in (0, pid) and
                h.logtext().count("prober bud: token budget spent") == 2,
                15),
       "bud: the restarted prober resumes the day's count from the "
       "segment: spent at once", h.logtext().count(
           "prober bud: token budget spent"))
    time.sleep(1)
    g = gen(samples(h)["bud"])
    ok(len(g) == 2, "bud: still two generation checks after the restart",
       len(g))


def test_expect(h):
    ok(wait_for(lambda: len(gen(samples(h)["exp"])) >= 2 and
                len(gen(samples(h)["body"])) >= 2, 20),
       "exp, body: generation checks ran")
    s = samples(h)
    g = gen(s["exp"])
    ok(g and all(x["outcome"] == "bad_response" and
                 x["error"] == "body:unexpected" and x["http_status"] == 200
                 and x["model"] == 0 for x in g),
       "exp: gen_expect mismatch is bad_response body:unexpected (model "
       "0: gen_model alone)",
       [(x["outcome"], x["error"], x["model"]) for x in g])
    g = gen(s["body"])
    ok(g and all(x["outcome"] == "ok" and x["tokens_in"] == 7 and
                 x["tokens_out"] == 2 for x in g),
       "body: gen_body, gen_prompt and a matching gen_expect: ok",
       [(x["outcome"], x["error"], x["tokens_in"]) for x in g])


def test_cut(h):
    ok(wait_for(lambda: len(gen(samples(h)["cut"])) >= 2, 20),
       "cut: generation checks ran")
    g = gen(samples(h)["cut"])
    ok(g and all(x["outcome"] == "bad_response" and x["error"] == "body:cut"
                 for x in g),
       "cut: a stream without its end marker is bad_response body:cut",
       [(x["outcome"], x["error"]) for x in g])


def test_catalogue(h, sim):
    def ready():
        s = samples(h)["cat"]
        return len(gen(s, 2)) >= 1 and len(gen(s, 1)) >= 1 and \
            len(gen(s, 3)) >= 1 and len(catalogue(s)) >= 6
    ok(wait_for(ready, 20), "cat: generation and models-list checks ran")
    s = samples(h)["cat"]
    ok(all(x["outcome"] == "model_missing" and x["http_status"] == 404
           for x in gen(s, 2)) and
       all(x["outcome"] == "ok" for x in gen(s, 1) + gen(s, 3)),
       "cat: gpt-4o's 404 model_not_found is its own model_missing; the "
       "other models ok",
       [(x["model"], x["outcome"], x["http_status"]) for x in gen(s)])
    cat = catalogue(s)
    by = {}
    for x in cat:
        by.setdefault(x["wall_ns"], {})[x["model"]] = (x["outcome"],
                                                       x["error"])
    ok(by and all(v == {1: ("ok", ""), 2: ("ok", ""),
                        3: ("model_missing", "list:missing")}
                  for v in by.values()),
       "cat: each list check gives one catalogue sample per model: listed "
       "ok, o3-mini (not in the list) model_missing", by)
    ok(all(x["latency_ms"] == 0 and x["http_status"] == 0 for x in cat),
       "cat: a catalogue sample is no request")

    t0 = time.time_ns()
    sim.fault("cat", {"drop_models": ["gpt-4o"]})

    def dropped():
        c = [x for x in catalogue(samples(h)["cat"]) if x["wall_ns"] > t0]
        return [x for x in c if x["model"] == 2] and c
    c = wait_for(dropped, 10)
    ok(c and all(x["outcome"] == "model_missing" and
                 x["error"] == "list:missing" for x in c if x["model"] == 2)
       and all(x["outcome"] == "ok" for x in c if x["model"] == 1),
       "cat: gpt-4o dropped from the list: catalogue model_missing at the "
       "next list check, gpt-4o-mini still listed",
       [(x["model"], x["outcome"]) for x in c or []])
    ok("model gpt-4o: not in the models list" in h.logtext(),
       "cat: the prober logs the model leaving the list")


def judged(h, name):
    """The aggregator's view of provider name in the segment: its stats
    and its models by name."""
    p = h.providers(0).get(name, {})
    return p.get("stats", {}), {m["name"]: m for m in p.get("models", [])}


def alerts_of(h, name):
    r = h.call("alerts", {"provider": name, "limit": 1000})
    res = r.get("result", {}) if r.get("ok") else {}
    return res.get("alerts", res) if isinstance(res, dict) else res


def test_judged(h, sim):
    """Issue 17's acceptance through the aggregator: one model answering
    404 model_not_found is model_missing and its provider degraded, not
    down, with the other model healthy; a model dropped from the list
    raises a model_missing alert within one list check."""
    def both_well():
        st, ms = judged(h, "two")
        return st.get("status") == "healthy" and all(
            m.get("status") == "healthy" for m in ms.values()) and \
            len(ms) == 2
    ok(wait_for(both_well, 15), "two: both models healthy first",
       judged(h, "two"))
    sim.fault("two", {"model_faults": {"gpt-4o": {
        "error_mode": "openai_model_not_found"}}})

    def gone():
        st, ms = judged(h, "two")
        return ms.get("gpt-4o", {}).get("reason") == "model_missing"
    ok(wait_for(gone, 10), "two: gpt-4o answering 404 model_not_found is "
       "model_missing", judged(h, "two"))
    st, ms = judged(h, "two")
    ok(st.get("status") == "degraded" and st.get("reason") ==
       "model_missing" and st.get("needs_human") is True and
       st.get("usable") is True and st.get("circuit") == "closed",
       "two: the provider is degraded (model_missing, needs a human), "
       "still usable, circuit closed", st)
    ok(ms["gpt-4o-mini"].get("status") == "healthy" and
       ms["gpt-4o-mini"].get("usable") is True and
       ms["gpt-4o"].get("usable") is False,
       "two: gpt-4o-mini healthy and usable, gpt-4o not usable",
       ms)
    ok(not [a for a in alerts_of(h, "two") if a.get("kind") in
            ("down", "circuit_open", "error_rate")],
       "two: no outage alert for one missing model", alerts_of(h, "two"))
    # Back, then dropped from the catalogue: an alert within one check.
    sim.fault("two", {"model_faults": {}})
    ok(wait_for(lambda: judged(h, "two")[0].get("status") == "healthy",
                15), "two: healthy again once gpt-4o answers",
       judged(h, "two"))
    n0 = len([a for a in alerts_of(h, "two")
              if a.get("kind") == "model_missing" and
              a.get("level") == "critical"])
    t0 = time.monotonic()
    sim.fault("two", {"drop_models": ["gpt-4o"]})
    ok(wait_for(lambda: len([a for a in alerts_of(h, "two")
                             if a.get("kind") == "model_missing" and
                             a.get("level") == "critical"]) > n0, 10),
       "two: gpt-4o dropped from the list raises a model_missing alert")
    # The list check runs every 500 ms here: within one check is within
    # an interval plus the aggregator's tick, not a speed claim.
    harness.note("model_missing alert %.2f s after the drop (interval "
                 "500 ms)" % (time.monotonic() - t0))
    st, ms = judged(h, "cat")
    ok(st.get("status") == "degraded" and
       ms.get("o3-mini", {}).get("reason") == "model_missing" and
       ms.get("gpt-4o-mini", {}).get("status") == "healthy",
       "cat: o3-mini not listed is model_missing, gpt-4o-mini healthy, "
       "the provider degraded", (st, ms))


def main():
    wait_midnight()
    h = Harness("models")
    with guarded("models", h):
        names = list(KINDS)
        h.sim = Sim(h.tmp, ["%s:%s:%s" % (n, KINDS[n], KEY) for n in names],
                    faults=SIM_FAULTS)
        lines = provider_lines(h.tmp)
        provs = [{"name": n, "kind": KINDS[n], "key": KEY,
                  "base_url": h.sim.base(n), "extra": lines[n]}
                 for n in names]
        # alert_cooldown 0: test_judged raises model_missing twice.
        h.write_conf(provs, interval="500ms", timeout="400ms",
                     extra="alert_cooldown = 0")
        h.start(wait_providers=names)
        test_ttft(h)
        test_keepalive_timeout(h)
        test_overloaded(h)
        test_budget(h)
        test_expect(h)
        test_cut(h)
        test_catalogue(h, h.sim)
        test_judged(h, h.sim)
        bad = [ln for ln in h.logtext().splitlines()
               if "Sanitizer" in ln or "runtime error:" in ln]
        ok(not bad, "no sanitizer report in vigild's log", bad[:5])
    sys.exit(1 if harness.failures else 0)


if __name__ == "__main__":
    main()
