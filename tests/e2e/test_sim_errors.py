#!/usr/bin/python3
"""End-to-end tests of vigil-sim's error modes (tests/sim/errors.c).

Starts VIGIL_BUILD/vigil-sim (default build/) with one provider of each
LLM kind and puts each in every error mode of its kind through the
control API (POST /_sim/NAME {"error_mode": MODE}): the check endpoint
and the generation endpoint must both answer with the mode's status,
headers and exact body as GET /_sim/_modes lists them.  A few modes are
also checked against hand-written expectations from the providers'
documentation, so that the listing and the answers cannot be wrong
together.  Then: Retry-After overrides, error_rate with a mode, refused
modes, clearing, start-up faults and a clean exit.
Stdlib only.  Prints "ok - NAME" / "not ok - NAME"; exits 1 on a failure.
"""
import calendar
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import harness
from harness import result as check

SIM = harness.binpath("vigil-sim")

KEYS = {"oa": "sk-proj-good-0123456789abcdef", "an": "sk-ant-good-0123456789",
        "gg": "AIza-good-0123456789", "ds": "sk-ds-good-0123456789",
        "qw": "sk-qw-good-0123456789"}
PROV = {"openai": "oa", "anthropic": "an", "google": "gg",
        "deepseek": "ds", "qwen": "qw"}


req = harness.request


def ctl(port, method, path, body=None):
    st, _, b = req(port, method, "/_sim" + path,
                   {"Content-Type": "application/json"}, body)
    try:
        return st, json.loads(b)
    except ValueError:
        return st, None


def endpoints(name, kind):
    """The (method, path, headers, body) of kind's check and generation
    requests for provider name, under its prefix on the main port."""
    k = KEYS[name]
    chat = {"model": "m", "max_tokens": 1,
            "messages": [{"role": "user", "content": "ping"}]}
    p = "/" + name
    if kind == "anthropic":
        h = {"x-api-key": k, "anthropic-version": "2023-06-01"}
        return [("GET", p + "/v1/models", h, None),
                ("POST", p + "/v1/messages", h, chat)]
    if kind == "google":
        return [("GET", p + "/v1beta/models?key=" + k, {}, None),
                ("POST", p + "/v1beta/models/gemini-2.0-flash:"
                 "generateContent", {"x-goog-api-key": k},
                 {"contents": [{"parts": [{"text": "ping"}]}]})]
    h = {"Authorization": "Bearer " + k}
    base = {"openai": "/v1", "deepseek": "",
            "qwen": "/compatible-mode/v1"}[kind]
    return [("GET", p + base + "/models", h, None),
            ("POST", p + base + "/chat/completions", h, chat)]


def rfc3339(v):
    """Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ", or None."""
    try:
        return calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def headers_match(row, h, retry_after, t0, t1):
    """Does answer header dict h carry row's headers, with Retry-After
    retry_after (0: none)?  Time templates are checked against the
    wall clock before (t0) and after (t1) the request."""
    bad = []
    if retry_after:
        if h.get("retry-after") != str(retry_after):
            bad.append(("retry-after", h.get("retry-after")))
    elif "retry-after" in h:
        bad.append(("retry-after", h["retry-after"]))
    if not h.get("content-type", "").startswith("application/json"):
        bad.append(("content-type", h.get("content-type")))
    for name, tmpl in row["headers"].items():
        got = h.get(name.lower())
        if tmpl.startswith("@"):
            off = retry_after if tmpl == "@retry" else int(tmpl[2:])
            t = rfc3339(got)
            if t is None or not (int(t0) + off - 1 <= t <= int(t1) + off + 1):
                bad.append((name, got, tmpl))
        elif got != tmpl:
            bad.append((name, got, tmpl))
    return bad


