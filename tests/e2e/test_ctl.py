#!/usr/bin/python3
"""End-to-end tests of vigilctl against vigild and vigil-sim, with Debian's
python3-msgpack as an independent second client of the same socket.

vigilctl: every command's output and exit status (0 ok, 1 the server's
error, 2 usage, 3 cannot connect, 4 timeout), --json, -c CONFIG, the hello
handshake refusing another protocol major.  The raw protocol: ping,
version, status, probe_now against an injected fault, pause/resume,
set_interval out of range, silence/unsilence, every error case (unknown
op, wrong type, missing argument, oversized frame, garbage in a whole
frame, truncated frame, unknown provider), reload, shutdown.

Every server runs on 127.0.0.1 or a Unix socket in a temporary directory
and is stopped by pid in a finally block.
"""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, binpath  # noqa: E402
from harness import ctl_send as send, err_code as code_of  # noqa: E402

msgpack = harness.need_msgpack()

KEY_A = "sk-ctl-test-aaaa1111"
KEY_B = "sk-ctl-test-bbbb2222"


def vigilctl(h, *args, sock=None, timeout=30, env=None, preexec=None,
             binary=None):
    """Run vigilctl; returns CompletedProcess (text)."""
    cmd = [binary or binpath("vigilctl")]
    if sock is not False:
        cmd += ["-s", sock or h.sock]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, env=env or {"PATH": "/usr/bin:/bin"},
                          preexec_fn=preexec)


def jctl(h, *args):
    r = vigilctl(h, "--json", *args)
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def show(r):
    return "rc=%d out=%r err=%r" % (r.returncode, r.stdout[-1500:],
                                     r.stderr[-1500:])


def raw(h):
    return harness.ctl_connect(h.sock, 10)


def status_of(h, name):
    r = h.call("status")
    for p in r.get("result", {}).get("providers", []):
        if p["name"] == name:
            return p
    return None


# ---- vigilctl, read-only ---------------------------------------------------

