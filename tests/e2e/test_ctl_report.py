#!/usr/bin/python3
"""vigilctl report (issue 18): one traffic outcome through the control
socket's report op, as a router without the C reporter sends them.

  ok        `vigilctl report a ok --status 200 --latency-ms 120` is
            counted as traffic of a (sources.traffic), with its latency;
  model     --model names one of a's models: the model's figures move;
  failure   http_5xx reports count as traffic errors of a;
  json      --json prints the op's result {accepted, dropped, invalid};
  invalid   an unknown provider or model: exit 1, said, nothing counted;
  usage     a bad outcome, status or latency, missing arguments: exit 2
            before anything is sent.

vigild and vigil-sim run on loopback and a temporary directory, and are
stopped by pid in a finally block.

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_ctl_report.py
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import binpath, get, ok, prom_samples, wait_for  # noqa: E402

KEY = "sk-ctl-report-aaaa1111"


def vigilctl(h, *args):
    return subprocess.run([binpath("vigilctl"), "-s", h.sock] + list(args),
                          capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})


def show(r):
    return "rc=%d out=%r err=%r" % (r.returncode, r.stdout[-800:],
                                     r.stderr[-800:])


def provider(h):
    st, _, _, data = get(h.listen_port, "/health/integration")
    return {p["name"]: p for p in json.loads(data)["providers"]}["a"]


def traffic(h):
    return provider(h)["sources"]["traffic"]


def reports_total(h, result):
    text = get(h.listen_port, "/metrics")[3].decode()
    for name, labels, val in prom_samples(text):
        if name == "vigil_reports_total" and labels.get("result") == result:
            return float(val)
    return None


def test_ok(h):
    t0 = traffic(h)["samples_total"]
    r = vigilctl(h, "report", "a", "ok", "--status", "200",
                 "--latency-ms", "120")
    ok(r.returncode == 0 and r.stdout.strip() == "a: ok reported",
       "ok: reported, said", show(r))
    ok(wait_for(lambda: traffic(h)["samples_total"] == t0 + 1, 5),
       "ok: counted as a's traffic", traffic(h))
    ok(traffic(h)["errors_total"] == 0, "ok: not an error", traffic(h))
    ok(traffic(h)["last_at"] is not None, "ok: last_at set", traffic(h))


def test_model(h):
    def checks():
        return {m["name"]: m["checks_total"] for m in provider(h)["models"]}
    c0 = checks()
    r = vigilctl(h, "report", "--model", "gpt-4o", "a", "ok",
                 "--latency-ms", "300.5")
    ok(r.returncode == 0, "model: reported", show(r))
    # gen_interval 1h: gpt-4o's first generation check is 30 min away,
    # so the report alone moves its count.
    ok(wait_for(lambda: checks()["gpt-4o"] == c0["gpt-4o"] + 1, 5),
       "model: the model's figures count it", (c0, checks()))


def test_failure(h):
    e0 = traffic(h)["errors_total"]
    for _ in range(2):
        r = vigilctl(h, "report", "a", "http_5xx", "--status", "503")
        ok(r.returncode == 0, "failure: reported", show(r))
    ok(wait_for(lambda: traffic(h)["errors_total"] == e0 + 2, 5),
       "failure: counted as traffic errors", traffic(h))


def test_json(h):
    t0 = traffic(h)["samples_total"]
    r = vigilctl(h, "--json", "report", "a", "ok")
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    ok(r.returncode == 0 and doc == {"accepted": 1, "dropped": 0,
                                     "invalid": 0},
       "json: the op's result", show(r))
    ok(wait_for(lambda: traffic(h)["samples_total"] == t0 + 1, 5),
       "json: counted", traffic(h))


def test_invalid(h):
    acc0 = reports_total(h, "accepted")
    t0 = traffic(h)["samples_total"]
    r = vigilctl(h, "report", "nosuch", "ok")
    ok(r.returncode == 1 and "report invalid: no such provider" in r.stdout,
       "invalid: an unknown provider, exit 1", show(r))
    r = vigilctl(h, "report", "a", "ok", "--model", "no-such-model")
    ok(r.returncode == 1 and "no such model" in r.stdout,
       "invalid: an unknown model, exit 1", show(r))
    # A report that follows is counted: the two before it were not.
    r = vigilctl(h, "report", "a", "ok")
    ok(wait_for(lambda: traffic(h)["samples_total"] == t0 + 1, 5) and
       wait_for(lambda: reports_total(h, "accepted") == acc0 + 1, 5),
       "invalid: nothing counted", (t0, traffic(h), acc0,
                                    reports_total(h, "accepted")))


def test_usage(h):
    t0 = traffic(h)["samples_total"]
    for args, why in ((["a", "fine"], "not an outcome"),
                      (["a"], "a provider and an outcome"),
                      (["a", "ok", "extra"], "a provider and an outcome"),
                      (["a", "ok", "--status", "99"], "--status"),
                      (["a", "ok", "--status", "600"], "--status"),
                      (["a", "ok", "--status", "x"], "--status"),
                      (["a", "ok", "--latency-ms", "-1"], "--latency-ms"),
                      (["a", "ok", "--latency-ms", "3600001"],
                       "--latency-ms"),
                      (["a", "ok", "--latency-ms", "nan"], "--latency-ms"),
                      (["a", "ok", "--bogus"], "unknown option")):
        r = vigilctl(h, "report", *args)
        ok(r.returncode == 2 and why in r.stderr,
           "usage: report %s" % " ".join(args), show(r))
    r = vigilctl(h, "report", "a", "ok")
    ok(r.returncode == 0 and
       wait_for(lambda: traffic(h)["samples_total"] == t0 + 1, 5),
       "usage: none of them was sent", (t0, traffic(h)))


def main():
    h = harness.Harness("vctlrep")
    try:
        h.sim = harness.Sim(h.tmp, ["a:openai:" + KEY])
        h.write_conf([{"name": "a", "kind": "openai",
                       "base_url": h.sim.base("a"), "key": KEY,
                       "extra": ["models = gpt-4o-mini, gpt-4o",
                                 "gen_interval = 1h"]}],
                     extra="report_group = vigil-report-test-none",
                     interval="30s", timeout="2s")
        h.start(wait_providers=["a"])
        if not wait_for(lambda: provider(h)["updated_at"] is not None, 15):
            ok(False, "a aggregated within 15 s", h.logtext()[-2000:])
        for t in (test_ok, test_model, test_failure, test_json,
                  test_invalid, test_usage):
            try:
                t(h)
            except Exception as e:  # a crash fails one test, not the run
                ok(False, "%s raised %s: %s" % (t.__name__,
                                               type(e).__name__, e))
        log = h.logtext()
        ok("AddressSanitizer" not in log and "runtime error" not in log,
           "no sanitizer report in vigild's log")
    finally:
        h.stop()
        try:
            os.unlink("/dev/shm" + h.shm + ".reports")
        except OSError:
            pass
        shutil.rmtree(h.tmp, ignore_errors=True)
    print("# test_ctl_report: %d failed" % harness.failures)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