def serve_mode(port, row, retry_after=None):
    """Put row's provider in row's mode; ask both endpoints.  Returns a
    list of problems ([] when both answers are exactly the row's)."""
    name = PROV[row["kind"]]
    body = {"clear": True, "error_mode": row["mode"]}
    if retry_after is not None:
        body["retry_after"] = retry_after
    st, o = ctl(port, "POST", "/" + name, body)
    if st != 200 or (o or {}).get("faults", {}).get("error_mode") != \
            row["mode"]:
        return [("control", st, o)]
    ra = retry_after if retry_after else row["retry_after"]
    bad = []
    for method, path, h, b in endpoints(name, row["kind"]):
        t0 = time.time()
        st, hd, data = req(port, method, path, h, b)
        t1 = time.time()
        if st != row["status"]:
            bad.append((method, "status", st))
        if data != row["body"].encode():
            bad.append((method, "body", data[:200]))
        bad += [(method,) + x for x in headers_match(row, hd, ra, t0, t1)]
    return bad


def test_modes(port, rows):
    kinds = {r["kind"] for r in rows}
    check("every LLM kind has error modes",
          kinds == set(PROV), sorted(kinds))
    for r in rows:
        check("%s: fields" % r["mode"],
              r["mode"].startswith(r["kind"] + "_") and
              400 <= r["status"] <= 599 and r["outcome"] and
              r["error"].startswith("http:%d" % r["status"]) and
              r["source"].startswith("https://") and
              isinstance(json.loads(r["body"]), dict), r)
        bad = serve_mode(port, r)
        check("%s: both endpoints answer %d with its headers and body" %
              (r["mode"], r["status"]), not bad, bad)


def answer(port, mode, kind, retry_after=None):
    """Put kind's provider in mode; the generation endpoint's answer
    (status, headers, parsed JSON body)."""
    name = PROV[kind]
    body = {"clear": True, "error_mode": mode}
    if retry_after is not None:
        body["retry_after"] = retry_after
    ctl(port, "POST", "/" + name, body)
    method, path, h, b = endpoints(name, kind)[1]
    st, hd, data = req(port, method, path, h, b)
    try:
        return st, hd, json.loads(data)
    except ValueError:
        return st, hd, None


def test_documented(port):
    """Independent of the listing: what the providers' pages say."""
    st, h, o = answer(port, "openai_insufficient_quota", "openai")
    check("openai_insufficient_quota: 429, type and code insufficient_quota",
          st == 429 and o["error"]["type"] == "insufficient_quota" and
          o["error"]["code"] == "insufficient_quota" and
          "retry-after" not in h, (st, h, o))
    st, h, o = answer(port, "openai_rate_limit_requests", "openai")
    check("openai_rate_limit_requests: 429 rate_limit_exceeded, "
          "x-ratelimit-remaining-requests 0",
          st == 429 and o["error"]["code"] == "rate_limit_exceeded" and
          h.get("x-ratelimit-remaining-requests") == "0" and
          "retry-after" in h, (st, h, o))
    st, h, o = answer(port, "openai_server_overloaded", "openai")
    check("openai_server_overloaded: 503 server_is_overloaded",
          st == 503 and o["error"]["code"] == "server_is_overloaded",
          (st, o))
    st, h, o = answer(port, "anthropic_overloaded", "anthropic")
    check("anthropic_overloaded: 529 overloaded_error",
          st == 529 and o["type"] == "error" and
          o["error"]["type"] == "overloaded_error", (st, o))
    st, h, o = answer(port, "anthropic_enforced_spend_limit", "anthropic")
    check("anthropic_enforced_spend_limit: 429, details.error_code, "
          "no retry-after",
          st == 429 and o["error"]["type"] == "rate_limit_error" and
          o["error"]["details"]["error_code"] ==
          "enforced_spend_limit_reached" and "retry-after" not in h,
          (st, h, o))
    st, h, o = answer(port, "anthropic_rate_limit", "anthropic")
    check("anthropic_rate_limit: retry-after and anthropic-ratelimit-*",
          st == 429 and h.get("retry-after") == "30" and
          h.get("anthropic-ratelimit-requests-remaining") == "0" and
          rfc3339(h.get("anthropic-ratelimit-requests-reset")) is not None,
          (st, h))
    st, h, o = answer(port, "google_quota_per_day", "google")
    ids = [v.get("quotaId", "") for d in o["error"].get("details", [])
           for v in d.get("violations", [])]
    check("google_quota_per_day: 429 RESOURCE_EXHAUSTED, a PerDay quotaId",
          st == 429 and o["error"]["status"] == "RESOURCE_EXHAUSTED" and
          any("PerDay" in i for i in ids), (st, o))
    st, h, o = answer(port, "google_api_key_invalid", "google")
    check("google_api_key_invalid: 400 with reason API_KEY_INVALID",
          st == 400 and any(d.get("reason") == "API_KEY_INVALID"
                            for d in o["error"]["details"]), (st, o))
    st, h, o = answer(port, "deepseek_insufficient_balance", "deepseek")
    check("deepseek_insufficient_balance: 402 Insufficient Balance",
          st == 402 and o["error"]["message"] == "Insufficient Balance",
          (st, o))
    st, h, o = answer(port, "qwen_native_arrearage", "qwen")
    check("qwen_native_arrearage: 403, native code Arrearage",
          st == 403 and o["code"] == "Arrearage" and "request_id" in o,
          (st, o))
    st, h, o = answer(port, "qwen_arrearage", "qwen")
    check("qwen_arrearage: 400, compatible-mode error.code Arrearage",
          st == 400 and o["error"]["code"] == "Arrearage", (st, o))