def test_read(h):
    r = vigilctl(h, "ping")
    ok(r.returncode == 0 and re.match(
        r"pong from vigild \S+ \(pid %d\) in [0-9.]+ ms\n$" % h.proc.pid,
        r.stdout) is not None, "vigilctl ping: pong with vigild's pid",
       show(r))
    r = vigilctl(h, "version")
    ok(r.returncode == 0 and "vigilctl " in r.stdout and
       re.search(r"vigild\s+\S+ \(control protocol 1, pid %d\)" %
                 h.proc.pid, r.stdout) is not None,
       "vigilctl version: both versions and protocol 1", show(r))
    r, j = jctl(h, "version")
    ok(r.returncode == 0 and j is not None and j.get("protocol") == 1 and
       j.get("pid") == h.proc.pid, "vigilctl --json version", show(r))

    # status: a heading and one row per provider, with its columns.
    r = vigilctl(h, "status")
    lines = r.stdout.splitlines()
    head = [x for x in lines if x.startswith("NAME")]
    rows = {x.split()[0]: x.split() for x in lines[lines.index(head[0]) + 1:]
            } if head else {}
    ok(r.returncode == 0 and lines and
       re.match(r"vigil: \w+, 2 providers, at \d{4}-\d\d-\d\dT", lines[0])
       and sorted(rows) == ["a", "b"],
       "vigilctl status: overall line and a row per provider", show(r))
    ok(head and all(c in head[0] for c in (
        "STATUS", "USABLE", "REASON", "CIRCUIT", "TREND",
        "1m p50/p95/p99 ms", "5m p50/p95/p99 ms", "ERR 1m", "ERR 5m",
        "LAST CHECK")),
       "vigilctl status: every column", head)
    ok(rows.get("a", [None])[1:4] == ["healthy", "yes", "-"] and
       rows["a"][4] == "closed" and
       re.match(r"[0-9.]+/[0-9.]+/[0-9.]+$", rows["a"][6]) is not None,
       "vigilctl status: a is healthy, usable, no reason, closed, with "
       "p50/p95/p99", rows.get("a"))
    ok("\033[" not in r.stdout, "no colour when stdout is not a terminal")
    r2 = vigilctl(h, "--color", "always", "status")
    ok(r2.returncode == 0 and "\033[32mhealthy\033[0m" in r2.stdout,
       "--color always colours the status words", show(r2))

    r, j = jctl(h, "status")
    names = sorted(p["name"] for p in (j or {}).get("providers", []))
    ok(r.returncode == 0 and names == ["a", "b"] and
       all(set(p["windows"]) == {"1m", "5m", "15m"} for p in j["providers"]),
       "vigilctl --json status: every provider with its windows", show(r))
    raw_st = h.call("status")["result"]
    # JSON keeps every digit of a nanosecond time (a double would not).
    at = [p["last_check"]["at_ns"] for p in j["providers"]]
    ok(all(isinstance(x, int) and x > 10 ** 18 for x in at) and
       '"at_ns":\t%d' % at[0] in r.stdout.replace(": ", ":\t"),
       "--json: nanosecond times are exact integers", at)
    ok(set(j) == set(raw_st) and set(j["providers"][0]) ==
       set(raw_st["providers"][0]),
       "--json status has the same keys as the raw reply",
       (sorted(j), sorted(raw_st)))

    r = vigilctl(h, "providers", "--json")
    try:
        jp = json.loads(r.stdout)
    except ValueError:
        jp = None
    ok(r.returncode == 0 and isinstance(jp, list) and len(jp) == 2,
       "--json also works after the command", show(r))
    ok(all(isinstance(p["usable"], bool) and
           isinstance(p["needs_human"], bool) and
           isinstance(p["usable_at_ns"], int) and
           isinstance(p["ratelimit"], dict) and "reason" in p and
           "reason_since_ns" in p for p in j["providers"]),
       "vigilctl --json status: usable, reason, needs_human, usable_at_ns, "
       "ratelimit", j["providers"][:1])
    r = vigilctl(h, "status", "a")
    ok(r.returncode == 0 and r.stdout.startswith("a (openai): ") and
       re.search(r"^WINDOW\s+SAMPLES\s+ERRORS\s+UPTIME", r.stdout, re.M)
       and re.search(r"^15m\s+\d+", r.stdout, re.M),
       "vigilctl status PROVIDER: the detail view", show(r))
    ok(re.search(r"^      usable: yes$", r.stdout, re.M) and
       re.search(r"^      reason: -$", r.stdout, re.M) and
       re.search(r"^ rate limits: ", r.stdout, re.M),
       "vigilctl status PROVIDER: usable, reason and rate limits",
       show(r))
    r, j = jctl(h, "status", "b")
    ok(r.returncode == 0 and j is not None and j.get("name") == "b" and
       j.get("kind") == "anthropic", "vigilctl --json status PROVIDER",
       show(r))
    r = vigilctl(h, "status", "nosuch")
    ok(r.returncode == 1 and "vigilctl: not_found: " in r.stderr,
       "vigilctl status of an unknown provider: not_found, status 1",
       show(r))

    r = vigilctl(h, "providers")
    rows = {x.split()[0]: x.split() for x in r.stdout.splitlines()[1:]}
    ok(r.returncode == 0 and r.stdout.startswith("NAME") and
       sorted(rows) == ["a", "b"] and rows["a"][1] == "openai" and
       rows["a"][3] == "up", "vigilctl providers: a table of both, up",
       show(r))
    r, j = jctl(h, "providers")
    ok(r.returncode == 0 and isinstance(j, list) and
       all(p["pid"] > 0 and p["interval_ms"] == 1000 for p in j),
       "vigilctl --json providers: pids and interval_ms", show(r))

    r = wait_for(lambda: (lambda x: x if x.returncode == 0 and
                          "point" in x.stdout else None)(
        vigilctl(h, "history", "a", "--since", "1h", "--step", "1m")), 10) \
        or vigilctl(h, "history", "a", "--since", "1h", "--step", "1m")
    ok(r.returncode == 0 and re.match(r"a, step 1m, \d+ points?\n",
                                      r.stdout) and
       re.search(r"^TIME\s+STATUS\s+CIRCUIT\s+OUTCOME", r.stdout, re.M),
       "vigilctl history --since 1h --step 1m: a table", show(r))
    r, j = jctl(h, "history", "--limit", "3", "a")
    ok(r.returncode == 0 and j is not None and j["provider"] == "a" and
       j["step"] == "raw" and 1 <= len(j["points"]) <= 3,
       "vigilctl --json history --limit 3 (options before the provider)",
       show(r))
    r = vigilctl(h, "history", "a", "--step", "2m")
    ok(r.returncode == 2 and "--step" in r.stderr,
       "vigilctl history --step 2m: usage error, status 2", show(r))
    r = vigilctl(h, "alerts", "--since", "1h", "--level", "critical",
                 "--limit", "5")
    ok(r.returncode == 0 and (r.stdout == "no alerts\n" or
                              r.stdout.startswith("TIME")),
       "vigilctl alerts with every filter", show(r))
    r, j = jctl(h, "alerts", "--provider", "a")
    ok(r.returncode == 0 and isinstance(j, list) and
       all(x["provider"] == "a" for x in j), "vigilctl --json alerts",
       show(r))
    r = vigilctl(h, "raw", "status", "{}")
    ok(r.returncode == 0 and "providers" in json.loads(r.stdout),
       "vigilctl raw status {}", show(r))


# ---- vigilctl, mutating, and their effect ---------------------------------

