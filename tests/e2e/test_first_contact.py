#!/usr/bin/python3
"""End-to-end tests of what a new user meets first (issue 15): the
seed's own settings are accepted, and HEALTH_MONITORING_ENABLED=false
stops probing, not only alerts."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, binpath  # noqa: E402

KEY = "sk-first-contact-1111"


def test_seed_values(tmp):
    """interval = 10s with the default 10 s timeout, and a timeout in
    decimal seconds from the environment, pass --check-config."""
    path = os.path.join(tmp, "seed.conf")
    with open(path, "w") as f:
        f.write("[vigil]\ninterval = 10s\nuser = root\n"
                "shm_name = /vigil-seed\n")
    r = subprocess.run([binpath("vigild"), "--check-config", "-c", path],
                       capture_output=True, text=True, timeout=10)
    ok(r.returncode == 0, "interval = 10s with the default timeout is "
       "accepted", (r.returncode, r.stderr))
    env = dict(os.environ, HEALTH_CHECK_TIMEOUT_SECONDS="0.5",
               HEALTH_CHECK_INTERVAL_SECONDS="10")
    r = subprocess.run([binpath("vigild"), "--check-config", "-c", path],
                       capture_output=True, text=True, timeout=10, env=env)
    ok(r.returncode == 0, "HEALTH_CHECK_TIMEOUT_SECONDS=0.5 is accepted",
       (r.returncode, r.stderr))


def test_monitoring_disabled():
    h = harness.Harness("nomon")
    with harness.guarded("monitoring disabled", h):
        h.sim = harness.Sim(h.tmp, ["a:openai:" + KEY, "b:openai:" + KEY])
        h.write_conf([{"name": n, "kind": "openai",
                       "base_url": h.sim.base(n), "key": KEY}
                      for n in ("a", "b")])
        h.start(wait_providers=["a", "b"],
                env={"HEALTH_MONITORING_ENABLED": "false"})
        time.sleep(1.5)     # 7 intervals of 200 ms
        ps = h.providers(8)
        ok(all(not ps[n]["samples"] for n in ("a", "b")),
           "HEALTH_MONITORING_ENABLED=false: no provider is probed",
           {n: len(ps[n]["samples"]) for n in ("a", "b")})
        ok(all(ps[n]["paused"] for n in ("a", "b")),
           "every provider is shown paused", ps)
        r = h.call("resume", {"provider": "a"})
        ok(r.get("ok") is True, "an operator may still resume one", r)
        ok(wait_for(lambda: h.providers(8)["a"]["samples"], 10),
           "the resumed provider is probed")
        ok(not h.providers(8)["b"]["samples"], "the other is not")


def test_exec_failure():
    """A child binary that cannot be executed is reported once, as
    permanent, with the fix; not retried every backoff period."""
    h = harness.Harness("noexec")
    with harness.guarded("exec failure", h):
        bindir = os.path.join(h.tmp, "bin")
        os.mkdir(bindir)
        for b in ("vigild", "vigil-prober", "vigil-aggregator"):
            shutil.copy(binpath(b), os.path.join(bindir, b))
        # vigil-api there, executable, but not a program (a file that
        # is not executable at all is "not installed" before any fork).
        with open(os.path.join(bindir, "vigil-api"), "w") as f:
            f.write("not a program\n")
        os.chmod(os.path.join(bindir, "vigil-api"), 0o755)
        h.sim = harness.Sim(h.tmp, ["a:openai:" + KEY])
        h.write_conf([{"name": "a", "kind": "openai",
                       "base_url": h.sim.base("a"), "key": KEY}])
        h.start(vigild=os.path.join(bindir, "vigild"),
                wait_providers=["a"])
        ok(wait_for(lambda: "will not retry" in h.logtext(), 10),
           "exec failure: the reason and the fix are logged",
           h.logtext()[-1500:])
        time.sleep(3)       # several backoff periods
        log = h.logtext()
        n_exec = log.count("vigil-api: Exec format error: will not retry")
        n_perm = len(re.findall(r"api: pid \d+ exited with status 125: a "
                                r"permanent error", log))
        ok(n_exec == 1 and n_perm == 1 and "restarting in" not in
           log.split("will not retry", 1)[1].split("\n", 2)[-1].replace(
               "prober", ""),
           "it is reported once as permanent, not restarted",
           (n_exec, n_perm, log[-1500:]))
        ok(h.providers(4)["a"]["samples"], "the rest of vigil runs on")


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-first-")
    try:
        with harness.guarded("seed values"):
            test_seed_values(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    test_monitoring_disabled()
    test_exec_failure()
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
