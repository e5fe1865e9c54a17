#!/usr/bin/python3
"""Real traffic reported by local services (issue 18), end to end.

One vigild probes three vigil-sim providers every 30 s (so that nearly
every sample is a report), and tests/tools/vreport reports through the
public reporter (include/vigil/vigil.h):

  sources    50 ok reports for a: /health/integration's
             sources.traffic counts 50, the probes stay apart, /metrics
             says the same with source="traffic";
  client     20 client_error reports for b: counted as traffic, never
             against b (no errors, no failures in a row, not unhealthy);
  held       with traffic_min_clients = 2, one client's 10 http_5xx
             reports for c (whose sim answers fine): c is checked at once
             (a probe outside its 30 s schedule), which disagrees, so c
             stays healthy: one client alone cannot take it down;
  down       c's sim down for real: the next failures are confirmed by
             the prober's immediate check and c turns unhealthy;
  clients    two clients at once reporting failures for e: unhealthy
             without a probe agreeing;
  idle       d probed every second: while traffic flows its scheduled
             checks are skipped (vigil-sim's request counter stays,
             vigil_probes_skipped_total grows); when it stops, probing
             resumes within an interval;
  gen_idle   g's two models each get a generation check every second:
             while traffic naming both flows, their generation checks
             are skipped too (probe_when_idle per model); they resume
             once it stops;
  garbage    a client scribbling over its slot and one flooding invalid
             records: a's and b's figures do not move, the invalid
             records are counted in vigil_reports_total;
  death      a client killed mid-record: its slot is freed, the record
             counted lost (a client never inherits a slot a scribbling
             client left: released slots are cleaned first);
  socket     the control socket's report op: a batch of 12 for a
             (10 written, an unknown provider and an unknown outcome
             invalid), seen as traffic; a's hedge_after_ms is the p95 of
             its latencies;
  group      a process outside report_group is refused with the group's
             name (root only: it needs another uid);
  router     examples/router at 20 requests/s over three fresh providers
             (another vigild, probes every 30 s): the provider it routes
             to first goes hard down (503); the router fails over, loses
             no request, vigil turns the provider unhealthy from the
             reported failures, and the router stops sending it any.

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_traffic.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Sim, Vigil, as_user, binpath, get,  # noqa: E402
                     guarded, ok, prom_samples, wait_for)

NAMES = ["a", "b", "c", "d", "e", "g"]
EXTRA = {"d": ["interval = 1s", "timeout = 500ms"],
         "g": ["models = gpt-4o-mini, gpt-4o", "gen_interval = 1s",
               "timeout = 500ms"]}
KEYS = {n: "sk-traffic-%s-%d" % (n, i)
        for i, n in enumerate(NAMES + ["r1", "r2", "r3"])}


def vreport(v, *args, timeout=30):
    r = subprocess.run([binpath("tests/tools/vreport"), v.shm] +
                       [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout)
    try:
        return r.returncode, json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return r.returncode, {"raw": r.stdout + r.stderr}


def traffic(v, name):
    return v.integration()[name]["sources"]["traffic"]


def metrics(v):
    return prom_samples(get(v.port, "/metrics")[3].decode())


def reports_total(v, result):
    for name, labels, val in metrics(v):
        if name == "vigil_reports_total" and labels.get("result") == result:
            return float(val)
    return None


def figures(v, name):
    p = v.integration()[name]
    return (json.dumps(p["sources"], sort_keys=True), p["status"],
            p["consecutive_failures"])


def scenario_sources(v):
    rc, out = vreport(v, "send", "a", "ok", 50)
    ok(rc == 0 and out.get("sent") == 50, "sources: 50 reports sent", out)
    ok(wait_for(lambda: traffic(v, "a")["samples_total"] == 50, 5),
       "sources: a's traffic counts 50", traffic(v, "a"))
    t = traffic(v, "a")
    ok(t["errors_total"] == 0 and t["samples_1m"] == 50 and
       t["error_rate_1m"] == 0 and t["clients_1m"] == 1 and
       t["last_at"] is not None, "sources: a's traffic figures", t)
    probe = v.integration()["a"]["sources"]["probe"]
    ok(probe["samples_total"] < 5, "sources: the probes stay apart", probe)
    got = [val for name, labels, val in metrics(v)
           if name == "vigil_source_samples_total" and
           labels.get("provider") == "a" and
           labels.get("source") == "traffic"]
    ok(got == ["50"], "sources: /metrics source=\"traffic\"", got)


def scenario_socket(v):
    if not harness.need_msgpack():
        return
    n0 = traffic(v, "a")["samples_total"]
    batch = [{"provider": "a", "outcome": "ok", "http_status": 200,
              "latency_us": 150000, "ttft_us": 50000, "tokens_in": 3,
              "tokens_out": 4} for _ in range(10)]
    batch += [{"provider": "nope", "outcome": "ok"},
              {"provider": "a", "outcome": "fine"}]
    r = v.call("report", {"reports": batch})
    ok(r.get("ok") and r["result"] == {"accepted": 10, "dropped": 0,
                                       "invalid": 2},
       "socket: report op writes the valid ones", r)
    ok(wait_for(lambda: traffic(v, "a")["samples_total"] == n0 + 10, 5),
       "socket: seen as traffic", traffic(v, "a"))
    # hedge_after: the 5-minute p95 latency, 120 ms reports and 150 ms
    # ones (the histogram's resolution: within 25%).
    h = v.integration()["a"]["hedge_after_ms"]
    ok(h is not None and 110 <= h <= 190,
       "socket: hedge_after_ms from the traffic's latency", h)
    r = v.call("report", {"reports": "x"})
    ok(not r.get("ok") and r["error"]["code"] == "bad_argument",
       "socket: a bad batch is refused", r)


def scenario_client(v):
    rc, out = vreport(v, "send", "b", "client_error", 20, 400)
    ok(rc == 0 and out.get("sent") == 20, "client: 20 reports sent", out)
    ok(wait_for(lambda: traffic(v, "b")["samples_total"] == 20, 5),
       "client: counted as traffic", traffic(v, "b"))
    p = v.integration()["b"]
    ok(p["sources"]["traffic"]["errors_total"] == 0 and
       p["consecutive_failures"] == 0 and p["status"] == "healthy" and
       p["usable"], "client: client_error is never the provider's fault",
       (p["status"], p["usable"], p["consecutive_failures"],
        p["sources"]))


def probes(v, name):
    return v.integration()[name]["sources"]["probe"]["samples_total"]


def scenario_held(v):
    ok(v.integration()["c"]["status"] == "healthy",
       "held: c healthy before", v.integration()["c"]["status"])
    n0 = probes(v, "c")
    rc, out = vreport(v, "send", "c", "http_5xx", 10, 503)
    ok(rc == 0 and out.get("sent") == 10, "held: 10 failures sent", out)
    ok(wait_for(lambda: traffic(v, "c")["errors_total"] == 10, 5),
       "held: counted as traffic errors", traffic(v, "c"))
    ok(wait_for(lambda: probes(v, "c") > n0, 5),
       "held: failing traffic gets a check at once", probes(v, "c"))
    p = v.integration()["c"]
    ok(p["status"] == "healthy" and p["consecutive_failures"] == 0,
       "held: one client alone does not take c down",
       (p["status"], p["consecutive_failures"]))


def scenario_down(v, sim):
    sim.fault("c", {"error_rate": 1.0, "error_status": 503})
    n0 = probes(v, "c")
    # Failures until the prober's confirmation has failed too.
    for _ in range(10):
        vreport(v, "send", "c", "http_5xx", 5, 503, 20)
        if wait_for(lambda: v.integration()["c"]["status"] ==
                    "unhealthy", 1.5):
            break
    ok(v.integration()["c"]["status"] == "unhealthy",
       "down: confirmed failing traffic makes c unhealthy",
       v.integration()["c"])
    ok(probes(v, "c") > n0, "down: the prober confirmed",
       (n0, probes(v, "c")))
    sim.fault("c", {"clear": True})


def scenario_clients(v):
    procs = [subprocess.Popen([binpath("tests/tools/vreport"), v.shm, "send",
                               "e", "http_5xx", "40", "503", "25"],
                              stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=30)[0]) for p in procs]
    ok(len({o["slot"] for o in outs}) == 2,
       "clients: two clients, two slots", outs)
    ok(wait_for(lambda: v.integration()["e"]["status"] == "unhealthy", 5),
       "clients: two clients failing make e unhealthy without a probe",
       v.integration()["e"])


def scenario_idle(v, sim):
    # Traffic at 20/s for 4 s against d, probed every second.
    harness.note("d before: %s" % v.integration()["d"]["sources"])
    g = subprocess.Popen([binpath("tests/tools/vreport"), v.shm, "send",
                          "d", "ok", "80", "200", "50"],
                         stdout=subprocess.PIPE, text=True)
    wait_for(lambda: traffic(v, "d")["samples_total"] > 0, 5)
    s0, k0 = sim_count(sim, "d"), skipped(v, "d")
    g.communicate(timeout=30)
    s1, k1 = sim_count(sim, "d"), skipped(v, "d")
    ok(s1 - s0 <= 1 and k1 - k0 >= 2,
       "idle: no scheduled check while traffic flows",
       {"sim_requests": (s0, s1), "skipped": (k0, k1)})
    ok(wait_for(lambda: sim_count(sim, "d") > s1, 3),
       "idle: probing resumes within an interval once traffic stops",
       (s1, sim_count(sim, "d")))
    got = [val for name, labels, val in metrics(v)
           if name == "vigil_probes_skipped_total" and
           labels.get("provider") == "d"]
    ok(got and float(got[0]) >= 2, "idle: /metrics counts them", got)


def scenario_gen_idle(v, sim):
    # Both of g's models checked once at least, then traffic naming
    # each at 20/s for 4 s: g's generation checks (one every 500 ms,
    # alternating) would send 8 requests meanwhile.
    ok(wait_for(lambda: all(m["checks_total"] > 0 for m in
                            v.integration()["g"]["models"]), 10),
       "gen_idle: both models checked", v.integration()["g"]["models"])
    gs = [subprocess.Popen([binpath("tests/tools/vreport"), v.shm, "send",
                            "g", "ok", "80", "200", "50", m],
                           stdout=subprocess.PIPE, text=True)
          for m in ("gpt-4o-mini", "gpt-4o")]
    wait_for(lambda: traffic(v, "g")["samples_total"] >= 10, 5)
    s0, k0 = sim_count(sim, "g"), skipped(v, "g")
    outs = [g.communicate(timeout=30)[0] for g in gs]
    s1, k1 = sim_count(sim, "g"), skipped(v, "g")
    ok(all('"sent":80' in o for o in outs), "gen_idle: traffic sent", outs)
    # At most one check of each model may have been under way.
    ok(s1 - s0 <= 2 and k1 - k0 >= 4,
       "gen_idle: no generation check while traffic names the models",
       {"sim_requests": (s0, s1), "skipped": (k0, k1)})
    ok(wait_for(lambda: sim_count(sim, "g") > s1, 3),
       "gen_idle: generation checks resume once traffic stops",
       (s1, sim_count(sim, "g")))


def sim_count(sim, name):
    st, _, _, data = get(sim.port, "/_sim/" + name)
    return json.loads(data)["counters"]["requests"]


def skipped(v, name):
    return v.integration()[name]["sources"]["probe"]["skipped_total"]


def scenario_garbage(v):
    before = {n: figures(v, n) for n in ("a", "b")}
    inv0 = reports_total(v, "invalid") or 0
    g = subprocess.Popen([binpath("tests/tools/vreport"), v.shm, "garbage",
                          "1.5"], stdout=subprocess.PIPE, text=True)
    rc, out = vreport(v, "flood", 1.5)
    gout = g.communicate(timeout=30)[0]
    ok(rc == 0 and out.get("sent", 0) + out.get("dropped", 0) > 100000,
       "garbage: the flood ran", out)
    harness.note("flood: %s; garbage: %s" % (out, gout.strip()))
    ok(wait_for(lambda: (reports_total(v, "invalid") or 0) > inv0, 5),
       "garbage: invalid records counted in /metrics",
       reports_total(v, "invalid"))
    after = {n: figures(v, n) for n in ("a", "b")}
    ok(after == before, "garbage: the other providers' figures unchanged",
       (before, after))
    ok(v.proc.poll() is None and v.aggregator_pid() is not None,
       "garbage: vigild and the aggregator still run")


def scenario_death(v):
    lost0 = reports_total(v, "lost") or 0
    # The slots held before (vigild's own once the report op was used),
    # once the earlier clients' are freed and /metrics' cache caught up.
    slots0 = None
    for _ in range(10):
        s0 = slots(v)
        time.sleep(1.2)
        if slots(v) == s0:
            slots0 = s0
            break
    harness.note("death: before %s" % {r: reports_total(v, r) for r in (
        "accepted", "invalid", "rate_dropped", "lost", "full")})
    rc, out = vreport(v, "die")
    ok("slot" in out, "death: the client died mid-record", out)
    ok(wait_for(lambda: (reports_total(v, "lost") or 0) > lost0, 5),
       "death: the unfinished record is counted lost",
       reports_total(v, "lost"))
    # vigild holds one slot of its own once the report op was used.
    ok(wait_for(lambda: slots(v) == slots0, 5), "death: its slot is freed",
       (slots0, slots(v)))


def slots(v):
    return [val for name, _, val in metrics(v)
            if name == "vigil_report_slots"]


def scenario_group(v):
    if os.geteuid() != 0:
        harness.note("group: not root, skipped")
        return
    # A copy any user may run (the tree may be root's only).
    d = tempfile.mkdtemp(prefix="vigil-pub-")
    os.chmod(d, 0o755)
    tool = shutil.copy(binpath("tests/tools/vreport"), d)

    def attempt():
        r = subprocess.run([tool, v.shm, "open"], capture_output=True,
                           text=True, timeout=10)
        return {"rc": r.returncode, "out": r.stdout}
    res = as_user(attempt, 65534, 65534)
    shutil.rmtree(d, ignore_errors=True)
    ok(res.get("rc") == 1 and "permission denied" in res.get("out", "")
       and "report_group" in res.get("out", ""),
       "group: a process outside report_group is refused, told why", res)


def scenario_router(sim):
    names = ["r1", "r2", "r3"]
    v = Vigil("router")
    try:
        with guarded("router: harness"):
            v.write_conf([{"name": n, "kind": "openai",
                           "base_url": sim.base(n), "key": KEYS[n]}
                          for n in names], [], "30s", "2s")
            v.start(names)
            ok(wait_for(lambda: all(p["status"] == "healthy" for n, p in
                                    v.integration().items()), 15),
               "router: every provider healthy",
               {n: p["status"] for n, p in v.integration().items()})
            args = [binpath("examples/router"), "-s", v.shm, "-n", "120",
                    "-r", "20", "-t", "1000"] + \
                ["%s=%s=%s" % (n, sim.base(n), KEYS[n]) for n in names]
            r = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
            wait_for(lambda: traffic_any(v, names) >= 20, 10)
            first = [n for n, p in v.integration().items()
                     if p["route_rank"] == 0][0]
            sim.fault(first, {"error_rate": 1.0, "error_status": 503})
            seen = wait_for(lambda: v.integration()[first]["status"] ==
                            "unhealthy", 10)
            sent_then = traffic(v, first)["samples_total"]
            out = r.communicate(timeout=60)[0].strip().splitlines()
            sim.fault(first, {"clear": True})
            summary = json.loads(out[-1])
            fails = [json.loads(ln) for ln in out[:-1]]
            harness.note("router: %s down; %d failed attempts; %s" %
                         (first, len(fails), summary))
            ok(seen, "router: the dead provider turns unhealthy",
               v.integration()[first]["status"])
            ok(summary["served"] == 120 and summary["lost"] == 0,
               "router: every request served (failover)", summary)
            ok(fails and all(f["fail"] == first for f in fails),
               "router: only the dead provider failed", fails[:5])
            ok(summary["providers"][first]["failed"] <= 20,
               "router: it stopped sending the dead provider requests",
               summary["providers"][first])
            # One may have been on its way as vigil said so.
            ok(traffic(v, first)["samples_total"] <= sent_then + 1,
               "router: none after vigil said unhealthy",
               (sent_then, traffic(v, first)["samples_total"]))
    finally:
        v.cleanup()
        try:
            os.unlink("/dev/shm" + v.shm + ".reports")
        except OSError:
            pass


def traffic_any(v, names):
    ps = v.integration()
    return sum(ps[n]["sources"]["traffic"]["samples_total"] for n in names)


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-traffic-sim-")
    sim = Sim(tmp, ["%s:openai:%s" % (n, k) for n, k in KEYS.items()])
    v = Vigil("traffic")
    try:
        with guarded("traffic: harness"):
            v.write_conf([{"name": n, "kind": "openai",
                           "base_url": sim.base(n), "key": KEYS[n],
                           "extra": EXTRA.get(n, [])}
                          for n in NAMES],
                         ["report_group = vigil-report-test-none",
                          "traffic_min_clients = 2"],
                         "30s", "2s")
            v.start(NAMES)
            ok(wait_for(lambda: all(p["status"] == "healthy" for p in
                                    v.integration().values()), 15),
               "start: every provider healthy from its first probe",
               {n: p["status"] for n, p in v.integration().items()})
            ok("group vigil-report-test-none does not exist" in
               v.logtext(), "start: a missing report_group is said")
            scenario_sources(v)
            scenario_socket(v)
            scenario_client(v)
            scenario_held(v)
            scenario_down(v, sim)
            scenario_clients(v)
            scenario_idle(v, sim)
            scenario_gen_idle(v, sim)
            scenario_garbage(v)
            scenario_death(v)
            scenario_group(v)
    finally:
        v.cleanup()
    try:
        scenario_router(sim)
    finally:
        sim.stop()
        try:
            os.unlink("/dev/shm" + v.shm + ".reports")
        except OSError:
            pass
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
