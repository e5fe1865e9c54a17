#!/usr/bin/python3
"""vigil-api against the real chain (issue 5): vigil-sim plays four
providers of different kinds, vigild runs their probers, the aggregator
and vigil-api, and the test reads every endpoint over HTTP.

    VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_api_live.py

Providers (250 ms interval):

  good     openai     healthy, with a rate limit far from spent (vigil-sim
                      counts its requests and tokens down in OpenAI's
                      x-ratelimit-* headers)
  fail     anthropic  the sim answers 500: unhealthy, with alerts
  badkey   google     our key is not the sim's: 401, misconfigured
  flip     deepseek   healthy, then made to fail and recover through
                      POST /_sim/flip while SSE and WebSocket clients watch

The JSON views are checked against the segment (segdump) and the control
socket (status, history, alerts ops with python3-msgpack); CSV is parsed
with the csv module; /metrics goes through `promtool check metrics`.
tests/e2e/test_api.py covers the same endpoints against a fake segment
(segfill), with the adversarial requests.

Every server runs on 127.0.0.1 on a free port with a temporary shm name and
is stopped by pid in a finally block.
"""
import csv
import datetime
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (the shared harness)

ok = harness.ok
wait_for = harness.wait_for
note = harness.note

PROVIDERS = [("good", "openai"), ("fail", "anthropic"),
             ("badkey", "google"), ("flip", "deepseek")]
NAMES = [n for n, _ in PROVIDERS]
JSON_CT = "application/json"


