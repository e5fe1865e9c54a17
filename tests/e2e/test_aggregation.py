#!/usr/bin/python3
"""End-to-end tests of aggregation (issue 4): vigil-sim plays the
providers, vigild runs the probers, the aggregator and vigil-api; the test
reads status from GET /health/integration, alerts and history through the
control protocol (python3-msgpack), the sample rings with segdump, and
receives the webhook itself.

Two vigilds run at the same time (the error-rate ramp needs a minute of
history before its short window differs from its long one, so it runs in
a thread while the rest runs beside it):

  A  ramp (error rate 0 -> 30 -> 60 -> 100 % and back), steady, and the
     webhook receiver (up, down, up again);
  B  default down_after / circuit_failures: hard-down providers, a
     flapping one, SIGKILL of the aggregator, restarts of vigild (SIGTERM,
     SIGKILL) and a truncated snapshot.

Every server is started (by harness.py) on 127.0.0.1 with free ports, a
temporary shm name, control socket and state_dir, and stopped by pid even
on failure.
"""
import glob
import os
import signal
import sys
import tempfile
import threading
import time

import harness
from harness import (Receiver, Sim, Vigil, children_of, first, note, ok,
                     pid_alive, wait_for)

harness.need_msgpack()


# ---- helpers over alerts and history ---------------------------------------

def raises(alerts):
    return [a for a in alerts if a["level"] in ("warning", "critical")]


# ---- A: the ramp, and the webhook -------------------------------------------

A_INTERVAL_MS = 200
A_CIRCUIT_FAILURES = 20
A_COOLDOWN_MS = 1000