def test_probe(h):
    h.sim.fault("b", {"clear": True, "status": 503})
    t0 = time.time_ns()
    r = vigilctl(h, "probe", "b")
    row = r.stdout.splitlines()[1].split() if r.stdout.count("\n") > 1 \
        else []
    ok(r.returncode == 0 and row[:3] == ["b", "http_5xx", "503"],
       "vigilctl probe b: the sim's 503 as http_5xx in the reply", show(r))
    s = send_one(h, {"id": 7, "op": "probe_now",
                     "args": {"provider": "b"}})
    ok(s.get("id") == 7 and s.get("ok") and
       s["result"]["outcome"] == "http_5xx" and
       s["result"]["http_status"] == 503 and s["result"]["wall_ns"] >= t0,
       "raw probe_now b: a fresh http_5xx sample", s)
    h.sim.fault("b", {"clear": True, "status": 429})
    r, j = jctl(h, "probe", "all")
    ok(r.returncode == 0 and j is not None and sorted(j) == ["a", "b"] and
       j["a"]["ok"] and j["a"]["result"]["outcome"] == "ok" and
       j["b"]["result"]["outcome"] == "rate_limited" and
       j["b"]["result"]["http_status"] == 429,
       "vigilctl --json probe all: a ok, b rate_limited", show(r))
    h.sim.fault("b", {"clear": True})
    r = vigilctl(h, "probe", "all")
    rows = {x.split()[0]: x.split() for x in r.stdout.splitlines()[1:]}
    ok(r.returncode == 0 and rows.get("a", [0, 0])[1] == "ok" and
       rows.get("b", [0, 0])[1] == "ok",
       "vigilctl probe all: a row per provider, b ok again", show(r))
    r = vigilctl(h, "probe", "nosuch")
    ok(r.returncode == 1 and
       r.stderr.startswith('vigilctl: not_found: no provider "nosuch"'),
       "vigilctl probe of an unknown provider: not_found, status 1",
       show(r))


def status_row(h, name):
    """vigilctl status's row of name, split on blanks, and the run."""
    r = vigilctl(h, "status")
    for line in r.stdout.splitlines():
        if line.split()[:1] == [name]:
            return line.split(), r
    return [], r


def test_router(h):
    """What a router acts on, as vigilctl shows it: a 429 throttles b
    (reason rate_limited, usable_at), a 401 makes it misconfigured and
    needing a human; the table, the detail view and --json agree."""
    def after(t, key, want):
        """b's status once it judged a check made after t with key ==
        want (an earlier test's 429 may still be in the status)."""
        x = status_of(h, "b")
        return x if x and x.get(key) == want and \
            (x.get("last_check") or {}).get("at_ns", 0) >= t else None

    try:
        # A prober backing off from test_probe's 429 checks again only
        # after its wait: allow for it.
        t0 = time.time_ns()
        h.sim.fault("b", {"clear": True, "status": 429, "retry_after": 30})
        p = wait_for(lambda: after(t0, "reason", "rate_limited"), 30)
        ok(p and p["status"] == "throttled" and p["circuit"] == "closed" and
           p["needs_human"] is False,
           "raw status: a 429 makes b throttled, reason rate_limited, "
           "circuit closed", p)
        row, r = status_row(h, "b")
        ok(row[1:2] == ["throttled"] and "rate_limited" in row and
           (row[2] in ("yes", "no") or row[2:3] == ["in"]),
           "vigilctl status: b throttled, REASON rate_limited, USABLE "
           "yes, no or in N", show(r))
        r = vigilctl(h, "status", "b")
        ok(r.returncode == 0 and
           re.search(r"^      reason: rate_limited, since ", r.stdout,
                     re.M) and
           re.search(r"^      usable: (yes|no)$", r.stdout, re.M) and
           (p is None or not p["usable_at_ns"] or
            re.search(r"^   usable at: \d{4}-", r.stdout, re.M)),
           "vigilctl status b: reason since, usable and usable at",
           show(r))
        r, j = jctl(h, "status", "b")
        ok(j is not None and j["reason"] == "rate_limited" and
           j["status"] == "throttled" and isinstance(j["usable"], bool),
           "vigilctl --json status b: reason rate_limited", show(r))

        t0 = time.time_ns()
        h.sim.fault("b", {"clear": True, "status": 401})
        p = wait_for(lambda: after(t0, "needs_human", True), 45)
        ok(p and p["status"] == "misconfigured" and p["reason"] == "auth" and
           p["usable"] is False and p["usable_at_ns"] == 0,
           "raw status: a 401 makes b misconfigured, reason auth, not "
           "usable, needs a human", p)
        row, r = status_row(h, "b")
        ok(row[1:4] == ["misconfigured", "no", "auth"] and
           "needs-human" in row,
           "vigilctl status: b not usable, auth, marked needs-human",
           show(r))
        r2 = vigilctl(h, "--color", "always", "status")
        ok("\033[31mneeds-human" in r2.stdout,
           "vigilctl status --color always: needs-human in red", show(r2))
        r = vigilctl(h, "status", "b")
        ok(re.search(r"^      usable: no, needs a human$", r.stdout, re.M),
           "vigilctl status b: needs a human", show(r))
    finally:
        t0 = time.time_ns()
        h.sim.fault("b", {"clear": True})
        wait_for(lambda: after(t0, "status", "healthy"), 45)


def send_one(h, obj):
    s = raw(h)
    try:
        return send(s, obj)
    finally:
        s.close()


