#!/usr/bin/python3
"""End-to-end tests of vigil-sim, the fake provider server.

Starts VIGIL_BUILD/vigil-sim (default build/) on free loopback ports and
checks every provider kind's answer to a right and a wrong key, every
fault, the control endpoint /_sim, the config file, bad input, HTTPS
(with a throwaway CA made with the openssl CLI) and the connection
counters, and a clean exit on SIGTERM (status 0, no sanitizer report).
Stdlib only.
Prints "ok - NAME" / "not ok - NAME"; exits 1 on any failure.
"""
import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import harness
from harness import result as check

SIM = harness.binpath("vigil-sim")

KEYS = {
    "oa": "sk-proj-good-0123456789abcdef",
    "an": "sk-ant-good-0123456789",
    "gg": "AIza-good-0123456789",
    "ds": "sk-ds-good-0123456789",
    "qw": "sk-qw-good-0123456789",
    "cu": "key_cursor_good_0123456789",
    "f1": "sk-fault-0123456789",
}


class Sim:
    """A vigil-sim process; always stop() it (kill by pid)."""

    def __init__(self, args, tmp, tag="sim"):
        self.portfile = os.path.join(tmp, tag + ".ports")
        self.errpath = os.path.join(tmp, tag + ".err")
        self.err = open(self.errpath, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(
            [SIM, "--port-file", self.portfile, "--seed", "7"] + args,
            stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.info = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(self.portfile):
                with open(self.portfile) as f:
                    self.info = json.load(f)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.info is None:
            self.stop()
            raise RuntimeError("vigil-sim did not start: %s" %
                               self.stderr())
        self.port = self.info["port"]
        self.stdout_line = self.proc.stdout.readline()

    def stderr(self):
        self.err.flush()
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    def own(self, name):
        return self.info["providers"][name]["port"]


req = harness.request


def jget(port, path, headers=None):
    st, h, b = req(port, "GET", path, headers)
    try:
        return st, h, json.loads(b)
    except ValueError:
        return st, h, None


def ctl(sim, method, name="", body=None):
    st, _, b = req(sim.port, method, "/_sim" + ("/" + name if name else ""),
                   {"Content-Type": "application/json"}, body)
    try:
        return st, json.loads(b)
    except ValueError:
        return st, None


def raw(port, request, timeout=5):
    """Send raw bytes, read until the server closes: (bytes, exception)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    exc = None
    try:
        s.sendall(request)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        exc = e
    finally:
        s.close()
    return data, exc


def split_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def bearer(k):
    return {"Authorization": "Bearer " + k}


def basic(user):
    return {"Authorization": "Basic " +
            base64.b64encode((user + ":").encode()).decode()}


def wait_held_zero(sim, name, secs=5):
    deadline = time.monotonic() + secs
    c = None
    while time.monotonic() < deadline:
        _, o = ctl(sim, "GET", name)
        c = o["counters"]
        if c["held"] == 0:
            return c
        time.sleep(0.05)
    return c


# ---- kinds ------------------------------------------------------------

def test_kinds(sim):
    P = sim.port
    oa = sim.own("oa")
    gg = sim.own("gg")

    for label, port, path in (("own port", oa, "/v1/models"),
                              ("prefix", P, "/oa/v1/models")):
        st, h, o = jget(port, path, bearer(KEYS["oa"]))
        check("openai %s right key: 200 list of models" % label,
              st == 200 and o and o["object"] == "list" and
              all(m["object"] == "model" and m["id"] for m in o["data"]) and
              h.get("content-type", "").startswith("application/json"),
              (st, o))
    st, _, b = req(oa, "GET", "/v1/models", bearer("sk-proj-wrong-0000000000"))
    o = json.loads(b)
    check("openai wrong key: 401 invalid_api_key",
          st == 401 and o["error"]["code"] == "invalid_api_key" and
          o["error"]["type"] == "invalid_request_error" and
          "message" in o["error"] and "param" in o["error"], (st, o))
    check("openai wrong key: key not echoed whole",
          b"sk-proj-wrong-0000000000" not in b, b)
    st, _, o = jget(oa, "/v1/models")
    check("openai no key: 401 error object",
          st == 401 and o["error"]["type"] == "invalid_request_error",
          (st, o))

    ah = {"x-api-key": KEYS["an"], "anthropic-version": "2023-06-01"}
    st, _, o = jget(P, "/an/v1/models", ah)
    check("anthropic right key: 200 paginated list",
          st == 200 and isinstance(o["data"], list) and o["data"] and
          all(m["type"] == "model" for m in o["data"]) and
          o["has_more"] is False and "first_id" in o, (st, o))
    st, _, o = jget(P, "/an/v1/models", {"x-api-key": "sk-ant-wrong",
                                         "anthropic-version": "2023-06-01"})
    check("anthropic wrong key: 401 authentication_error",
          st == 401 and o["type"] == "error" and
          o["error"]["type"] == "authentication_error", (st, o))
    st, _, o = jget(P, "/an/v1/models", {"x-api-key": KEYS["an"]})
    check("anthropic without anthropic-version: 400 invalid_request_error",
          st == 400 and o["error"]["type"] == "invalid_request_error",
          (st, o))

    st, _, o = jget(gg, "/v1beta/models", {"x-goog-api-key": KEYS["gg"]})
    check("google right key (header): 200 models",
          st == 200 and o["models"] and
          all(m["name"].startswith("models/") for m in o["models"]), (st, o))
    st, _, o = jget(P, "/gg/v1beta/models?key=" + KEYS["gg"])
    check("google right key (?key=): 200", st == 200 and o["models"], st)
    st, _, o = jget(gg, "/v1beta/models", {"x-goog-api-key": "AIza-wrong"})
    check("google wrong key: 400 INVALID_ARGUMENT API key not valid",
          st == 400 and o["error"]["code"] == 400 and
          o["error"]["status"] == "INVALID_ARGUMENT" and
          "API key not valid" in o["error"]["message"], (st, o))
    st, _, o = jget(gg, "/v1beta/models?key=AIza-wrong")
    check("google wrong ?key=: 400", st == 400, st)

    for path in ("/ds/models", "/ds/v1/models"):
        st, _, o = jget(P, path, bearer(KEYS["ds"]))
        check("deepseek right key %s: 200 list" % path,
              st == 200 and o["object"] == "list" and
              o["data"][0]["id"].startswith("deepseek"), (st, o))
    st, _, b = req(P, "GET", "/ds/models", bearer("sk-ds-wrong-99999999"))
    o = json.loads(b)
    check("deepseek wrong key: 401 authentication_error",
          st == 401 and o["error"]["type"] == "authentication_error", (st, o))
    check("deepseek wrong key: key not echoed whole",
          b"sk-ds-wrong-99999999" not in b, b)

    st, _, o = jget(P, "/qw/compatible-mode/v1/models", bearer(KEYS["qw"]))
    check("qwen right key: 200 list",
          st == 200 and o["object"] == "list" and
          o["data"][0]["id"].startswith("qwen"), (st, o))
    st, _, o = jget(P, "/qw/compatible-mode/v1/models", bearer("sk-bad"))
    check("qwen wrong key: 401 invalid_api_key",
          st == 401 and o["error"]["code"] == "invalid_api_key", (st, o))
    st, _, o = jget(P, "/qw/v1/models", bearer(KEYS["qw"]))
    check("qwen outside compatible-mode: 404", st == 404, st)

    st, _, o = jget(P, "/cu/v0/models", basic(KEYS["cu"]))
    check("cursor right key /v0/models: 200",
          st == 200 and isinstance(o["models"], list), (st, o))
    st, _, o = jget(P, "/cu/v0/me", basic(KEYS["cu"]))
    check("cursor right key /v0/me: 200", st == 200 and "apiKeyName" in o,
          (st, o))
    st, _, o = jget(P, "/cu/v0/me", basic("key_cursor_wrong"))
    check("cursor wrong key: 401", st == 401 and "error" in o, (st, o))
    st, _, o = jget(P, "/cu/v0/me")
    check("cursor no key: 401", st == 401, st)

    st, _, o = jget(P, "/hh/health")
    st2, _, _ = jget(P, "/hh/any/path")
    check("http: 200 on /health and any path", st == 200 and st2 == 200 and
          o["status"] == "ok", (st, st2))

    # The generation check's streaming endpoints.
    st, h, b = req(oa, "POST", "/v1/chat/completions",
                   dict(bearer(KEYS["oa"]), **{"Content-Type":
                                               "application/json"}),
                   {"model": "gpt-4o-mini", "stream": True, "max_tokens": 1,
                    "messages": [{"role": "user", "content": "hi"}]})
    ev = [ln[6:] for ln in b.decode().split("\n") if ln.startswith("data: ")]
    ok = (st == 200 and h["content-type"].startswith("text/event-stream") and
          ev[-1] == "[DONE]" and
          all(json.loads(e)["object"] == "chat.completion.chunk"
              for e in ev[:-1]))
    check("openai streaming chat: SSE chunks ending [DONE]", ok, (st, b[:200]))
    st, _, b = req(oa, "POST", "/v1/chat/completions", bearer("wrong"),
                   {"stream": True})
    check("openai streaming chat wrong key: 401", st == 401, st)
    st, h, b = req(P, "POST", "/an/v1/messages",
                   dict(ah, **{"Content-Type": "application/json"}),
                   {"model": "claude-3-5-haiku-latest", "max_tokens": 1,
                    "stream": True,
                    "messages": [{"role": "user", "content": "hi"}]})
    check("anthropic streaming messages: SSE to message_stop",
          st == 200 and b"event: message_start" in b and
          b"content_block_delta" in b and
          b.rstrip().endswith(b'data: {"type":"message_stop"}'),
          (st, b[-100:]))
    st, h, b = req(gg, "POST", "/v1beta/models/gemini-2.0-flash:"
                   "streamGenerateContent?alt=sse",
                   {"x-goog-api-key": KEYS["gg"],
                    "Content-Type": "application/json"},
                   {"contents": [{"parts": [{"text": "hi"}]}]})
    d = [ln[6:] for ln in b.decode().splitlines() if ln.startswith("data: ")]
    check("google streamGenerateContent: SSE candidates",
          st == 200 and d and "candidates" in json.loads(d[0]), (st, b[:200]))


# ---- faults -----------------------------------------------------------

def f1(sim, path="/f1/v1/models", timeout=10):
    return req(sim.port, "GET", path, bearer(KEYS["f1"]), timeout=timeout)


def test_faults(sim):
    P = sim.port

    st, o = ctl(sim, "POST", "f1", {"latency_ms": 300})
    t = time.monotonic()
    st2, _, _ = f1(sim)
    el = time.monotonic() - t
    check("latency_ms 300: answer after >= 0.3 s",
          st == 200 and st2 == 200 and el >= 0.3, (st, st2, el))

    ctl(sim, "POST", "f1", {"clear": True, "latency_tail_ms": 400,
                            "tail_prob": 1.0, "latency_jitter_ms": 50})
    t = time.monotonic()
    st, _, _ = f1(sim)
    el = time.monotonic() - t
    check("latency tail (prob 1) 400 ms: answer after >= 0.4 s",
          st == 200 and el >= 0.4, (st, el))

    ctl(sim, "POST", "f1", {"clear": True})
    ctl(sim, "POST", "f1/reset-counters")
    n = 300
    ctl(sim, "POST", "f1", {"error_rate": 0.5, "error_status": 503})
    counts = {}
    for _ in range(n):
        st, _, _ = f1(sim)
        counts[st] = counts.get(st, 0) + 1
    # Binomial(300, 0.5): sd 8.7; 100..200 is beyond 5.7 sd.
    check("error_rate 0.5: 503 about half the time",
          set(counts) <= {200, 503} and 100 <= counts.get(503, 0) <= 200,
          counts)
    _, o = ctl(sim, "GET", "f1")
    bs = o["counters"]["by_status"]
    check("counters by_status match what the client saw",
          bs.get("503", 0) == counts.get(503, 0) and
          bs.get("200", 0) == counts.get(200, 0) and
          o["counters"]["injected"] == counts.get(503, 0), (bs, counts))

    ctl(sim, "POST", "f1", {"clear": True, "error_rate": 1.0})
    st, _, b = f1(sim)
    o = json.loads(b)
    check("error_rate 1, no error_status: 500 with an OpenAI error body",
          st == 500 and o["error"]["type"] == "server_error", (st, o))

    ctl(sim, "POST", "f1", {"clear": True, "status": 429, "retry_after": 7})
    st, h, b = f1(sim)
    o = json.loads(b)
    check("status 429 with Retry-After 7",
          st == 429 and h.get("retry-after") == "7" and
          o["error"]["code"] == "rate_limit_exceeded", (st, h, o))
    ctl(sim, "POST", "f1", {"clear": True, "status": 503})
    st, h, b = f1(sim)
    check("status 503: 503, no Retry-After when not set",
          st == 503 and "retry-after" not in h, (st, h))
    ctl(sim, "POST", "an", {"status": 429, "retry_after": 3})
    st, h, o = jget(P, "/an/v1/models", {"x-api-key": KEYS["an"],
                                         "anthropic-version": "2023-06-01"})
    ctl(sim, "DELETE", "an")
    check("anthropic 429: rate_limit_error body, Retry-After",
          st == 429 and o["error"]["type"] == "rate_limit_error" and
          h.get("retry-after") == "3", (st, o))

    ctl(sim, "POST", "f1", {"clear": True, "hang": True})
    t = time.monotonic()
    try:
        f1(sim, timeout=0.5)
        hung = False
    except socket.timeout:
        hung = True
    el = time.monotonic() - t
    check("hang: no answer within the client's 0.5 s timeout",
          hung and el >= 0.5, el)
    c = wait_held_zero(sim, "f1")
    check("hang: freed once the client left (held 0, client_closed)",
          c["held"] == 0 and c["hangs"] >= 1 and c["client_closed"] >= 1, c)

    ctl(sim, "POST", "f1", {"clear": True, "reset": True})
    data, exc = raw(P, b"GET /f1/v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
    check("reset: connection reset, no answer",
          isinstance(exc, ConnectionResetError) and data == b"", (exc, data))
    try:
        f1(sim)
        err = None
    except (ConnectionError, http.client.HTTPException) as e:
        err = e
    check("reset: http client gets a connection error", err is not None, err)

    ctl(sim, "POST", "f1", {"clear": True, "garbage": True})
    st, _, b = f1(sim)
    try:
        json.loads(b)
        isjson = True
    except ValueError:
        isjson = False
    check("garbage: 200 with a body that is not JSON",
          st == 200 and b and not isjson, (st, b[:80]))

    ctl(sim, "POST", "f1", {"clear": True, "wrong_shape": True})
    st, _, b = f1(sim)
    o = json.loads(b)
    check("wrong_shape: 200 JSON without the list shape",
          st == 200 and not (isinstance(o, dict) and "data" in o), (st, o))

    ctl(sim, "POST", "f1", {"clear": True, "truncated": True})
    data, exc = raw(P, b"GET /f1/v1/models HTTP/1.1\r\nHost: x\r\n"
                    b"Authorization: Bearer " + KEYS["f1"].encode() +
                    b"\r\n\r\n")
    st, h, body = split_response(data)
    check("truncated: Content-Length longer than the body, then close",
          st == 200 and int(h.get("content-length", "0")) > len(body) > 0,
          (st, h, len(body)))
    try:
        f1(sim)
        err = None
    except http.client.IncompleteRead as e:
        err = e
    check("truncated: http client sees an incomplete read", err is not None,
          err)

    ctl(sim, "POST", "f1", {"clear": True, "body_bytes": 5000})
    st, _, b = f1(sim)
    o = json.loads(b)
    check("body_bytes 5000: body padded to 5000 bytes, still the JSON",
          st == 200 and len(b) == 5000 and o["object"] == "list", len(b))

    ctl(sim, "POST", "f1", {"clear": True, "body_bytes": 600,
                            "drip_bytes_per_s": 400})
    t = time.monotonic()
    st, _, b = f1(sim)
    el = time.monotonic() - t
    check("drip 400 B/s of 600 bytes: whole body after >= 1.2 s",
          st == 200 and len(b) == 600 and json.loads(b)["data"] and
          el >= 1.2, (st, len(b), el))
    ctl(sim, "POST", "f1", {"drip_bytes_per_s": 20})
    c = socket.create_connection(("127.0.0.1", P), timeout=5)
    c.sendall(b"GET /f1/v1/models HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + KEYS["f1"].encode() + b"\r\n\r\n")
    got = c.recv(65536)
    time.sleep(0.3)
    _, o = ctl(sim, "GET", "f1")
    held = o["counters"]["held"]
    c.close()
    c = wait_held_zero(sim, "f1")
    check("drip: held while dripping, freed when the client leaves",
          got.startswith(b"HTTP/1.1 200") and held == 1 and c["held"] == 0,
          (got[:40], held, c))

    # down: the provider's own port refuses connections, then comes back.
    dn = sim.own("dn")
    ctl(sim, "POST", "dn", {"down": True})
    try:
        socket.create_connection(("127.0.0.1", dn), timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    _, o = ctl(sim, "GET", "dn")
    check("down: own port refuses connections", refused and
          o["listening"] is False, o.get("listening"))
    data, exc = raw(P, b"GET /dn/ HTTP/1.1\r\nHost: x\r\n\r\n")
    check("down: on the main port acts as reset",
          isinstance(exc, ConnectionResetError), exc)
    st, o = ctl(sim, "DELETE", "dn")
    st2, _, _ = req(dn, "GET", "/health")
    check("down cleared: same port answers again", st == 200 and st2 == 200
          and o["listening"] is True and o["port"] == dn, (st, st2, o))
    ctl(sim, "DELETE", "f1")


# ---- control ----------------------------------------------------------

def test_control(sim):
    P = sim.port
    st, o = ctl(sim, "GET")
    names = [p["name"] for p in o["providers"]]
    check("GET /_sim: every provider", st == 200 and
          o["count"] == len(sim.info["providers"]) and
          sorted(names) == sorted(sim.info["providers"]), (st, o))
    st, _, b = req(P, "GET", "/_sim")
    check("control never shows a key",
          not any(k.encode() in b for k in KEYS.values()))
    st, o = ctl(sim, "GET", "oa")
    check("GET /_sim/NAME: kind, faults, counters",
          st == 200 and o["kind"] == "openai" and
          o["faults"]["latency_ms"] == 0 and
          o["counters"]["requests"] >= 1 and o["port"] == sim.own("oa"),
          (st, o))

    st, o = ctl(sim, "POST", "hh", {"status": 502})
    st2, _, _ = req(P, "GET", "/hh/health")
    st3, o3 = ctl(sim, "POST", "hh", {"clear": True})
    st4, _, _ = req(P, "GET", "/hh/health")
    check("runtime change: status 502 on, then clear",
          st == 200 and o["faults"]["status"] == 502 and st2 == 502 and
          st3 == 200 and o3["faults"]["status"] == 0 and st4 == 200,
          (st, st2, st3, st4))
    ctl(sim, "POST", "hh", {"latency_ms": 10})
    st, o = ctl(sim, "DELETE", "hh")
    check("DELETE /_sim/NAME clears faults",
          st == 200 and o["faults"]["latency_ms"] == 0, (st, o))
    ctl(sim, "POST", "hh", {"latency_ms": 10})
    st, o = ctl(sim, "POST", "hh/reset")
    check("POST /_sim/NAME/reset clears faults",
          st == 200 and o["faults"]["latency_ms"] == 0, (st, o))

    ctl(sim, "POST", "hh", {"latency_ms": 20})
    for body, what in (("{", "not JSON"), ("[1,2]", "not an object"),
                       ('{"nope": 1}', "unknown field"),
                       ('{"latency_ms": -5}', "negative latency"),
                       ('{"error_rate": 1.5}', "rate above 1"),
                       ('{"status": 99}', "status below 100"),
                       ('{"hang": "yes"}', "bool as string"),
                       ('{"latency_ms": 1, "nope": 2}', "one bad field")):
        st, _, b = req(P, "POST", "/_sim/hh", None, body)
        try:
            o = json.loads(b)
        except ValueError:
            o = {}
        check("bad control JSON (%s): 400 with an error" % what,
              st == 400 and isinstance(o.get("error"), str) and o["error"],
              (st, b))
    st, o = ctl(sim, "GET", "hh")
    check("bad control JSON changes nothing (all or nothing)",
          o["faults"]["latency_ms"] == 20, o["faults"])
    ctl(sim, "DELETE", "hh")

    st, o = ctl(sim, "GET", "nosuch")
    check("unknown provider in /_sim: 404 with error",
          st == 404 and "nosuch" in o["error"], (st, o))
    st, o = ctl(sim, "POST", "nosuch", {"hang": True})
    check("unknown provider POST: 404", st == 404, st)
    st, _, o = jget(P, "/nosuch/v1/models")
    check("unknown provider path: 404 with error",
          st == 404 and "error" in o, (st, o))
    st, _, _ = req(P, "PUT", "/_sim/hh", None, "{}")
    check("wrong method on /_sim/NAME: 405", st == 405, st)
    data, exc = raw(P, b"POST /_sim/hh HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 2097152\r\n\r\n{")
    st, _, _ = split_response(data)
    check("oversized control body refused (413)", st == 413, (st, exc))
    data, exc = raw(P, b"GET /hh/ HTTP/1.1\r\nHost: x\r\nX-Big: " +
                    b"a" * 40000 + b"\r\n\r\n")
    st, _, _ = split_response(data)
    check("oversized headers refused", st in (400, 413, 431) or
          (data == b"" and exc is None) or isinstance(exc, ConnectionError),
          (st, exc))
    st, _, _ = req(P, "GET", "/hh/health")
    check("still serving after bad requests", st == 200, st)


# ---- start-up -----------------------------------------------------------

def test_startup(tmp):
    cfg = os.path.join(tmp, "sim.json")
    with open(cfg, "w") as f:
        json.dump({"providers": [
            {"name": "slow", "kind": "openai", "key": "sk-cfg-000111222",
             "port": 0, "faults": {"latency_ms": 200}},
            {"name": "limited", "kind": "anthropic", "key": "k",
             "faults": {"status": 429, "retry_after": 2}}]}, f)
    s = Sim(["-c", cfg, "-f", 'limited={"retry_after": 5}',
             "-P", "extra:http"], tmp, "cfg")
    try:
        line = json.loads(s.stdout_line)
        check("ready line on stdout matches the port file",
              line == s.info and line["pid"] == s.proc.pid and
              sorted(line["providers"]) == ["extra", "limited", "slow"], line)
        t = time.monotonic()
        st, _, _ = req(s.own("slow"), "GET", "/v1/models",
                       bearer("sk-cfg-000111222"))
        check("config: provider on its own port with latency",
              st == 200 and time.monotonic() - t >= 0.2, st)
        st, h, _ = req(s.port, "GET", "/limited/v1/models",
                       {"x-api-key": "k", "anthropic-version": "2023-06-01"})
        check("config faults, then --fault merged over them",
              st == 429 and h.get("retry-after") == "5", (st, h))
        st, _, _ = req(s.port, "GET", "/extra/")
        check("config and -P together", st == 200, st)
    finally:
        s.stop()

    def bad(args, what, needle):
        p = subprocess.run([SIM] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        err = p.stderr.decode("utf-8", "replace")
        check("bad start-up (%s): exit 2 with a message" % what,
              p.returncode == 2 and needle in err and p.stdout == b"",
              (p.returncode, err))

    badcfg = os.path.join(tmp, "bad.json")
    with open(badcfg, "w") as f:
        f.write('{"providers": [{"name": "a", "kind": "openai"},')
    bad(["-c", badcfg], "config not JSON", "not valid JSON")
    with open(badcfg, "w") as f:
        json.dump({"providers": [{"name": "a", "kind": "openai",
                                  "faults": {"latency_ms": "x"}}]}, f)
    bad(["-c", badcfg], "config bad fault", "latency_ms")
    with open(badcfg, "w") as f:
        json.dump({"providers": [], "colour": 1}, f)
    bad(["-c", badcfg], "config unknown field", "colour")
    bad(["-c", os.path.join(tmp, "missing.json")], "missing config",
        "missing.json")
    bad(["-P", "a:nokind"], "unknown kind", "nokind")
    bad(["-P", "a:openai:k:99999"], "bad port", "port")
    bad(["-P", "_sim:http"], "reserved name", "_sim")
    bad(["-P", "a:http", "-P", "a:openai"], "duplicate name", "twice")
    bad(["-P", "a:http", "-f", "b={}"], "fault for unknown provider", "'b'")
    bad(["-P", "a:http", "-f", 'a={"hang":2}'], "bad --fault", "hang")
    bad(["-p", "70000"], "bad -p", "-p")


def test_sigterm(tmp):
    s = Sim(["-P", "h:http", "-P", "o:openai:k:0", "-f", 'h={"hang":true}',
             "-f", 'o={"drip_bytes_per_s":10,"body_bytes":1000}'],
            tmp, "term")
    socks = []
    try:
        for port, path in ((s.port, "/h/x"), (s.own("o"), "/v1/models")):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer k\r\n\r\n" % path).encode())
            socks.append(c)
        time.sleep(0.3)     # both held: a hang and a drip
        s.proc.send_signal(signal.SIGTERM)
        try:
            rc = s.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        err = s.stderr()
        check("SIGTERM with requests held: exit status 0", rc == 0,
              (rc, err[-2000:]))
        check("SIGTERM: no sanitizer or leak report",
              "Sanitizer" not in err and "runtime error" not in err,
              err[-3000:])
    finally:
        for c in socks:
            c.close()
        s.stop()


# ---- HTTPS and the connection counters --------------------------------

def openssl(tmp, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=tmp,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], r.stderr[-500:]))


def make_certs(tmp):
    """A throwaway CA and a certificate for 127.0.0.1 signed by it:
    (ca.pem, server.pem, server.key, ca.key)."""
    openssl(tmp, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
            "1", "-keyout", "ca.key", "-out", "ca.pem", "-subj",
            "/CN=vigil-sim-test-ca")
    openssl(tmp, "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
            "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl(tmp, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile",
            "san.ext", "-out", "server.pem")
    return tuple(os.path.join(tmp, n) for n in
                 ("ca.pem", "server.pem", "server.key", "ca.key"))


def tls_conn(port, ca):
    return http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=10,
        context=ssl.create_default_context(cafile=ca))


def treq(port, ca, method, path, headers=None, body=None):
    """One HTTPS request on a new connection: (status, json or None)."""
    c = tls_conn(port, ca)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, None
    finally:
        c.close()


def test_tls(tmp):
    ca, cert, key, cakey = make_certs(tmp)
    s = Sim(["--tls-cert", cert, "--tls-key", key, "-P", "hh:http",
             "-P", "oa:openai:%s:0" % KEYS["oa"], "-P", "hg:http"], tmp,
            "tls")
    try:
        info = s.info
        check("tls: the port file says tls: true with https URLs",
              info.get("tls") is True and
              info["control"].startswith("https://") and
              info["providers"]["oa"]["url"].startswith("https://") and
              info["providers"]["hh"]["base"].startswith("https://"), info)
        st, o = treq(s.port, ca, "GET", "/hh/health")
        check("tls: GET a provider path over HTTPS (main port)",
              st == 200 and o == {"status": "ok"}, (st, o))
        st, o = treq(s.own("oa"), ca, "GET", "/v1/models",
                     bearer(KEYS["oa"]))
        check("tls: GET /v1/models over HTTPS (own port)",
              st == 200 and o and o.get("object") == "list", (st, o))

        # Counters: zero them, then 3 requests on one kept-alive
        # connection, 2 on new ones; the reading connection counts too.
        st, o = treq(s.port, ca, "POST", "/_sim/reset-counters")
        check("tls: POST /_sim/reset-counters zeroes them", st == 200 and
              o["connections"] == 0 and o["tls_handshakes"] == 0, (st, o))
        c = tls_conn(s.port, ca)
        try:
            for _ in range(3):
                c.request("GET", "/hh/x")
                r = c.getresponse()
                r.read()
        finally:
            c.close()
        for _ in range(2):
            treq(s.port, ca, "GET", "/hh/y")
        treq(s.own("oa"), ca, "GET", "/v1/models", bearer(KEYS["oa"]))
        st, o = treq(s.port, ca, "GET", "/_sim")
        # keep-alive 1, new 2, own port 1, this read 1; main: all but oa's
        want = (1 + 2 + 1 + 1, 1 + 2 + 1)
        got = (o["connections"], o["main"]["connections"])
        check("tls: counters: 3 requests on one connection count once",
              st == 200 and got == want and
              o["tls_handshakes"] == want[0] and
              o["main"]["tls_handshakes"] == want[1], (want, o))
        oa = [p for p in o["providers"] if p["name"] == "oa"][0]
        hh = [p for p in o["providers"] if p["name"] == "hh"][0]
        check("tls: own port counters, request counts",
              oa["connections"] == 1 and oa["tls_handshakes"] == 1 and
              hh["requests"] == 5 and "connections" not in hh, (oa, hh))

        # A hang held over TLS and an open kept-alive TLS connection,
        # both freed at exit below.
        treq(s.port, ca, "POST", "/_sim/hg", body='{"hang": true}')
        held = []
        for path in ("/hg/x", "/hh/z"):
            c = tls_conn(s.port, ca)
            c.connect()
            c.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                            path).encode())
            held.append(c)
        # Plain HTTP on an HTTPS port gets no HTTP answer.
        data, _ = raw(s.port, b"GET /hh/x HTTP/1.1\r\nHost: x\r\n\r\n")
        check("tls: plain HTTP on the HTTPS port gets no HTTP answer",
              not data.startswith(b"HTTP/"), data[:80])
        st, o = treq(s.port, ca, "GET", "/_sim/hh")
        check("tls: still serving after a plain request", st == 200, st)
        time.sleep(0.2)
        s.proc.send_signal(signal.SIGTERM)
        try:
            rc = s.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        err = s.stderr()
        check("tls: SIGTERM with a TLS request held: exit 0, no sanitizer "
              "or leak report", rc == 0 and "Sanitizer" not in err and
              "runtime error" not in err, (rc, err[-3000:]))
        for c in held:
            c.close()
    finally:
        s.stop()

    # Plain HTTP connections are counted the same way.
    s = Sim(["-P", "hh:http"], tmp, "plaincount")
    try:
        check("plain: the port file says tls: false",
              s.info.get("tls") is False and
              s.info["control"].startswith("http://"), s.info)
        req(s.port, "POST", "/_sim/reset-counters")
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        try:
            for _ in range(4):
                c.request("GET", "/hh/x")
                c.getresponse().read()
        finally:
            c.close()
        req(s.port, "GET", "/hh/y")
        st, _, b = req(s.port, "GET", "/_sim")
        o = json.loads(b)
        check("plain: 4 requests on one connection + 1 + the read = 3 "
              "connections, no handshake",
              st == 200 and o["connections"] == 3 and
              o["tls_handshakes"] == 0 and o["tls"] is False, o)
        st, _, _ = req(s.port, "GET", "/_sim/reset-counters")
        check("plain: GET /_sim/reset-counters is 405", st == 405, st)
    finally:
        s.stop()

    # The config's tls_cert/tls_key, and the command line over them.
    cfg = os.path.join(tmp, "tls.json")
    with open(cfg, "w") as f:
        json.dump({"tls_cert": cert, "tls_key": key,
                   "providers": [{"name": "hh", "kind": "http"}]}, f)
    s = Sim(["-c", cfg], tmp, "tlscfg")
    try:
        st, o = treq(s.port, ca, "GET", "/hh/x")
        check("tls: tls_cert/tls_key in the config", s.info.get("tls") is
              True and st == 200, (s.info, st))
    finally:
        s.stop()
    with open(cfg, "w") as f:
        json.dump({"tls_cert": os.path.join(tmp, "nope.pem"),
                   "tls_key": os.path.join(tmp, "nope.key"),
                   "providers": [{"name": "hh", "kind": "http"}]}, f)
    s = Sim(["-c", cfg, "--tls-cert", cert, "--tls-key", key], tmp,
            "tlscli")
    try:
        st, o = treq(s.port, ca, "GET", "/hh/x")
        check("tls: --tls-cert/--tls-key win over the config", st == 200, st)
    finally:
        s.stop()

    def bad(args, what, needle):
        p = subprocess.run([SIM, "-P", "a:http"] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        err = p.stderr.decode("utf-8", "replace")
        check("tls: bad start-up (%s): exit 2 with a message" % what,
              p.returncode == 2 and needle in err and p.stdout == b"" and
              "Sanitizer" not in err, (p.returncode, err))

    missing = os.path.join(tmp, "missing.pem")
    bad(["--tls-cert", missing, "--tls-key", key], "missing certificate",
        "--tls-cert %s: No such file or directory" % missing)
    bad(["--tls-cert", cert, "--tls-key", missing], "missing key",
        "--tls-key %s: No such file or directory" % missing)
    bad(["--tls-cert", key, "--tls-key", key], "key as certificate",
        "not a PEM certificate")
    bad(["--tls-cert", cert, "--tls-key", cakey], "key of another cert",
        "--tls-key %s: not a PEM private key matching --tls-cert" % cakey)
    bad(["--tls-cert", cert], "certificate without a key",
        "--tls-cert and --tls-key go together")
    with open(cfg, "w") as f:
        json.dump({"tls_cert": 1}, f)
    bad(["-c", cfg], "config tls_cert not a string", "tls_cert")
    bad(["-P", "reset-counters:http"], "reserved name reset-counters",
        "reset-counters")


def main():
    if not os.access(SIM, os.X_OK):
        print("not ok - %s not built (make %s)" % (SIM, SIM))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for name, kind, own in (("oa", "openai", True),
                                ("an", "anthropic", False),
                                ("gg", "google", True),
                                ("ds", "deepseek", False),
                                ("qw", "qwen", False),
                                ("cu", "cursor", False),
                                ("f1", "openai", False)):
            args += ["-P", "%s:%s:%s%s" % (name, kind, KEYS[name],
                                           ":0" if own else "")]
        args += ["-P", "hh:http", "-P", "dn:http::0"]
        sim = Sim(args, tmp)
        try:
            for t in (test_kinds, test_faults, test_control):
                try:
                    t(sim)
                except Exception as e:      # a crash fails, not aborts
                    check("%s ran to the end" % t.__name__, False, repr(e))
            sim.proc.send_signal(signal.SIGTERM)
            try:
                rc = sim.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rc = None
            err = sim.stderr()
            check("main sim: SIGTERM exit 0, no sanitizer report",
                  rc == 0 and "Sanitizer" not in err and
                  "runtime error" not in err, (rc, err[-3000:]))
            check("no key in the log",
                  not any(k in err for k in KEYS.values()))
        finally:
            sim.stop()
        for t in (test_startup, test_sigterm, test_tls):
            try:
                t(tmp)
            except Exception as e:
                check("%s ran to the end" % t.__name__, False, repr(e))
    print("# %s" % ("FAILED: %d" % harness.failures if harness.failures
                    else "all passed"))
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