def test_control(port, rows):
    byname = {r["mode"]: r for r in rows}
    # Retry-After from the fault wins, and the reset headers follow it.
    bad = serve_mode(port, byname["anthropic_rate_limit"], retry_after=5)
    check("retry_after overrides the mode's Retry-After (and @retry)",
          not bad, bad)
    st, h, o = answer(port, "anthropic_enforced_spend_limit", "anthropic",
                      retry_after=7)
    check("retry_after adds Retry-After to a mode without one",
          st == 429 and h.get("retry-after") == "7", (st, h))

    # error_rate with a mode: that fraction gets the mode, the rest the
    # kind's own answer.
    ctl(port, "POST", "/reset-counters")
    st, o = ctl(port, "POST", "/oa",
                {"clear": True, "error_rate": 0.5,
                 "error_mode": "openai_insufficient_quota"})
    seen = {}
    method, path, h, b = endpoints("oa", "openai")[0]
    for _ in range(40):
        s, _, data = req(port, method, path, h, b)
        seen.setdefault(s, set()).add(data)
    check("error_rate 0.5 with a mode: both answers, the mode's exact",
          set(seen) == {200, 429} and seen[429] ==
          {byname["openai_insufficient_quota"]["body"].encode()},
          {k: len(v) for k, v in seen.items()})
    st, o = ctl(port, "GET", "/oa")
    check("counters: injected counts the mode's answers",
          st == 200 and o["counters"]["injected"] ==
          o["counters"]["by_status"].get("429"), o.get("counters"))

    # Refused: unknown names (with the list), wrong types; nothing changes.
    st, o = ctl(port, "POST", "/oa", {"clear": True,
                                     "error_mode": "openai_bogus"})
    check("unknown mode: 400 listing the modes",
          st == 400 and "openai_bogus" in o["error"] and
          "openai_insufficient_quota" in o["error"] and
          "qwen_native_data_inspection_failed" in o["error"], o)
    st, o = ctl(port, "POST", "/oa", {"error_mode": 3})
    check("a number for error_mode: 400", st == 400 and
          "error_mode" in o["error"], o)
    st, o = ctl(port, "GET", "/oa")
    check("refused changes change nothing",
          o["faults"]["error_mode"] == "openai_insufficient_quota" and
          o["faults"]["error_rate"] == 0.5, o["faults"])

    # Cleared by null, "", clear and DELETE.
    for how in ({"error_mode": None}, {"error_mode": ""}, {"clear": True}):
        ctl(port, "POST", "/oa", {"error_mode": "openai_slow_down"})
        st, o = ctl(port, "POST", "/oa", how)
        check("%s clears the mode" % json.dumps(how),
              st == 200 and o["faults"]["error_mode"] is None, o)
    ctl(port, "POST", "/oa", {"clear": True,
                              "error_mode": "openai_slow_down"})
    st, o = ctl(port, "DELETE", "/oa")
    s, _, _ = req(port, method, path, h, b)
    check("DELETE clears the mode: the right key gets 200 again",
          st == 200 and o["faults"]["error_mode"] is None and s == 200,
          (st, s))

    st, o = ctl(port, "POST", "/_modes", {})
    check("POST /_sim/_modes: 405", st == 405, (st, o))