def scenario_ramp(A, sim, rcv):
    """0% -> 30% -> 60% -> 100% errors on "ramp": degrading and a warning
    before any critical alert and before the circuit opens; then recovery:
    half_open, closed, resolved alerts.  The receiver is closed from the
    100% step until the circuit has closed again."""
    t0 = A.start_mono

    def sleep_until(t):
        d = t0 + t - time.monotonic()
        if d > 0:
            time.sleep(d)

    # 20 s healthy: the trend compares the 1-minute window with the
    # 15-minute one, so it needs history older than a minute; the steps
    # are placed so that the short window turns degrading at about 70 s.
    sleep_until(20)
    w30 = time.time_ns()
    sim.fault("ramp", {"error_rate": 0.3, "error_status": 503})
    sleep_until(30)
    w60 = time.time_ns()
    sim.fault("ramp", {"error_rate": 0.6})

    seen_degrading = None       # wall ns when the API first showed it
    seen = []

    def warned():
        nonlocal seen_degrading
        p = A.integration()["ramp"]
        seen.append((p["status"], p["circuit"], p["trend"]))
        if p["trend"] == "degrading" and seen_degrading is None:
            seen_degrading = time.time_ns()
        al = A.alerts("ramp")
        return (any(a["kind"] == "degrading" and a["level"] == "warning"
                    for a in al) and
                any(a["kind"] == "error_rate" and a["level"] == "warning"
                    for a in al))
    got = wait_for(warned, max(5, t0 + 95 - time.monotonic()), 0.1)
    ok(got, "ramp: a degrading and an error_rate warning alert during the "
       "30%/60% steps", (A.alerts("ramp"), seen[-3:]))
    # The trend may be degrading for a moment only (it compares windows
    # that move by slices, at a slice boundary or at a sample): seen
    # live by the polling above, or in the history the API serves (one
    # record per sample).
    pts = A.api("/health/integration/history?provider=ramp&from=%d" %
                (w30 // 10**9))["providers"][0]["points"]
    tdeg = first(pts, lambda x: x["trend"] == "degrading")
    ok(seen_degrading is not None or tdeg is not None,
       "ramp: /health/integration shows trend degrading (live or in its "
       "history)", seen[-3:])
    before = A.alerts("ramp")
    ok(not any(a["level"] == "critical" for a in before) and
       all(s[1] == "closed" for s in seen),
       "ramp: no critical alert and a closed circuit before 100%",
       [a for a in before if a["level"] == "critical"])

    # The receiver goes away; the provider fails completely.
    rcv.stop()
    down_mono = time.monotonic()
    rcv.down_ns = time.time_ns()
    st0 = A.detail("steady")
    w100 = time.time_ns()
    sim.fault("ramp", {"error_rate": 1.0})

    opened = wait_for(lambda: A.integration()["ramp"]["circuit"] == "open",
                      A_CIRCUIT_FAILURES * A_INTERVAL_MS / 1000 + 5, 0.05)
    ok(opened, "ramp: the circuit opens at 100%")
    wrec = time.time_ns()
    sim.fault("ramp", {"clear": True})

    # With the receiver down, aggregation goes on: the other provider's
    # status is fresh and its counters move.
    time.sleep(1.0)
    st1 = A.detail("steady")
    pst = A.integration()["steady"]
    ok(st1["samples_total"] >= st0["samples_total"] + 3 and
       st1["updated_at"] >= st0["updated_at"] and not pst["stale"] and
       pst["status"] == "healthy",
       "webhook down: the other provider's status stays current",
       (st0["samples_total"], st1["samples_total"], pst["stale"],
        pst["status"]))

    closed = wait_for(lambda: A.integration()["ramp"]["circuit"] ==
                      "closed", A_COOLDOWN_MS / 1000 * 4 + 5, 0.05)
    ok(closed, "ramp: the circuit closes after recovery")
    resolved = wait_for(lambda: [a for a in A.alerts("ramp")
                                 if a["kind"] == "circuit_open" and
                                 a["level"] == "resolved"], 5, 0.1)
    ok(resolved, "ramp: circuit_open resolved once closed")
    up_mono = time.monotonic()
    rcv.up_ns = time.time_ns()
    rcv.up_mono = up_mono
    rcv.start()
    note("receiver down for %.1f s" % (up_mono - down_mono))

    al = A.alerts("ramp")
    hist = A.history("ramp", w60)
    crit = [a for a in al if a["level"] == "critical"]
    deg = first(al, lambda a: a["kind"] == "degrading" and
                a["level"] == "warning")
    warn = first(al, lambda a: a["kind"] == "error_rate" and
                 a["level"] == "warning")
    ok(crit, "ramp: critical alerts at 100%", al)
    if not (crit and deg and warn):
        return
    c1 = crit[0]
    ok(deg["id"] < c1["id"] and deg["at_ns"] <= c1["at_ns"] and
       warn["id"] < c1["id"] and warn["at_ns"] <= c1["at_ns"],
       "ramp: degrading and warning come before the first critical",
       (deg, warn, c1))
    ok(c1["at_ns"] >= w100 and deg["at_ns"] >= w30 and warn["at_ns"] >= w30,
       "ramp: each alert comes after the step that causes it",
       (w30, deg["at_ns"], warn["at_ns"], w100, c1["at_ns"]))
    ok({a["kind"] for a in crit} >= {"down", "circuit_open"},
       "ramp: down and circuit_open critical", [a["kind"] for a in crit])

    # Order and timing from the history (each record carries the status
    # and circuit after its sample).
    o = first(hist, lambda h: h["circuit"] == "open")
    ok(o is not None and o["at_ns"] >= w100 and o["at_ns"] >= warn["at_ns"],
       "ramp: the circuit opens after the warning, at the 100% step",
       (o, warn["at_ns"], w100))
    if o is None:
        return
    # circuit_failures consecutive failures, each at most one interval
    # apart (failures are confirmed faster), plus the aggregator's tick.
    bound = (A_CIRCUIT_FAILURES * A_INTERVAL_MS + 1000) * 1000000
    ok(o["at_ns"] - w100 <= bound,
       "ramp: open within circuit_failures intervals of the 100% step",
       "%.2f s" % ((o["at_ns"] - w100) / 1e9))
    after = [h for h in hist if h["at_ns"] > o["at_ns"]]
    ho = first(after, lambda h: h["circuit"] == "half_open")
    cl = first(after, lambda h: h["circuit"] == "closed")
    ok(ho is not None and cl is not None and ho["at_ns"] < cl["at_ns"] and
       all(h["circuit"] != "closed" for h in after
           if h["at_ns"] < ho["at_ns"]),
       "ramp: open -> half_open -> closed", [h["circuit"] for h in after])
    if ho is None or cl is None:
        return
    ok(ho["at_ns"] - o["at_ns"] >= (A_COOLDOWN_MS - 50) * 1000000,
       "ramp: half_open not before the cool-down (%d ms)" % A_COOLDOWN_MS,
       "%.3f s" % ((ho["at_ns"] - o["at_ns"]) / 1e9))
    ok(cl["at_ns"] - wrec <= (4 * A_COOLDOWN_MS + 2000) * 1000000,
       "ramp: closed within the cool-down of the recovery",
       "%.2f s" % ((cl["at_ns"] - wrec) / 1e9))
    for kind in ("down", "circuit_open"):
        r = first(al, lambda a: a["kind"] == kind and
                  a["level"] == "resolved")
        c = first(crit, lambda a: a["kind"] == kind)
        ok(r is not None and c is not None and r["id"] > c["id"] and
           r["at_ns"] >= o["at_ns"] and
           (kind != "circuit_open" or r["at_ns"] >= ho["at_ns"]),
           "ramp: %s resolved follows the recovery" % kind, (c, r))
    # Statuses: degraded before unhealthy.
    sts = [h["status"] for h in A.history("ramp", w30)]
    ok("degraded" in sts and "unhealthy" in sts and
       sts.index("degraded") < sts.index("unhealthy"),
       "ramp: status degraded before unhealthy")


def scenario_webhook(A, rcv):
    """Each alert of the ring reaches the receiver exactly once, those
    raised while it was down too (within the retry budget)."""
    def want():
        return [a for a in A.alerts() if not a["silenced"]]

    def all_in():
        ids = set(rcv.ids())
        return all(a["id"] in ids for a in want())
    # Retries after 0.5, 1, 2, 4, 8 s: at most ~8 s after the receiver
    # is back (webhook_retries = 6 leaves budget).
    got = wait_for(all_in, 20, 0.1)
    time.sleep(0.5)         # a duplicate would come now
    ring = want()
    ids = rcv.ids()
    missing = [a["id"] for a in ring if a["id"] not in ids]
    ok(got and not missing, "webhook: every alert delivered", missing)
    dup = sorted({i for i in ids if ids.count(i) > 1})
    ok(not dup, "webhook: each alert delivered once", dup)
    byid = {a["id"]: a for a in A.alerts()}
    bad = [o for _, o in rcv.bodies() if o.get("id") not in byid or
           byid[o["id"]]["provider"] != o.get("provider") or
           byid[o["id"]]["kind"] != o.get("kind") or
           byid[o["id"]]["level"] != o.get("level")]
    ok(not bad, "webhook: each POST matches its alert in the ring", bad[:3])
    ok(len(ring) >= 5, "webhook: the ramp raised alerts", len(ring))
    if rcv.up_ns:
        during = {a["id"] for a in ring
                  if rcv.down_ns <= a["at_ns"] <= rcv.up_ns}
        when = {o.get("id"): t for t, o in rcv.bodies()}
        late = [i for i in during if i not in when or
                when[i] < rcv.up_mono]
        ok(len(during) >= 2 and not late,
           "webhook: the %d alerts raised while the receiver was down "
           "arrive once it is back" % len(during), (sorted(during), late))
    c1 = [a["id"] for a in A.alerts()]
    api = [a["id"] for a in A.api("/health/integration/alerts")["alerts"]]
    c2 = [a["id"] for a in A.alerts()]
    ok(api[:len(c1)] == c1 and c2[:len(api)] == api,
       "GET /health/integration/alerts lists the same alerts", (c1, api))


def run_a(sim):
    A = Vigil("a")
    rcv = Receiver()
    try:
        rcv.start()
        A.write_conf(
            [{"name": "ramp", "kind": "openai", "base_url": sim.base("ramp"),
              "key": "sk-agg-ramp-1111"},
             {"name": "steady", "kind": "openai",
              "base_url": sim.base("steady"), "key": "sk-agg-steady-2222"}],
            [# Random runs of failures at 30% and 60% must not reach
             # down_after or circuit_failures (0.6^20 is small), so that
             # only the error-rate thresholds and the trend speak first.
             "down_after = %d" % A_CIRCUIT_FAILURES,
             "circuit_failures = %d" % A_CIRCUIT_FAILURES,
             # A short cool-down so that recovery fits in the test.
             "circuit_cooldown = %dms" % A_COOLDOWN_MS,
             "circuit_cooldown_max = 4s",
             "alert_cooldown = 30s",
             "webhook_url = %s" % rcv.url(),
             "webhook_timeout = 1s",
             "webhook_retries = 6"],
            "%dms" % A_INTERVAL_MS, "150ms")
        A.start(["ramp", "steady"])
        scenario_ramp(A, sim, rcv)
        scenario_webhook(A, rcv)
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "A: harness", e)
        print(A.logtext()[-3000:], file=sys.stderr)
    finally:
        A.cleanup()
        rcv.stop()


# ---- B: defaults, hard down, flapping, restarts --------------------------------

B_INTERVAL_MS = 400
B_ALERT_COOLDOWN_S = 6
DOWN_AFTER = 4          # the default down_after (docs/aggregation.md)


def scenario_hard_down(B, sim):
    """A provider hard down is unhealthy with an open circuit within two
    probe intervals of its first failure, with the default down_after (4)
    and circuit_failures (5): the prober confirms failures quickly."""
    time.sleep(1.5)
    w = time.time_ns()
    sim.fault("hard", {"down": True})
    sim.fault("hard2", {"reset": True})
    for name in ("hard", "hard2"):
        got = wait_for(lambda: (lambda p: p["status"] == "unhealthy" and
                                p["circuit"] == "open")(
                                    B.integration()[name]), 5, 0.05)
        ok(got, "%s: unhealthy with an open circuit" % name,
           B.integration()[name])
        hist = B.history(name, w - 10**9)
        f = first(hist, lambda h: h["outcome"] != "ok")
        u = first(hist, lambda h: h["status"] == "unhealthy")
        o = first(hist, lambda h: h["circuit"] == "open")
        if not (f and u and o):
            ok(False, "%s: history shows the failure" % name, hist[-8:])
            continue
        du = (u["at_ns"] - f["at_ns"]) / 1e6
        do = (o["at_ns"] - f["at_ns"]) / 1e6
        ok(f["at_ns"] >= w and du <= 2 * B_INTERVAL_MS and
           do <= 2 * B_INTERVAL_MS,
           "%s: unhealthy after %.0f ms, open after %.0f ms of the first "
           "failure (<= 2 intervals, %d ms)" % (name, du, do,
                                                2 * B_INTERVAL_MS),
           [(h["outcome"], h["status"], h["circuit"]) for h in hist][:8])
    # "hard" stays down: its alerts stay active across the restarts.
    sim.fault("hard2", {"clear": True})


def scenario_flap(B, sim):
    """A provider flapping around the down_after threshold (4 failures,
    then successes, again and again) raises at most one alert per
    (provider, kind, level) per alert_cooldown."""
    w = time.time_ns()
    t_end = time.monotonic() + 16
    n = 0
    while time.monotonic() < t_end:
        # Down long enough for one check and three confirmations (one
        # interval plus three eighths, and slack), up long enough for a
        # success.
        sim.fault("flap", {"reset": True})
        time.sleep(0.9)
        sim.fault("flap", {"clear": True})
        time.sleep(0.75)
        n += 1
    w_end = time.time_ns()
    hist = B.history("flap", w)
    # Episodes of down_after failures in a row.
    runs, run = 0, 0
    for h in hist:
        if h["outcome"] != "ok":
            run += 1
            if run == DOWN_AFTER:
                runs += 1
        else:
            run = 0
    al = [a for a in B.alerts("flap") if a["at_ns"] >= w]
    rs = raises(al)
    span = (w_end - w) / 1e9
    ok(runs >= 6, "flap: the provider went down %d times in %.0f s" %
       (runs, span), "".join("." if h["outcome"] == "ok" else "x"
                             for h in hist))
    ok(any(a["kind"] == "down" for a in rs),
       "flap: a down alert is raised", al)
    bad = []
    for kind in {a["kind"] for a in rs}:
        for level in ("warning", "critical"):
            ts = [a["at_ns"] for a in rs if a["kind"] == kind and
                  a["level"] == level]
            for x, y in zip(ts, ts[1:]):
                if y - x < (B_ALERT_COOLDOWN_S - 0.05) * 1e9:
                    bad.append((kind, level, (y - x) / 1e9))
            if len(ts) > span // B_ALERT_COOLDOWN_S + 2:
                bad.append((kind, level, len(ts)))
    ok(not bad, "flap: at most one alert per (provider, kind) per "
       "cool-down (%d s)" % B_ALERT_COOLDOWN_S, bad)
    seq = [a["level"] for a in al if a["kind"] == "down"]
    ok(all(x != y for x, y in zip(seq, seq[1:])) and
       (not seq or seq[0] != "resolved"),
       "flap: down alerts alternate with their resolved", seq)


def scenario_kill_aggregator(B, names):
    """SIGKILL of the aggregator: vigild restarts it and it carries on
    from the segment, counting no sample twice.  The providers are paused
    so that their rings stand still and the counts compare exactly:
    samples_total minus the ring's head is the part restored from the
    previous vigild's snapshot, and the 15m window holds every sample of
    this vigild's ring."""
    time.sleep(2)           # some samples in this vigild's rings
    al0 = {a["id"] for a in B.alerts()}
    names = [n for n in names if n != "hard"]   # hard stays down, probed
    for n in names:
        B.result("pause", {"provider": n})
    time.sleep(0.8)         # a check in flight ends, the aggregator ticks

    def counts():
        ring = B.ring()
        out = {}
        for n in names:
            d = B.detail(n)
            out[n] = (ring[n]["head"], d["samples_total"] - ring[n]["head"],
                      d["windows"]["15m"]["samples"], d["samples_lost"])
        return out
    c0 = counts()
    note("before: (head, samples_total - head, 15m, lost) %r" % c0)
    ok(all(c[2] == c[0] for c in c0.values()),
       "paused: the 15m window holds every sample of the ring", c0)
    old = B.aggregator_pid()
    ok(old is not None and B.dump()["header"]["aggregator_pid"] == old,
       "the aggregator's pid (a child of vigild, in the header)", old)
    if old is None:
        return
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p and p != old else None)(
        B.aggregator_pid()), 10)
    ok(new, "SIGKILLed aggregator restarted by vigild", new)
    B.remember_children()
    beat = wait_for(lambda: (lambda d: d["header"]["aggregator_pid"] == new
                             and 0 <= d["header"]["aggregator_age_ms"] < 500)(
                                 B.dump()), 10)
    ok(beat, "the new aggregator beats in the header")
    time.sleep(1.0)          # five ticks
    c1 = counts()
    ok(c1 == c0, "after the restart: samples_total, 15m window and lost "
       "as before (nothing counted twice)", (c0, c1))
    again = [a for a in B.alerts() if a["id"] not in al0]
    ok(B.integration()["hard"]["circuit"] == "open" and not again,
       "after the restart: hard's active alerts are not raised again",
       again)
    dh = B.detail("hard")
    ok(dh["samples_lost"] == 0 and
       dh["windows"]["15m"]["samples"] <= B.ring()["hard"]["head"],
       "after the restart: hard, probed all along, lost nothing and "
       "counts no more than its ring", (dh["samples_lost"],
                                         dh["windows"]["15m"]["samples"]))
    B.result("resume", {"provider": "base"})
    h0 = c0["base"][0]
    wait_for(lambda: B.ring()["base"]["head"] >= h0 + 5, 10)
    B.result("pause", {"provider": "base"})
    time.sleep(0.8)
    c2 = counts()
    b0, b2 = c0["base"], c2["base"]
    ok(b2[0] >= h0 + 5 and b2[1] == b0[1] and b2[2] == b2[0] and
       b2[3] == b0[3],
       "new samples after the restart are counted exactly once "
       "(samples_total and 15m grow by %d)" % (b2[0] - h0), (b0, b2))
    for n in names:
        B.result("resume", {"provider": n})


