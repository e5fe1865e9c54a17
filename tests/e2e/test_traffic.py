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
  down       10 http_5xx reports for c: c turns unhealthy without a
             probe agreeing (traffic_min_clients is step 4);
  garbage    a client scribbling over its slot and one flooding invalid
             records: a's and b's figures do not move, the invalid
             records are counted in vigil_reports_total;
  death      a client killed mid-record: its slot is freed, the record
             counted lost;
  group      a process outside report_group is refused with the group's
             name (root only: it needs another uid).

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_traffic.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Sim, Vigil, as_user, binpath, get,  # noqa: E402
                     guarded, ok, prom_samples, wait_for)

NAMES = ["a", "b", "c"]


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


def scenario_client(v):
    rc, out = vreport(v, "send", "b", "client_error", 20, 400)
    ok(rc == 0 and out.get("sent") == 20, "client: 20 reports sent", out)
    ok(wait_for(lambda: traffic(v, "b")["samples_total"] == 20, 5),
       "client: counted as traffic", traffic(v, "b"))
    p = v.integration()["b"]
    ok(p["sources"]["traffic"]["errors_total"] == 0 and
       p["consecutive_failures"] == 0 and p["status"] != "unhealthy",
       "client: client_error is never the provider's fault",
       (p["status"], p["consecutive_failures"], p["sources"]))


def scenario_down(v):
    ok(v.integration()["c"]["status"] != "unhealthy",
       "down: c is not unhealthy before", v.integration()["c"]["status"])
    rc, out = vreport(v, "send", "c", "http_5xx", 10, 503)
    ok(rc == 0 and out.get("sent") == 10, "down: 10 failures sent", out)
    ok(wait_for(lambda: v.integration()["c"]["status"] == "unhealthy", 5),
       "down: failing traffic makes c unhealthy",
       v.integration()["c"]["status"])
    t = traffic(v, "c")
    ok(t["errors_total"] == 10 and t["error_rate_1m"] == 1,
       "down: c's traffic error rate", t)


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
    rc, out = vreport(v, "die")
    ok("slot" in out, "death: the client died mid-record", out)
    ok(wait_for(lambda: (reports_total(v, "lost") or 0) > lost0, 5),
       "death: the unfinished record is counted lost",
       reports_total(v, "lost"))
    ok(wait_for(lambda: [val for name, _, val in metrics(v)
                         if name == "vigil_report_slots"] == ["0"], 5),
       "death: its slot is freed",
       [val for name, _, val in metrics(v) if name == "vigil_report_slots"])


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


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-traffic-sim-")
    sim = Sim(tmp, ["a:openai:sk-traffic-a-1111",
                    "b:openai:sk-traffic-b-2222",
                    "c:openai:sk-traffic-c-3333"])
    v = Vigil("traffic")
    try:
        with guarded("traffic: harness"):
            v.write_conf([{"name": n, "kind": "openai",
                           "base_url": sim.base(n),
                           "key": "sk-traffic-%s-%s" % (n, {"a": "1111",
                                                            "b": "2222",
                                                            "c": "3333"}[n])}
                          for n in NAMES],
                         ["report_group = vigil-report-test-none"],
                         "30s", "2s")
            v.start(NAMES)
            ok(wait_for(lambda: all(p["status"] == "healthy" for p in
                                    v.integration().values()), 15),
               "start: every provider healthy from its first probe",
               {n: p["status"] for n, p in v.integration().items()})
            ok("report_group" in v.logtext() or
               "group vigil-report-test-none does not exist" in
               v.logtext(), "start: a missing report_group is said")
            scenario_sources(v)
            scenario_client(v)
            scenario_down(v)
            scenario_garbage(v)
            scenario_death(v)
            scenario_group(v)
    finally:
        v.cleanup()
        sim.stop()
        try:
            os.unlink("/dev/shm" + v.shm + ".reports")
        except OSError:
            pass
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