def test_own_port(info, rows):
    """A provider with a port of its own answers at the root the same."""
    port = info["port"]
    own = info["providers"]["oa"]["port"]
    row = [r for r in rows if r["mode"] == "openai_model_not_found"][0]
    ctl(port, "POST", "/oa", {"clear": True, "error_mode": row["mode"]})
    st, h, data = req(own, "POST", "/v1/chat/completions",
                      {"Authorization": "Bearer " + KEYS["oa"]},
                      {"model": "gpt-vigil-0", "messages": []})
    check("own port: the mode's answer at the root",
          st == 404 and data == row["body"].encode(), (st, data[:200]))
    ctl(port, "DELETE", "/oa")


def test_startup(tmp):
    """-f NAME={"error_mode": ...} from the start; a bad one exits 2."""
    pf = os.path.join(tmp, "st.ports")
    log = open(os.path.join(tmp, "st.err"), "wb")
    p = subprocess.Popen([SIM, "--port-file", pf, "-P", "g:google",
                          "-f", 'g={"error_mode":"google_overloaded"}'],
                         stdout=subprocess.DEVNULL, stderr=log)
    try:
        if not harness.wait_for(lambda: os.path.exists(pf), 20):
            check("start-up mode: sim started", False)
            return
        with open(pf) as f:
            port = json.load(f)["port"]
        st, _, data = req(port, "GET", "/g/v1beta/models")
        check("start-up -f error_mode: the first answer is the mode's",
              st == 503 and b'"UNAVAILABLE"' in data, (st, data[:200]))
    finally:
        harness.stop_process(p)
        log.close()
    r = subprocess.run([SIM, "-P", "g:google", "-f",
                        'g={"error_mode":"nope"}'], capture_output=True,
                       timeout=20)
    err = r.stderr.decode(errors="replace")
    check("start-up -f with an unknown mode: exit 2, names it",
          r.returncode == 2 and "nope" in err, (r.returncode, err[-300:]))


def main():
    if not os.access(SIM, os.X_OK):
        print("not ok - %s not built (make %s)" % (SIM, SIM))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        pf = os.path.join(tmp, "sim.ports")
        errpath = os.path.join(tmp, "sim.err")
        args = [SIM, "--port-file", pf, "--seed", "3"]
        for kind, name in PROV.items():
            args += ["-P", "%s:%s:%s%s" % (name, kind, KEYS[name],
                                           ":0" if name == "oa" else "")]
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        errf = open(errpath, "wb")
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                stderr=errf, env=env)
        try:
            if not harness.wait_for(lambda: os.path.exists(pf), 20):
                check("vigil-sim started", False)
                return 1
            with open(pf) as f:
                info = json.load(f)
            port = info["port"]
            st, rows = ctl(port, "GET", "/_modes")
            check("GET /_sim/_modes lists the modes",
                  st == 200 and isinstance(rows, list) and len(rows) >= 40,
                  (st, rows if not isinstance(rows, list) else len(rows)))
            rows = rows if isinstance(rows, list) else []
            for t, a in ((test_modes, (port, rows)),
                         (test_documented, (port,)),
                         (test_control, (port, rows)),
                         (test_own_port, (info, rows))):
                try:
                    t(*a)
                except Exception as e:      # a crash fails, not aborts
                    check("%s ran to the end" % t.__name__, False, repr(e))
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rc = None
            with open(errpath, "rb") as f:
                err = f.read().decode(errors="replace")
            check("SIGTERM: exit 0, no sanitizer report",
                  rc == 0 and "Sanitizer" not in err and
                  "runtime error" not in err, (rc, err[-3000:]))
        finally:
            harness.stop_process(proc)
            errf.close()
        try:
            test_startup(tmp)
        except Exception as e:
            check("test_startup ran to the end", False, repr(e))
    print("# %s" % ("FAILED: %d" % harness.failures if harness.failures
                    else "all passed"))
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