def snapshot_counts(B):
    """Per provider: the alert ids and history records of now."""
    al = {a["id"] for a in B.alerts()}
    hist = {n: B.history(n) for n in ("base", "flap")}
    return al, hist


def restart_check(B, tag, sig, names):
    al0, hist0 = snapshot_counts(B)
    old_kids = children_of(B.proc.pid)
    B.remember_children()
    if sig == signal.SIGKILL:
        os.kill(B.proc.pid, signal.SIGKILL)
        B.proc.wait(10)
        # The children see EOF on their socket and stop; the aggregator
        # saves its snapshot on the way out.
        gone = wait_for(lambda: not any(pid_alive(k) for k in old_kids), 10)
        ok(gone, "%s: the children of a SIGKILLed vigild exit" % tag,
           [k for k in old_kids if pid_alive(k)])
        B.log.close()
        B.log = None
    else:
        rc = B.stop(sig)
        ok(rc == 0, "%s: vigild exits 0" % tag, rc)
    ok(os.path.exists(os.path.join(B.state, "state.msgpack")),
       "%s: a snapshot is in state_dir" % tag)
    B.start(names)
    ok(wait_for(lambda: (lambda d: d is not None and
                         d["header"]["aggregator_age_ms"] >= 0 and
                         d["header"]["aggregator_age_ms"] < 1000)(B.dump()),
                10), "%s: restarted, the aggregator runs" % tag)
    time.sleep(0.5)
    # Its circuit starts closed: open again means enough fresh samples.
    opened = wait_for(lambda: B.integration()["hard"]["circuit"] == "open",
                      5)
    time.sleep(0.3)
    al1, hist1 = snapshot_counts(B)
    again = [a for a in B.alerts("hard") if a["id"] not in al0]
    ok(opened and not again,
       "%s: hard, still down, is not alerted again" % tag, again)
    ok(al0 and al0 <= al1, "%s: every alert from before is still there" %
       tag, sorted(al0 - al1))
    for n in ("base", "flap"):
        # Every record read before the stop is still there, in order
        # (a few more may have come between that read and the stop).
        old = [(h["at_ns"], h["outcome"], h["status"]) for h in hist0[n]]
        kept = [(h["at_ns"], h["outcome"], h["status"]) for h in hist1[n]]
        ok(old and kept[:len(old)] == old,
           "%s: %s's history from before is still there (%d records)" %
           (tag, n, len(old)), (len(old), len(kept),
                                [x for x in old if x not in kept][:3]))
    st = B.detail("base")
    ok(st["samples_total"] >= len(hist0["base"]),
       "%s: counters restored" % tag, st["samples_total"])
    ids = [a["id"] for a in B.alerts()]
    ok(ids == sorted(set(ids)), "%s: alert ids increase, never repeat" % tag)