def test_pause_resume(h):
    r = vigilctl(h, "pause", "a")
    ok(r.returncode == 0 and r.stdout == "a: paused\n",
       "vigilctl pause a", show(r))
    p = wait_for(lambda: (lambda x: x if x and x["status"] == "paused"
                          else None)(status_of(h, "a")), 5)
    ok(p is not None and p["paused"], "after pause, status is paused", p)
    r = vigilctl(h, "status")
    ok(re.search(r"^a\s+paused\s", r.stdout, re.M) is not None,
       "vigilctl status shows a paused", show(r))
    # One read model (issue 15): a paused, b healthy.  vigilctl --json
    # status (vigild's reply) and GET /health/integration (vigil-api) say
    # the same overall and per-provider status and staleness, and the
    # overall is the documented worst-of: paused ranks above healthy.
    import http.client

    def summary(doc):
        return (doc["status"], sorted((p["name"], p["status"], p["stale"])
                                      for p in doc["providers"]))

    def both():
        c = http.client.HTTPConnection("127.0.0.1", h.listen_port, timeout=5)
        try:
            c.request("GET", "/health/integration")
            api = summary(json.loads(c.getresponse().read()))
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            return None
        finally:
            c.close()
        ctl = [jctl(h, "status")[1] for _ in (0, 1)]
        if None in ctl or summary(ctl[0]) != summary(ctl[1]):
            return None         # moved while we read: read again
        return summary(ctl[0]), api
    want = [("a", "paused", False), ("b", "healthy", False)]
    got = wait_for(lambda: (lambda v: v if v and v[0][1] == want and
                            v[1][1] == want else None)(both()), 15)
    ok(got is not None and got[0] == got[1] and got[0][0] == "paused",
       "a paused, b healthy: vigilctl status and /health/integration "
       "agree (overall paused)", got or both())
    # No more samples: the last check stays where it is (interval 1 s).
    time.sleep(0.6)
    before = (status_of(h, "a") or {}).get("last_check", {}).get("at_ns")
    time.sleep(2.5)
    after = (status_of(h, "a") or {}).get("last_check", {}).get("at_ns")
    ok(before is not None and before == after,
       "paused: no new sample in 2.5 intervals", (before, after))
    r = vigilctl(h, "resume", "all")
    rows = {x.split()[0]: x.split() for x in r.stdout.splitlines()[1:]}
    ok(r.returncode == 0 and rows.get("a", [])[1:3] == ["ok", "resumed"]
       and rows.get("b", [])[1:3] == ["ok", "resumed"],
       "vigilctl resume all: a row per provider", show(r))
    p = wait_for(lambda: (lambda x: x if x and x["status"] != "paused" and
                          x["last_check"]["at_ns"] != after else None)(
        status_of(h, "a")), 10)
    ok(p is not None and not p["paused"],
       "after resume: probing again, not paused", p)


def test_interval(h):
    r = vigilctl(h, "interval", "b", "2s")
    ok(r.returncode == 0 and r.stdout == "b: interval 2s\n",
       "vigilctl interval b 2s", show(r))
    ps = {p["name"]: p for p in h.call("providers")["result"]}
    ok(ps["b"]["interval_ms"] == 2000 and ps["a"]["interval_ms"] == 1000,
       "the directory holds b's new interval, a's is unchanged",
       {n: ps[n]["interval_ms"] for n in ps})
    # The sample rate follows: b at 2 s samples about half as often as a.
    time.sleep(2.1)
    p0 = h.providers(0)
    time.sleep(4.5)
    p1 = h.providers(0)
    na = p1["a"]["head"] - p0["a"]["head"]
    nb = p1["b"]["head"] - p0["b"]["head"]
    ok(2 <= nb <= 3 and na >= 4 and nb < na,
       "after interval b 2s: b samples every 2 s, a every 1 s in 4.5 s",
       (na, nb))
    r = vigilctl(h, "interval", "all", "1s")
    ok(r.returncode == 0 and all(p["interval_ms"] == 1000 for p in
                                 h.call("providers")["result"]),
       "vigilctl interval all 1s", show(r))
    r = vigilctl(h, "interval", "a", "10m")
    ok(r.returncode == 1 and r.stderr.startswith(
        "vigilctl: bad_argument: ") and "300000" in r.stderr,
       "vigilctl interval 10m: bad_argument from the server, status 1",
       show(r))
    s = send_one(h, {"id": 3, "op": "set_interval",
                     "args": {"provider": "a", "interval_ms": 50}})
    ok(code_of(s) == "bad_argument" and s.get("id") == 3,
       "raw set_interval 50 ms: bad_argument", s)
    r = vigilctl(h, "interval", "a", "soon")
    ok(r.returncode == 2 and "not a duration" in r.stderr,
       "vigilctl interval a soon: usage error, status 2", show(r))