def get(v, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, r.getheader("Content-Type"), \
            {k.lower(): x for k, x in r.getheaders()}, data
    finally:
        c.close()


def get_json(v, path):
    st, ct, hdrs, data = get(v, path)
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    return st, ct, doc


def rfc3339(sec):
    return datetime.datetime.fromtimestamp(
        sec, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expect_400(v, path, param):
    st, ct, doc = get_json(v, path)
    ok(st == 400 and ct == JSON_CT and doc is not None and
       doc["error"]["code"] == "bad_parameter" and
       doc["error"].get("parameter") == param,
       "400 naming %s for %s" % (param, path), (st, ct, doc))


# ---- the views -------------------------------------------------------------

def test_health(v):
    st, ct, doc = get_json(v, "/health")
    ok(st == 200 and ct == JSON_CT and doc["status"] == "ok" and
       isinstance(doc["aggregator_heartbeat_age_s"], (int, float)) and
       doc["aggregator_heartbeat_age_s"] < 5,
       "/health: 200 ok with a fresh aggregator", (st, ct, doc))
    st, ct, hd, _ = get(v, "/nosuch/path")
    ok(st == 404 and ct == JSON_CT, "unknown path: 404 JSON", (st, ct))
    st, ct, doc = get_json(v, "/health/integration/nosuch")
    ok(st == 404 and doc and doc["error"]["code"] == "not_found",
       "unknown path under /health/integration: 404 not_found", (st, doc))


def check_provider_fields(p):
    bad = []
    for k in ("name", "kind", "host", "status", "circuit", "trend", "stale",
              "last_check", "windows", "usable", "reason", "reason_since",
              "needs_human", "usable_at", "usable_in_s", "ratelimit"):
        if k not in p:
            bad.append(k)
    lc = p.get("last_check") or {}
    for k in ("at", "outcome", "http_status", "latency_ms"):
        if k not in lc:
            bad.append("last_check." + k)
    for w in ("1m", "5m", "15m"):
        wd = (p.get("windows") or {}).get(w, {})
        for k in ("samples", "error_rate", "uptime", "latency_ms"):
            if k not in wd:
                bad.append("windows.%s.%s" % (w, k))
        for q in ("p50", "p95", "p99"):
            if q not in (wd.get("latency_ms") or {}):
                bad.append("windows.%s.latency_ms.%s" % (w, q))
    return bad


def test_integration(v, t_start):
    st, ct, hd, data = get(v, "/health/integration")
    doc = json.loads(data)
    ok(st == 200 and ct == JSON_CT and hd.get("cache-control") == "no-store",
       "/health/integration: 200 JSON, no-store", (st, ct, hd))
    ps = {p["name"]: p for p in doc["providers"]}
    ok(sorted(ps) == sorted(NAMES) and
       [p["name"] for p in doc["providers"]] == NAMES,
       "/health/integration: every provider, in directory order",
       list(ps))
    for n, kind in PROVIDERS:
        p = ps.get(n, {})
        bad = check_provider_fields(p)
        ok(not bad and p["kind"] == kind and p["host"] == "127.0.0.1",
           "%s: every DESIGN.md field, kind %s" % (n, kind), (bad, p))
    ok(ps["good"]["status"] == "healthy" and
       ps["good"]["last_check"]["outcome"] == "ok" and
       ps["good"]["last_check"]["http_status"] == 200 and
       ps["good"]["stale"] is False,
       "good is healthy, its last check ok 200, not stale", ps["good"])
    ok(ps["fail"]["status"] not in ("healthy", "unknown") and
       ps["fail"]["last_check"]["http_status"] == 500 and
       ps["fail"]["windows"]["1m"]["error_rate"] == 1,
       "fail (500) is not healthy, error rate 1",
       (ps["fail"]["status"], ps["fail"]["last_check"]))
    ok(ps["badkey"]["status"] == "misconfigured" and
       ps["badkey"]["last_check"]["outcome"] == "auth" and
       ps["badkey"]["last_check"]["http_status"] in (400, 401, 403),
       "badkey (wrong key) is misconfigured, outcome auth (Google "
       "answers 400 API_KEY_INVALID)",
       (ps["badkey"]["status"], ps["badkey"]["last_check"]))
    ok(doc["status"] == "unhealthy" if ps["fail"]["status"] == "unhealthy"
       else doc["status"] in ("misconfigured", "unhealthy"),
       "overall status is the worst provider's", doc["status"])
    # What a router acts on, as the aggregator judged it.
    g, f, b = ps["good"], ps["fail"], ps["badkey"]
    ok(g["usable"] is True and g["reason"] is None and
       g["needs_human"] is False and g["usable_at"] is None,
       "good: usable, no reason, no human needed",
       {k: g[k] for k in ("usable", "reason", "needs_human", "usable_at")})
    rl = g["ratelimit"]
    ok(sorted(rl) == ["requests", "tokens"] and
       rl["requests"]["limit"] == 100000 and
       0 < rl["requests"]["remaining"] < 100000 and
       rl["tokens"]["limit"] == 1000000 and
       0 < rl["tokens"]["remaining"] < 1000000 and
       all(r["reset_at"] for r in rl.values()) and
       f["ratelimit"] == {},
       "good: the sim's rate-limit headers as headroom (requests and "
       "tokens counting down, a reset); fail reports none", (rl,
                                                            f["ratelimit"]))
    ok(b["usable"] is False and b["reason"] == "auth" and
       b["needs_human"] is True and b["usable_at"] is None and
       b["reason_since"] is not None,
       "badkey: not usable, reason auth, needs a human, no usable_at",
       {k: b[k] for k in ("usable", "reason", "needs_human", "usable_at",
                          "reason_since")})
    ok(f["reason"] in ("outage", "errors") and
       (f["usable"] is False) == (f["circuit"] == "open"),
       "fail: reason outage or errors, usable while its circuit is not "
       "open", {k: f[k] for k in ("usable", "reason", "circuit")})

    # Sample counts against the rings.  Under a minute since start every
    # windowed sample is in every window, so 1m == 5m == 15m == the
    # ring's head less the confirmation's extra requests (flagged
    # confirm, not windowed) and the answers about us (vigil.h's
    # vigil_outcome_counts: badkey's auth), up to the samples written
    # between the two reads (the aggregator runs a cycle behind at most).
    about_us = ("rate_limited", "auth", "quota", "model_missing",
                "client_error")

    def windowed(r):
        return r["head"] - sum(1 for s in r["samples"] if s["confirm"] or
                               s["outcome"] in about_us)
    rings = v.ring(1 << 16)
    doc = json.loads(get(v, "/health/integration")[3])
    rings2 = v.ring(1 << 16)
    young = time.monotonic() - t_start < 55
    for p in doc["providers"]:
        n = p["name"]
        w = p["windows"]
        ok(len(rings2[n]["samples"]) == rings2[n]["head"],
           "%s: the ring holds every sample so far" % n)
        h0, h1 = windowed(rings[n]), windowed(rings2[n])
        ok(h0 - 3 <= w["1m"]["samples"] <= h1 and
           (w["1m"]["samples"] > 0) == (n != "badkey"),
           "%s: 1m samples %d consistent with the ring head less the "
           "confirmations' extra requests (%d..%d)" %
           (n, w["1m"]["samples"], h0, h1))
        if young:
            ok(w["1m"]["samples"] == w["5m"]["samples"] ==
               w["15m"]["samples"],
               "%s: younger than a minute, every window has the same "
               "samples" % n, {k: w[k]["samples"] for k in w})
    # The control socket's status of the same moment agrees.
    cs = {p["name"]: p for p in v.result("status")["providers"]}
    for n in NAMES:
        a = doc["providers"][NAMES.index(n)]["windows"]["5m"]["samples"]
        b = cs[n]["windows"]["5m"]["samples"]
        ok(abs(a - b) <= 3 and cs[n]["status"] ==
           doc["providers"][NAMES.index(n)]["status"],
           "%s: HTTP and control status agree (samples %d vs %d)" %
           (n, a, b), (cs[n]["status"],))


def test_provider(v):
    rings = v.ring()
    st, ct, d = get_json(v, "/health/integration/providers/good?samples=5")
    rings2 = v.ring()
    ok(st == 200 and ct == JSON_CT and d["name"] == "good" and
       not check_provider_fields(d) and d["interval_ms"] == 250 and
       len(d["samples"]) == 5 and
       all(s["outcome"] == "ok" for s in d["samples"]),
       "providers/good: the detail, interval 250, 5 ok samples",
       (st, ct, d and {k: d.get(k) for k in ("name", "interval_ms")}))
    ok(d and rings["good"]["head"] - 3 <= d["samples_total"] <=
       rings2["good"]["head"],
       "providers/good: samples_total matches the ring head",
       (d and d["samples_total"], rings["good"]["head"]))
    ats = [s["unix"] for s in d["samples"]] if d else []
    ok(ats == sorted(ats), "providers/good: samples oldest first", ats)
    st, ct, d = get_json(v, "/health/integration/providers/fail")
    ok(st == 200 and d["checks_total"].get("ok", 0) == 0 and
       sum(d["checks_total"].values()) > 0 and d["alerts_total"] > 0,
       "providers/fail: checks all failed, alerts counted",
       d and (d["checks_total"], d["alerts_total"]))
    st, ct, d = get_json(v, "/health/integration/providers/nosuch")
    ok(st == 404 and ct == JSON_CT and d["error"]["code"] == "not_found",
       "providers/nosuch: 404 not_found", (st, d))
    expect_400(v, "/health/integration/providers/good?samples=x", "samples")


def test_graph(v):
    st, ct, g = get_json(v, "/health/integration/graph")
    ids = {n["id"]: n for n in g["nodes"]} if g else {}
    ok(st == 200 and ct == JSON_CT and "platform" in ids and
       "vigil" in ids and
       all("provider:" + n in ids for n in NAMES),
       "graph: platform, vigil and a node per provider", (st, ct, ids))
    ok(ids.get("provider:badkey", {}).get("status") == "misconfigured",
       "graph: badkey's node is misconfigured", ids.get("provider:badkey"))
    deps = {(e["from"], e["to"]) for e in g["edges"]} if g else set()
    ok(all(("platform", "provider:" + n) in deps and
           ("vigil", "provider:" + n) in deps for n in NAMES),
       "graph: depends_on and monitors edges to every provider", deps)
    st, ct, hd, data = get(v, "/health/integration/graph?format=dot")
    txt = data.decode()
    ok(st == 200 and ct.startswith("text/vnd.graphviz") and
       txt.lstrip().startswith("digraph") and txt.rstrip().endswith("}")
       and all('"provider:%s"' % n in txt or n in txt for n in NAMES),
       "graph?format=dot: Graphviz text naming every provider",
       (st, ct, txt[:300]))
    expect_400(v, "/health/integration/graph?format=svg", "format")


def control_history(v, name, f, t):
    r = v.result("history", {"provider": name, "from_ns": f * 10 ** 9,
                             "to_ns": t * 10 ** 9, "limit": 100000})
    return r["points"]


def test_history(v):
    now = int(time.time())
    f, t = now - 6, now - 1
    pts_ctl = control_history(v, "good", f, t)
    base = "/health/integration/history?provider=good"
    st, ct, doc = get_json(v, base + "&from=%d&to=%d" % (f, t))
    hp = doc["providers"][0]["points"] if doc else []
    ok(st == 200 and ct == JSON_CT and doc["step"] == "raw" and
       [p["name"] for p in doc["providers"]] == ["good"],
       "history raw (Unix seconds): 200 JSON, one provider", (st, ct))
    want = [round(p["at_ns"] / 1e9, 3) for p in pts_ctl]
    got = [p["unix"] for p in hp]
    ok(len(want) >= 10 and got == want,
       "history raw: exactly the control history's %d records in "
       "[from, to]" % len(want), (len(got), len(want)))
    ok(all(f <= x <= t for x in got),
       "history raw: every record inside the range", got[:3] + got[-3:])
    ok(all(p["outcome"] == "ok" and p["status"] == "healthy" for p in hp),
       "history raw: good's records are ok and healthy")
    st, ct, doc2 = get_json(v, base + "&from=%s&to=%s" %
                            (rfc3339(f), rfc3339(t)))
    ok(st == 200 and doc2["providers"][0]["points"] == hp,
       "history: the same range in RFC 3339 gives the same records",
       (st, len(doc2["providers"][0]["points"]) if doc2 else None))
    st, ct, d3 = get_json(v, "/health/integration/history?from=%d&to=%d" %
                          (f, t))
    ok(st == 200 and [p["name"] for p in d3["providers"]] == NAMES,
       "history without provider: every provider", d3 and
       [p["name"] for p in d3["providers"]])
    fp = [p for p in d3["providers"] if p["name"] == "fail"][0]["points"]
    ok(fp and all(p["outcome"] != "ok" and p["http_status"] == 500
                  for p in fp), "history: fail's records are 500s",
       fp[:2])

    # Aggregated steps over a wider range: buckets aligned to the epoch,
    # counts adding up to the raw records of the same range.
    f2, t2 = now - 120, now - 1
    raw_pts = control_history(v, "fail", f2, t2)
    for step, secs in (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600)):
        st, ct, d = get_json(v, "/health/integration/history?provider=fail"
                             "&from=%d&to=%d&step=%s" % (f2, t2, step))
        b = d["providers"][0]["points"] if d else []
        ok(st == 200 and d["step"] == step and b and
           all(x["unix"] % secs == 0 for x in b) and
           sum(x["count"] for x in b) == len(raw_pts) and
           sum(x["errors"] for x in b) == len(raw_pts) and
           all(x["error_rate"] == 1 for x in b),
           "history step %s: aligned buckets counting the %d raw records, "
           "all errors" % (step, len(raw_pts)),
           (st, [(x["unix"], x["count"]) for x in b]))
    # CSV, raw and a bucket step.
    st, ct, hd, data = get(v, base + "&from=%d&to=%d&format=csv" % (f, t))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    head = ("provider,at,unix,latency_ms,outcome,http_status,status,"
            "circuit,trend,error_rate,uptime,p50_ms,p95_ms,p99_ms,"
            "samples_1m,reason").split(",")
    ok(st == 200 and ct.startswith("text/csv") and
       hd.get("content-disposition", "").startswith("attachment") and
       'filename="vigil-history-good-raw.csv"' in
       hd.get("content-disposition", ""),
       "history csv: text/csv, attachment with a filename",
       (st, ct, hd.get("content-disposition")))
    ok(rows and rows[0] == head and b"\r\n" in data,
       "history csv: the raw header row, CRLF lines", rows[:1])
    ok([float(r[2]) for r in rows[1:]] == got and
       all(r[0] == "good" and r[4] == "ok" for r in rows[1:]),
       "history csv: the same %d records as JSON" % len(got),
       (len(rows) - 1, len(got)))
    st, ct, hd, data = get(v, "/health/integration/history?from=%d&to=%d"
                           "&step=1m&format=csv" % (f2, t2))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    ok(st == 200 and rows and rows[0] == [
        "provider", "at", "unix", "count", "errors", "error_rate",
        "mean_latency_ms", "max_latency_ms", "worst_status",
        "worst_reason"] and
       {r[0] for r in rows[1:]} == set(NAMES) and
       'filename="vigil-history-all-1m.csv"' in
       hd.get("content-disposition", ""),
       "history csv step 1m for all: bucket header, rows of every "
       "provider", (st, rows[:2], hd.get("content-disposition")))

    # Bad parameters: 400 naming the parameter; unknown provider 404.
    h = "/health/integration/history?"
    expect_400(v, h + "from=yesterday", "from")
    expect_400(v, h + "to=2026-13-01T00:00:00Z", "to")
    expect_400(v, h + "from=%d&to=%d" % (t, f), "from")
    expect_400(v, h + "step=2m", "step")
    expect_400(v, h + "format=xml", "format")
    expect_400(v, h + "stpe=1m", "stpe")
    st, ct, d = get_json(v, h + "provider=nosuch")
    ok(st == 404 and ct == JSON_CT and d["error"]["code"] == "not_found",
       "history of an unknown provider: 404", (st, d))


def test_alerts(v):
    st, ct, d = get_json(v, "/health/integration/alerts")
    al = d["alerts"] if d else []
    ok(st == 200 and ct == JSON_CT and
       any(a["provider"] == "fail" for a in al),
       "alerts: the failing provider has alerts",
       [(a["provider"], a["kind"], a["level"]) for a in al])
    ctl = v.alerts()
    ok([a["id"] for a in al] == [a["id"] for a in ctl],
       "alerts: the same ids as the control socket's alerts op",
       ([a["id"] for a in al], [a["id"] for a in ctl]))
    st, ct, d = get_json(v, "/health/integration/alerts?provider=fail")
    ok(st == 200 and d["alerts"] and
       all(a["provider"] == "fail" for a in d["alerts"]) and
       len(d["alerts"]) == sum(1 for a in al if a["provider"] == "fail"),
       "alerts?provider=fail: only and all of fail's", d and d["alerts"])
    st, ct, d = get_json(v, "/health/integration/alerts?level=critical")
    ok(st == 200 and d["alerts"] and
       all(a["level"] == "critical" for a in d["alerts"]) and
       len(d["alerts"]) == sum(1 for a in al if a["level"] == "critical"),
       "alerts?level=critical: only and all critical ones",
       d and d["alerts"])
    st, ct, d = get_json(v, "/health/integration/alerts?provider=good")
    ok(st == 200 and d["alerts"] == [],
       "alerts?provider=good: none for the healthy one", d)
    if al:
        # Whole seconds: the JSON's unix is rounded to milliseconds.
        cut = int(al[-1]["unix"])
        want = [a["id"] for a in al if a["unix"] >= cut]
        for since in ("%d" % cut, rfc3339(cut)):
            st, ct, d = get_json(v, "/health/integration/alerts?since=%s" %
                                 since)
            ok(st == 200 and [a["id"] for a in d["alerts"]] == want,
               "alerts?since=%s: the alerts at or after it" % since,
               (d and [a["id"] for a in d["alerts"]], want))
    st, ct, d = get_json(v, "/health/integration/alerts?since=%d" %
                         (time.time() + 3600))
    ok(st == 200 and d["alerts"] == [], "alerts?since=the future: none", d)
    expect_400(v, "/health/integration/alerts?level=panic", "level")
    expect_400(v, "/health/integration/alerts?since=soon", "since")


def test_metrics(v):
    st, ct, hd, data = get(v, "/metrics")
    txt = data.decode()
    ok(st == 200 and ct.startswith("text/plain") and "version=0.0.4" in ct,
       "/metrics: 200 text/plain; version=0.0.4", (st, ct))
    r = subprocess.run(["promtool", "check", "metrics"], input=data,
                       capture_output=True, timeout=30)
    ok(r.returncode == 0, "promtool check metrics passes",
       (r.stdout[-500:], r.stderr[-500:]))
    for fam in ("vigil_provider_up", "vigil_provider_usable",
                "vigil_provider_needs_human", "vigil_provider_status",
                "vigil_error_ratio", "vigil_latency_seconds",
                "vigil_checks_total", "vigil_check_duration_seconds_bucket"):
        missing = [n for n in NAMES
                   if '%s{provider="%s"' % (fam, n) not in txt]
        ok(not missing, "/metrics: %s for every provider" % fam, missing)
    ok('vigil_provider_up{provider="good"} 1' in txt and
       'vigil_provider_up{provider="fail"} 0' in txt,
       "/metrics: good is up, fail is not",
       [ln for ln in txt.splitlines()
        if ln.startswith("vigil_provider_up{")])
    lim = {(lb.get("provider"), lb.get("resource")): v for n, lb, v in
           harness.prom_samples(txt) if n == "vigil_ratelimit_limit"}
    rst = [float(v) for n, lb, v in harness.prom_samples(txt)
           if n == "vigil_ratelimit_reset_seconds"]
    ok(lim == {("good", "requests"): "100000",
               ("good", "tokens"): "1000000"} and len(rst) == 2 and
       all(0 < x <= 3600 for x in rst),
       "/metrics: good's rate limits by resource, with their resets, and "
       "no other provider's (promtool checked them above)", (lim, rst))
    ok('vigil_provider_usable{provider="good"} 1' in txt and
       'vigil_provider_usable{provider="badkey"} 0' in txt and
       'vigil_provider_needs_human{provider="badkey"} 1' in txt and
       'vigil_provider_needs_human{provider="good"} 0' in txt,
       "/metrics: good is usable; badkey is not and needs a human",
       [ln for ln in txt.splitlines() if ln.startswith(
           ("vigil_provider_usable{", "vigil_provider_needs_human{"))])
    ok('vigil_provider_status{provider="badkey",'
       'status="misconfigured"} 1' in txt,
       "/metrics: badkey's status series is misconfigured",
       [ln for ln in txt.splitlines() if "badkey" in ln and
        "vigil_provider_status{" in ln])
    # Issue 9: kind only in vigil_provider_info (the configured kind of
    # every provider, names and kinds differ here), no summary _sum/_count.
    bad = harness.prom_layout(txt, dict(PROVIDERS))
    ok(not bad, "/metrics: kind only in vigil_provider_info, the "
       "configured kind of each provider", bad[:5])


# ---- live events -------------------------------------------------------------

def status_events(evs, name):
    out = []
    for e in evs:
        try:
            d = json.loads(e["data"])
        except (KeyError, ValueError):
            continue
        if d.get("type") == "status" and d.get("provider") == name:
            out.append((e, d))
    return out


def wait_sse(sse, pred, timeout):
    """Read SSE until pred(parsed events) is true; returns the events."""
    end = time.time() + timeout
    evs = sse.parse()
    while not pred(evs) and time.time() < end:
        sse.events(len(evs) + 1, max(0.05, end - time.time()))
        evs = sse.parse()
    return evs


def test_events(v, sim):
    sse = harness.SSE(v.port)
    ws = harness.WS(v.port)
    try:
        ok(ws.status == 101, "/ws/health: 101 Switching Protocols",
           ws.status)
        # The stream's head: 200 text/event-stream.
        end = time.time() + 5
        while sse.head is None and time.time() < end:
            sse._fill(end)
        head = (sse.head or b"").decode("latin-1")
        ok(head.startswith("HTTP/1.1 200") and
           "content-type: text/event-stream" in head.lower(),
           "events: 200 text/event-stream", head)
        t0 = time.monotonic()
        sim.fault("flip", {"status": 500})
        evs = wait_sse(sse, lambda e: any(
            d["from"] == "healthy" for _, d in status_events(e, "flip")),
            10)
        dt = time.monotonic() - t0
        se = [(e, d) for e, d in status_events(evs, "flip")
              if d["from"] == "healthy"]
        ok(se and se[0][1]["to"] != "healthy" and
           int(se[0][0]["id"]) == se[0][1]["id"] and
           se[0][0].get("event") == "status",
           "SSE: flip's status change from healthy (fault by POST "
           "/_sim/flip) with an id", se[:1] or evs)
        note("SSE: flip's status change %.2f s after the fault, detection "
             "included (4 checks at 250 ms)" % dt)
        d = se[0][1] if se else {}
        ok(d.get("reason") in ("outage", "errors") and
           isinstance(d.get("usable"), bool) and
           d.get("needs_human") is False and "usable_at" in d and
           isinstance(d.get("ratelimit"), dict) and
           d.get("state", {}).get("reason") == d.get("reason"),
           "SSE: the status event carries the router's fields (reason "
           "outage or errors)", d)
        # The WebSocket sees the same event.
        got = None
        end = time.time() + 10
        while got is None and time.time() < end:
            try:
                m = ws.recv_text(max(0.05, end - time.time()))
            except Exception:
                break
            if m.get("type") == "status" and m.get("provider") == "flip" \
                    and m.get("from") == "healthy":
                got = m
        ok(got is not None and se and got["id"] == se[0][1]["id"] and
           got["to"] == se[0][1]["to"],
           "WebSocket: the same status event (same id) as SSE", got)
        last_id = max(int(e["id"]) for e in sse.parse())
    finally:
        sse.close()
        ws.close()

    # Missed while disconnected: recovery of flip, then resume.
    sim.fault("flip", {"clear": True})
    wait_for(lambda: v.integration()["flip"]["status"] == "healthy", 10)
    sse = harness.SSE(v.port, last_id=last_id)
    try:
        evs = wait_sse(sse, lambda e: any(
            d["to"] == "healthy" for _, d in status_events(e, "flip")), 5)
        ids = [int(e["id"]) for e in evs if "id" in e]
        back = [d for _, d in status_events(evs, "flip")
                if d["to"] == "healthy"]
        ok(back and ids and ids[0] == last_id + 1 and ids == sorted(ids),
           "SSE with Last-Event-ID: %d: the missed events from %d on, "
           "flip back to healthy among them" % (last_id, last_id + 1),
           (ids, back))
    finally:
        sse.close()
    ws = harness.WS(v.port, path="/ws/health?last_event_id=%d" % last_id)
    try:
        first = ws.recv_text(5)
        ok(first.get("id") == last_id + 1,
           "WebSocket ?last_event_id: the replay starts after it", first)
    finally:
        ws.close()

    # Rate limited: throttled, a usable event with the reason and, as
    # long as it is not usable, when it is expected back.
    sse = harness.SSE(v.port)
    try:
        sse.events(0, 0.5)
        sim.fault("flip", {"status": 429, "retry_after": 5})

        def throttled(evs):
            for e in evs:
                d = json.loads(e["data"])
                if e.get("event") == "usable" and \
                        d.get("provider") == "flip" and \
                        d.get("reason") == "rate_limited":
                    return d
            return None
        d = throttled(wait_sse(sse, throttled, 10)) or {}
        ok(d.get("status") == "throttled" and
           d.get("needs_human") is False and
           (d.get("usable") is True or d.get("usable_at") is not None),
           "SSE: a 429 makes flip throttled: a usable event, reason "
           "rate_limited, usable_at while not usable", d)
        p = v.integration()["flip"]
        ok(p["status"] in ("throttled", "healthy") and
           p["circuit"] == "closed" and p["needs_human"] is False,
           "a 429 never opens flip's circuit", p)
    finally:
        sim.fault("flip", {"clear": True})
        sse.close()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-api-live-sim-")
    sim = v = None
    try:
        sim = harness.Sim(tmp, ["good:openai:sk-live-good",
                                "fail:anthropic:sk-live-fail",
                                "badkey:google:sk-live-right",
                                "flip:deepseek:sk-live-flip"])
        sim.fault("fail", {"status": 500})
        sim.fault("good", {"ratelimit": {"requests": 100000,
                                         "tokens": 1000000,
                                         "window_s": 3600}})
        v = harness.Vigil("apilive")
        v.write_conf([{"name": n, "kind": k, "base_url": sim.base(n),
                       "key": "sk-live-wrong" if n == "badkey" else
                       "sk-live-" + n} for n, k in PROVIDERS],
                     # flip is healthy again only once its circuit has
                     # closed (an open circuit is never healthy): a short
                     # cool-down keeps its recovery within the waits.
                     ["circuit_cooldown = 1s", "circuit_cooldown_max = 2s"],
                     "250ms", "200ms")
        v.start(NAMES)
        t_start = time.monotonic()

        def settled():
            try:
                ps = v.integration()
                al = v.alerts("fail")
            except (OSError, ValueError, KeyError, RuntimeError):
                return False
            return (ps["good"]["status"] == "healthy" and
                    ps["flip"]["status"] == "healthy" and
                    ps["badkey"]["status"] == "misconfigured" and
                    ps["fail"]["status"] == "unhealthy" and al)
        if not ok(wait_for(settled, 20, 0.2),
                  "the four providers settle: healthy, unhealthy with "
                  "alerts, misconfigured",
                  v.api("/health/integration")):
            return 1
        # Some history to compare ranges with (6 s at 4 checks/s).
        time.sleep(max(0, 7 - (time.monotonic() - t_start)))
        for t in (test_health, test_integration, test_provider, test_graph,
                  test_history, test_alerts, test_metrics, test_events):
            try:
                if t is test_integration:
                    t(v, t_start)
                elif t is test_events:
                    t(v, sim)
                else:
                    t(v)
            except Exception as e:  # a crash fails one test, not the run
                import traceback
                traceback.print_exc()
                ok(False, "%s raised %s: %s" % (t.__name__,
                                               type(e).__name__, e))
    except Exception as e:
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
        if not harness.failures:
            shutil.rmtree(tmp, ignore_errors=True)
    print("# test_api_live: %d failed" % harness.failures)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