def scenario_truncated(B, names):
    rc = B.stop()
    ok(rc == 0, "truncated: vigild stopped", rc)
    path = os.path.join(B.state, "state.msgpack")
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    logpos = len(B.logtext())
    B.start(names)
    said = wait_for(lambda: "corrupt snapshot" in B.logtext()[logpos:], 10)
    line = [ln for ln in B.logtext()[logpos:].splitlines()
            if "corrupt snapshot" in ln]
    ok(said, "truncated: the log says the snapshot is corrupt", line)
    bad = glob.glob(path + ".bad-*")
    ok(len(bad) == 1 and os.path.getsize(bad[0]) == size // 2 and
       (not line or bad[0] in line[0]),
       "truncated: the bad file is kept aside under the name logged",
       (bad, line))
    ok(wait_for(lambda: B.integration()["base"]["status"] == "healthy", 10)
       and B.proc.poll() is None and B.aggregator_pid() is not None,
       "truncated: vigil runs and judges afresh")


def scenario_unreadable(B, names):
    """A snapshot that cannot be read (here a directory where the file
    was: root reads a mode 000 file, and these children run as root) is
    moved aside whole, like a corrupt one, and the state is saved
    afresh; tests/unit/test_agg_main.c runs the mode 000 case as nobody."""
    rc = B.stop()
    ok(rc == 0, "unreadable: vigild stopped", rc)
    path = os.path.join(B.state, "state.msgpack")
    os.unlink(path)
    os.mkdir(path)
    with open(os.path.join(path, "keep"), "w") as f:
        f.write("operator data\n")
    logpos = len(B.logtext())
    B.start(names)
    said = wait_for(lambda: "unreadable snapshot" in B.logtext()[logpos:], 10)
    line = [ln for ln in B.logtext()[logpos:].splitlines()
            if "unreadable snapshot" in ln]
    ok(said and line and "moved to" in line[0],
       "unreadable: the log says so", line)
    bad = [b for b in glob.glob(path + ".bad-*") if os.path.isdir(b)]
    ok(len(bad) == 1 and os.path.exists(os.path.join(bad[0], "keep")),
       "unreadable: the directory is kept aside whole", bad)
    rc = B.stop()
    ok(rc == 0 and os.path.isfile(path),
       "unreadable: a fresh snapshot saved at stop", (rc, path))