def test_silence(h):
    t0 = time.time_ns()
    r = vigilctl(h, "silence", "all", "30m", "--reason",
                 "provider maintenance")
    ok(r.returncode == 0 and re.match(
        r"all: silenced until \d{4}-\d\d-\d\dT\S+Z \(in 2?\d?m?\d*s?\): "
        r"provider maintenance\n$", r.stdout) is not None,
       "vigilctl silence all 30m --reason ...", show(r))
    ps = wait_for(lambda: (lambda x: x if all(
        p["silenced_until_ns"] > t0 for p in x) else None)(
        h.call("status")["result"]["providers"]), 5) or \
        h.call("status")["result"]["providers"]
    lo, hi = t0 + 29 * 60 * 10 ** 9, t0 + 31 * 60 * 10 ** 9
    ok(all(lo <= p["silenced_until_ns"] <= hi for p in ps),
       "every provider silenced for 30 minutes",
       [(p["name"], p["silenced_until_ns"] - t0) for p in ps])
    ok("provider maintenance" in h.logtext(),
       "the reason is logged by vigild")
    r = vigilctl(h, "status")
    ok(re.search(r"^a\s.*silenced\(", r.stdout, re.M) is not None,
       "vigilctl status notes the silence", show(r))
    r = vigilctl(h, "unsilence", "all")
    ok(r.returncode == 0 and r.stdout == "all: unsilenced\n",
       "vigilctl unsilence all", show(r))
    ps = wait_for(lambda: (lambda x: x if all(
        p["silenced_until_ns"] <= time.time_ns() for p in x) else None)(
        h.call("status")["result"]["providers"]), 5)
    ok(ps is not None, "after unsilence no provider is silenced", ps)
    r = vigilctl(h, "silence", "a", "1h", "planned", "upgrade")
    s = status_of(h, "a")
    ok(r.returncode == 0 and r.stdout.endswith(": planned upgrade\n") and
       s["silenced_until_ns"] > t0 + 59 * 60 * 10 ** 9,
       "vigilctl silence a 1h REASON words", show(r))
    vigilctl(h, "unsilence", "a")
    r = vigilctl(h, "silence", "a", "forever")
    ok(r.returncode == 2, "vigilctl silence a forever: usage error",
       show(r))


# ---- the raw protocol: errors, and the connection after them -------------

def test_protocol_errors(h):
    s = raw(h)
    try:
        r = send(s, {"id": 1, "op": "hello"})
        ok(r.get("id") == 1 and r.get("ok") and
           r["result"].get("protocol") == 1,
           "raw hello: protocol 1", r)
        r = send(s, {"id": 2, "op": "ping", "args": {}})
        ok(r == {"id": 2, "ok": True, "result": {}}, "raw ping", r)
        r = send(s, {"id": 3, "op": "no_such_op"})
        ok(code_of(r) == "unknown_op" and r.get("id") == 3 and
           isinstance(r["error"].get("message"), str),
           "unknown op: unknown_op with our id", r)
        r = send(s, {"id": 4, "op": "ping"})
        ok(r.get("id") == 4 and r.get("ok"),
           "the connection stays usable after unknown_op", r)
        r = send(s, {"id": 5, "op": "pause", "args": {"provider": 5}})
        ok(code_of(r) == "bad_argument" and r.get("id") == 5,
           "wrong argument type: bad_argument", r)
        r = send(s, {"id": 6, "op": "set_interval",
                     "args": {"provider": "a", "interval_ms": "fast"}})
        ok(code_of(r) == "bad_argument", "interval_ms as a string: "
           "bad_argument", r)
        r = send(s, {"id": 7, "op": "pause", "args": {}})
        ok(code_of(r) == "missing_argument" and r.get("id") == 7,
           "missing argument: missing_argument", r)
        r = send(s, {"id": 8, "op": "history"})
        ok(code_of(r) == "missing_argument", "history without provider: "
           "missing_argument", r)
        r = send(s, {"id": 9, "op": "probe_now",
                     "args": {"provider": "nosuch"}})
        ok(code_of(r) == "not_found" and r.get("id") == 9,
           "unknown provider: not_found", r)
        r = send(s, {"id": 10, "op": "status", "args": [1, 2]})
        ok(code_of(r) == "bad_request", "args not a map: bad_request", r)
        r = send(s, {"op": "ping"})
        ok(code_of(r) == "bad_request", "no id: bad_request", r)
        # A whole frame of garbage: an error, and the connection stays.
        for name, body in (("invalid msgpack", b"\xc1\xc1\xc1\xc1"),
                           ("an array, not a map",
                            msgpack.packb([1, 2, 3])),
                           ("random bytes", bytes(range(200, 256)) * 3),
                           ("a map cut short", b"\x83\xa2id\x01")):
            s.sendall(struct.pack(">I", len(body)) + body)
            r = harness.recv_frame(s)
            ok(code_of(r) == "bad_frame" and r.get("id") == 0,
               "whole frame of %s: bad_frame, id 0" % name, r)
            r = send(s, {"id": 11, "op": "ping"})
            ok(r.get("id") == 11 and r.get("ok"),
               "the connection stays usable after %s" % name, r)
    finally:
        s.close()

    # A declared length over 1 MiB: an error, then the connection closes.
    s = raw(h)
    try:
        s.sendall(struct.pack(">I", (1 << 20) + 1) + b"\x80" * 16)
        r = harness.recv_frame(s)
        ok(code_of(r) == "frame_too_large",
           "a frame over 1 MiB: frame_too_large", r)
        try:
            extra = s.recv(1)
        except OSError:
            extra = b""
        ok(extra == b"", "... and the connection is closed", extra)
    finally:
        s.close()
    # Exactly 1 MiB is allowed (a ping padded with a long string).
    s = raw(h)
    try:
        pad = "x" * ((1 << 20) - 64)
        body = msgpack.packb({"id": 12, "op": "ping", "args": {},
                              "pad": pad})
        ok(len(body) <= 1 << 20, "the padded ping fits in 1 MiB", len(body))
        s.sendall(struct.pack(">I", len(body)) + body)
        r = harness.recv_frame(s)
        ok(r.get("id") == 12 and r.get("ok"),
           "a frame of nearly 1 MiB is served", r)
    finally:
        s.close()
    # A truncated frame, then the client goes away: vigild carries on.
    s = raw(h)
    s.sendall(struct.pack(">I", 100) + b"\x83\xa2id")
    s.close()
    r = vigilctl(h, "ping")
    ok(r.returncode == 0, "a new connection works after a truncated frame",
       show(r))