def run_b(sim):
    B = Vigil("b")
    names = ["base", "hard", "hard2", "flap"]
    try:
        B.write_conf(
            [{"name": "base", "kind": "openai", "base_url": sim.base("base"),
              "key": "sk-agg-base-3333"},
             {"name": "hard", "kind": "openai",
              "base_url": sim.own_url("hard"), "key": "sk-agg-hard-4444"},
             {"name": "hard2", "kind": "anthropic",
              "base_url": sim.base("hard2"), "key": "sk-ant-agg-5555"},
             {"name": "flap", "kind": "openai", "base_url": sim.base("flap"),
              "key": "sk-agg-flap-6666"}],
            [# down_after and circuit_failures stay at their defaults.
             # Shorter cool-downs so that flapping shows in seconds.
             "circuit_cooldown = 1s",
             "circuit_cooldown_max = 2s",
             "alert_cooldown = %ds" % B_ALERT_COOLDOWN_S],
            "%dms" % B_INTERVAL_MS, "300ms")
        B.start(names)
        scenario_hard_down(B, sim)
        scenario_flap(B, sim)
        restart_check(B, "SIGTERM restart", signal.SIGTERM, names)
        scenario_kill_aggregator(B, names)
        restart_check(B, "SIGKILL restart", signal.SIGKILL, names)
        scenario_truncated(B, names)
        scenario_unreadable(B, names)
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "B: harness", e)
        print(B.logtext()[-3000:], file=sys.stderr)
    finally:
        B.cleanup()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-agg-sim-")
    sim = None
    try:
        sim = Sim(tmp, ["ramp:openai:sk-agg-ramp-1111",
                        "steady:openai:sk-agg-steady-2222",
                        "base:openai:sk-agg-base-3333",
                        "hard:openai:sk-agg-hard-4444:0",
                        "hard2:anthropic:sk-ant-agg-5555",
                        "flap:openai:sk-agg-flap-6666"])
        ta = threading.Thread(target=run_a, args=(sim,))
        ta.start()
        run_b(sim)
        ta.join()
    except Exception as e:
        import traceback
        traceback.print_exc()
        ok(False, "harness", e)
    finally:
        if sim is not None:
            sim.stop()
        if not harness.failures:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