# ---- vigilctl's own errors: usage, connect, timeout, handshake -----------

class FakeServer:
    """A Unix socket server answering hello with proto (None: never
    answers anything)."""

    def __init__(self, path, proto):
        self.path = path
        self.proto = proto
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.proto is None:
                continue
            try:
                n = struct.unpack(">I", harness.recv_exact(c, 4))[0]
                req = msgpack.unpackb(harness.recv_exact(c, n), raw=False)
                c.sendall(harness.frame({"id": req["id"], "ok": True,
                                         "result": {
                                             "protocol": self.proto,
                                             "version": "9.9.9",
                                             "pid": 1}}))
            except (OSError, EOFError, ValueError):
                pass

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


def test_cli_errors(h):
    r = vigilctl(h, sock=False)
    ok(r.returncode == 2 and "usage:" in r.stderr,
       "no command: usage, status 2", show(r))
    r = vigilctl(h, "frobnicate")
    ok(r.returncode == 2 and 'no command "frobnicate"' in r.stderr,
       "unknown command: status 2", show(r))
    r = vigilctl(h, "pause")
    ok(r.returncode == 2 and "usage: vigilctl [OPTIONS] pause" in r.stderr,
       "pause without a provider: status 2 and the command's usage",
       show(r))
    r = vigilctl(h, "ping", "extra")
    ok(r.returncode == 2, "ping with an argument: status 2", show(r))
    r = vigilctl(h, "-t", "never", "ping")
    ok(r.returncode == 2, "a bad -t: status 2", show(r))
    r = vigilctl(h, "raw", "status", "{not json")
    ok(r.returncode == 2 and "not valid JSON" in r.stderr,
       "raw with bad JSON: status 2", show(r))
    for cmd in ("status", "silence", "history", "alerts", "probe"):
        r = vigilctl(h, cmd, "--help", sock="/nonexistent/sock")
        ok(r.returncode == 0 and r.stdout.startswith(
            "usage: vigilctl [OPTIONS] %s" % cmd),
           "vigilctl %s --help (without connecting)" % cmd, show(r))
    r = vigilctl(h, "--help", sock=False)
    ok(r.returncode == 0 and all(c in r.stdout for c in (
        "ping", "status", "probe", "pause", "resume", "interval", "silence",
        "unsilence", "alerts", "history", "reload", "shutdown")),
       "vigilctl --help lists every command", show(r))

    missing = os.path.join(h.tmp, "nosuch.sock")
    r = vigilctl(h, "ping", sock=missing)
    ok(r.returncode == 2 and missing in r.stderr and
       "No such file or directory" in r.stderr,
       "no socket: status 2 naming the path and the error", show(r))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")

        def drop():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        r = vigilctl(h, "ping", preexec=drop,
                     binary=harness.public_binpath("vigilctl"))
        # The hint names the socket's group (vigild's read_group), says
        # root only when vigild found no such group, or, when nobody
        # cannot even see the socket (h.tmp is 0700), says read_group.
        gid = os.stat(h.sock).st_gid
        want = "only root may use it" if gid == 0 else \
            "the %s group" % grp.getgrgid(gid).gr_name
        ok(r.returncode == 2 and "Permission denied" in r.stderr and
           (want in r.stderr or "vigild's read_group" in r.stderr),
           "permission denied: status 2 with the read_group hint",
           show(r))
    else:
        print("ok - # SKIP permission denied hint (needs root to drop "
              "to nobody)")

    # A server that never answers: timeout, status 2.
    fake = os.path.join(h.tmp, "silent.sock")
    srv = FakeServer(fake, None)
    try:
        t0 = time.monotonic()
        r = vigilctl(h, "-t", "500ms", "ping", sock=fake)
        ok(r.returncode == 2 and "no reply within 500 ms" in r.stderr,
           "a silent server: timeout, status 2", show(r))
        ok(time.monotonic() - t0 < 20, "the timeout ends the wait")
    finally:
        srv.close()
    # A server of another protocol major is refused after hello.
    fake2 = os.path.join(h.tmp, "proto2.sock")
    srv = FakeServer(fake2, 2)
    try:
        r = vigilctl(h, "ping", sock=fake2)
        ok(r.returncode == 2 and "protocol 2" in r.stderr and
           "speaks 1" in r.stderr.replace("speaks 1,", "speaks 1"),
           "another protocol major: refused, status 2", show(r))
    finally:
        srv.close()

    # -c CONFIG: the socket comes from control_socket.
    r = subprocess.run([binpath("vigilctl"), "-c", h.conf, "ping"],
                       capture_output=True, text=True, timeout=30)
    ok(r.returncode == 0 and r.stdout.startswith("pong"),
       "vigilctl -c CONFIG uses its control_socket", show(r))
    r = subprocess.run([binpath("vigilctl"), "-c",
                        os.path.join(h.tmp, "missing.conf"), "ping"],
                       capture_output=True, text=True, timeout=30)
    ok(r.returncode == 2 and "missing.conf" in r.stderr,
       "vigilctl -c with a missing file: status 2", show(r))


# ---- silence: recorded, not delivered to the webhook ----------------------

class Hook:
    """A webhook receiver on 127.0.0.1: keeps every POSTed JSON body."""

    def __init__(self):
        self.posts = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                try:
                    hook.posts.append(json.loads(body))
                except ValueError:
                    hook.posts.append({"raw": body.decode(errors="replace")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        self.srv = HTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    def of(self, name):
        return [p for p in self.posts if p.get("provider") == name]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_silence_webhook(h, hook):
    # Alerts of b raised earlier (test_probe's faults) may be delivered
    # still: count only what the aggregator records from now on.
    last = max([a["id"] for a in h.call("alerts").get("result", [])] or [0])
    wait_for(lambda: len(hook.posts) >= last, 5)
    t0 = time.time_ns()
    r = vigilctl(h, "silence", "b", "10m", "--reason", "maintenance of b")
    ok(r.returncode == 0, "vigilctl silence b 10m", show(r))
    h.sim.fault("b", {"clear": True, "status": 503})
    crit = wait_for(lambda: [a for a in h.call(
        "alerts", {"provider": "b", "since_ns": t0}).get("result", [])
        if a["level"] == "critical"], 20)
    ok(crit and all(a["silenced"] for a in crit),
       "while b is silenced its critical alerts are recorded, flagged "
       "silenced", crit)
    # --since takes whole seconds: from t0's second, then keep the rows
    # of the alerts recorded since t0 (by id).
    r = vigilctl(h, "alerts", "--provider", "b", "--level", "critical",
                 "--since", "@%d" % (t0 // 10 ** 9))
    ids = {str(a["id"]) for a in crit or []}
    rows = [x.split() for x in r.stdout.splitlines()[1:]]
    rows = [x for x in rows if len(x) > 3 and x[1] in ids]
    ok(r.returncode == 0 and ids and len(rows) == len(ids) and
       all(x[2] == "b" and x[3] == "critical" and x[-1] == "yes"
           for x in rows),
       "vigilctl alerts shows them with SILENCED yes", show(r))
    # The control case: a is not silenced, and its alert does reach the
    # webhook, so the receiver works and only the silence kept b's away.
    h.sim.fault("a", {"clear": True, "status": 503})
    # A down warning comes one failure before the critical alerts.
    got = wait_for(lambda: [x for x in hook.of("a")
                            if x.get("level") == "critical"], 20)
    ok(got and got[0].get("level") == "critical",
       "an alert of a (not silenced) is delivered to the webhook",
       hook.posts)
    new_b = [p for p in hook.of("b") if p.get("id", 0) > last]
    ok(new_b == [], "no alert of the silenced b reached the webhook",
       new_b)
    h.sim.fault("a", {"clear": True})
    h.sim.fault("b", {"clear": True})
    vigilctl(h, "unsilence", "b")
    wait_for(lambda: (status_of(h, "a") or {}).get("last_check", {}).get(
        "outcome") == "ok", 10)


# ---- pause stops samples and alerts of a failing provider ----------------

def test_pause_failing(h):
    # b fails (500) until it has raised alerts of its own.
    t0 = time.time_ns()
    h.sim.fault("b", {"clear": True, "status": 500})
    raised = wait_for(lambda: [a for a in h.call(
        "alerts", {"provider": "b", "since_ns": t0}).get("result", [])
        if a["level"] in ("warning", "critical")], 20)
    ok(raised, "failing b raised alerts before the pause", raised)
    r = vigilctl(h, "pause", "b")
    ok(r.returncode == 0 and r.stdout == "b: paused\n",
       "vigilctl pause b (still failing)", show(r))
    p = wait_for(lambda: (lambda x: x if x and x["status"] == "paused"
                          else None)(status_of(h, "b")), 5)
    ok(p is not None and p["paused"], "failing b is paused", p)
    # A check in flight when the pause came may still land: let it.
    time.sleep(1.2)
    last = max([a["id"] for a in h.call(
        "alerts", {"limit": 100000}).get("result", [])] or [0])
    head0 = h.providers(0)["b"]["head"]
    time.sleep(4.5)             # four and a half intervals of 1 s
    head1 = h.providers(0)["b"]["head"]
    ok(head0 == head1, "paused: b's sample ring head does not move in "
       "4.5 intervals", (head0, head1))
    new = [a for a in h.call("alerts", {"provider": "b", "limit": 100000})
           .get("result", []) if a["id"] > last]
    ok(new == [], "paused: no new alert of b in the alerts op", new)
    r, j = jctl(h, "alerts", "--provider", "b")
    ok(r.returncode == 0 and isinstance(j, list) and
       [a for a in j if a["id"] > last] == [],
       "paused: vigilctl --json alerts shows no new alert of b", show(r))
    p = status_of(h, "b")
    ok(p is not None and p["status"] == "paused" and p["paused"],
       "still paused after 4.5 intervals", p)
    r = vigilctl(h, "resume", "b")
    ok(r.returncode == 0, "vigilctl resume b", show(r))
    head2 = wait_for(lambda: (lambda x: x if x > head1 else None)(
        h.providers(0)["b"]["head"]), 10)
    s = h.providers(1)["b"]["samples"]
    ok(head2 is not None and s and s[-1].get("http_status") == 500,
       "after resume b samples again (the sim's 500)", (head1, head2, s))
    p = wait_for(lambda: (lambda x: x if x and x["status"] != "paused"
                          else None)(status_of(h, "b")), 10)
    ok(p is not None and not p["paused"], "after resume b is not paused",
       p)
    h.sim.fault("b", {"clear": True})
    wait_for(lambda: (status_of(h, "b") or {}).get("status") == "healthy",
             15)


# ---- reload and shutdown -----------------------------------------------------

def test_reload(h):
    r = vigilctl(h, "reload")
    ok(r.returncode == 0 and r.stdout == "configuration reloaded\n",
       "vigilctl reload", show(r))
    with open(h.conf) as f:
        good = f.read()
    with open(h.conf, "a") as f:
        f.write("\n[vigil]\nfrobnicate = 1\n")
    try:
        r = vigilctl(h, "reload")
        ok(r.returncode == 1 and r.stderr.startswith("vigilctl: config: ")
           and h.conf in r.stderr,
           "vigilctl reload of a bad file: config error with the path, "
           "status 1", show(r))
    finally:
        with open(h.conf, "w") as f:
            f.write(good)
    r = vigilctl(h, "status")
    ok(r.returncode == 0 and re.search(r"^a\s", r.stdout, re.M),
       "vigild runs on after the refused reload", show(r))


def test_shutdown(h):
    r = vigilctl(h, "shutdown")
    ok(r.returncode == 0 and "shutting down" in r.stdout,
       "vigilctl shutdown", show(r))
    try:
        rc = h.proc.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "vigild exits 0 after shutdown", (rc, h.logtext()[-800:]))
    r = vigilctl(h, "ping")
    ok(r.returncode == 2, "after shutdown vigilctl cannot connect: "
       "status 2", show(r))


def main():
    h = harness.Harness("vctl")
    hook = Hook()
    try:
        h.sim = harness.Sim(h.tmp, ["a:openai:" + KEY_A,
                                    "b:anthropic:" + KEY_B])
        h.write_conf([
            {"name": "a", "kind": "openai", "base_url": h.sim.base("a"),
             "key": KEY_A},
            {"name": "b", "kind": "anthropic", "base_url": h.sim.base("b"),
             "key": KEY_B}], interval="1s", timeout="500ms",
            extra="webhook_url = http://127.0.0.1:%d/hook" % hook.port)
        h.start(wait_providers=["a", "b"])
        # Wait for a first check of both, and history for a.
        if not wait_for(lambda: all(
                (status_of(h, n) or {}).get("last_check")
                for n in ("a", "b")), 15):
            ok(False, "both providers checked within 15 s",
               h.logtext()[-2000:])
        for t in (test_read, test_probe, test_router, test_pause_resume,
                  test_interval,
                  test_silence, test_protocol_errors, test_cli_errors,
                  test_silence_webhook, test_pause_failing, test_reload,
                  test_shutdown):
            try:
                if t is test_silence_webhook:
                    t(h, hook)
                else:
                    t(h)
            except Exception as e:  # a crash fails one test, not the run
                ok(False, "%s raised %s: %s" % (t.__name__,
                                               type(e).__name__, e))
        log = h.logtext()
        ok("AddressSanitizer" not in log and "runtime error" not in log,
           "no sanitizer report in vigild's log",
           [x for x in log.splitlines() if "Sanitizer" in x or
            "runtime error" in x][:5])
    finally:
        h.stop()
        hook.close()
        shutil.rmtree(h.tmp, ignore_errors=True)
    print("# test_ctl: %d failed" % harness.failures)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
