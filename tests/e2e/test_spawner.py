#!/usr/bin/python3
"""End-to-end tests of the spawner (vigil-prober --spawner, prober/spawner.c):
probers are forked by it yet are vigild's own children; they cost less
private memory than fork+exec'd probers of the same build, measured side
by side (a second vigild whose vigil-prober is a wrapper that refuses to
be the spawner, so that every prober is fork+exec'd); a SIGKILLed spawner
leaves the running probers alone, comes back, and probers killed
meanwhile come back too.
"""
import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, binpath, pid_alive  # noqa: E402
from harness import cmdline as argv_of  # noqa: E402

NAMES = ["s%d" % i for i in range(6)]


def ppid_of(pid):
    return harness.status_field(pid, "PPid")


def private_kb(pid):
    """Private_Clean + Private_Dirty of pid (smaps_rollup), kB."""
    n = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                n += int(line.split()[1])
    return n


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0


def spawner_pid(h):
    for k in harness.children_of(h.proc.pid):
        a = argv_of(k)
        if len(a) > 1 and a[1] == "--spawner" and pid_alive(k):
            return k
    return None


def conf(h):
    h.write_conf([{"name": n, "kind": "http",
                   "base_url": "http://127.0.0.1:9"} for n in NAMES])


def sampling(h, names, pids=None):
    """Every provider in names writes new samples (with the same pids if
    given)."""
    h0 = {n: p["head"] for n, p in h.providers(0).items()}

    def more():
        ps = h.providers(0)
        return all(n in ps and ps[n]["head"] > h0.get(n, 0) and
                   (pids is None or ps[n]["pid"] == pids[n])
                   for n in names)
    return wait_for(more, 10)


def test_spawned(h):
    """Probers forked by the spawner: vigild's children, named like a
    fork+exec'd prober.  Returns their private memory."""
    sp = spawner_pid(h)
    ok(sp is not None, "the spawner runs as vigild's child "
       "(vigil-prober --spawner)")
    with open("/proc/%d/cmdline" % (sp or os.getpid()), "rb") as f:
        cl = f.read()
    ok(cl.rstrip(b"\0") == b"vigil-prober\0--spawner",
       "the spawner's command line is vigil-prober --spawner, without "
       "the room it keeps for probers' names", cl)
    ps = h.providers(0)
    pids = {n: ps[n]["pid"] for n in NAMES}
    ok(all(ppid_of(p) == h.proc.pid for p in pids.values()),
       "every prober's parent is vigild",
       {n: ppid_of(p) for n, p in pids.items()})
    ok(all(argv_of(p)[:2] == ["vigil-prober", n] for n, p in pids.items()),
       "a spawned prober's command line is vigil-prober NAME",
       {n: argv_of(p)[:2] for n, p in pids.items()})
    ok("fork+exec" not in h.logtext(),
       "no prober was started by fork+exec", h.logtext()[-800:])
    ok(sampling(h, NAMES), "spawned probers sample")
    return [private_kb(p) for p in pids.values()]


def test_memory(spawned, bindir):
    """The same probers fork+exec'd (the spawner refuses to start): the
    spawned ones' median private memory is below 0.75 of theirs."""
    h = harness.Harness("spawnoff")
    try:
        vigild = os.path.join(bindir, "vigild")
        shutil.copy(binpath("vigild"), vigild)
        wrap = os.path.join(bindir, "vigil-prober")
        with open(wrap, "w") as f:
            f.write("#!/bin/sh\ncase \"$1\" in --spawner) exit 125;; "
                    "esac\nexec %s \"$@\"\n" % binpath("vigil-prober"))
        os.chmod(wrap, 0o755)
        conf(h)
        h.start(vigild=vigild, wait_providers=NAMES)
        ok(re.search(r"spawner: pid \d+ exited with status 125",
                     h.logtext()) and spawner_pid(h) is None,
           "without a spawner: vigild runs on")
        ok(sampling(h, NAMES), "without a spawner probers are fork+exec'd "
           "and sample")
        ps = h.providers(0)
        forked = [private_kb(ps[n]["pid"]) for n in NAMES]
        ok(median(spawned) < 0.75 * median(forked),
           "spawned probers' private memory (median %d kB) is below 0.75 "
           "of fork+exec'd ones' (median %d kB)" %
           (median(spawned), median(forked)), (spawned, forked))
        return median(forked)
    finally:
        h.stop()


def test_kill_spawner(h, forked_kb):
    """SIGKILL the spawner: running probers go on; it comes back; a
    prober killed meanwhile comes back and samples; one killed once it is
    back is forked by it again."""
    sp = spawner_pid(h)
    ps = h.providers(0)
    pids = {n: ps[n]["pid"] for n in NAMES}
    os.kill(sp, signal.SIGKILL)
    victim = NAMES[0]
    os.kill(pids[victim], signal.SIGKILL)
    rest = NAMES[1:]
    ok(sampling(h, rest, pids),
       "after the spawner's SIGKILL the running probers keep sampling")
    ok(wait_for(lambda: spawner_pid(h) not in (None, sp), 10),
       "the spawner comes back")
    ok(wait_for(lambda: h.providers(0)[victim]["pid"] not in
                (0, pids[victim]), 10) and sampling(h, [victim]),
       "a prober killed meanwhile comes back and samples")
    nv = h.providers(0)[victim]["pid"]
    ok(ppid_of(nv) == h.proc.pid, "its parent is vigild", ppid_of(nv))

    # Once the spawner is up again, a restarted prober is forked by it.
    wait_for(lambda: re.search(r"spawner: ready \(pid %d\)" %
                               (spawner_pid(h) or 0), h.logtext()), 10)
    victim = NAMES[1]
    os.kill(pids[victim], signal.SIGKILL)
    ok(wait_for(lambda: h.providers(0)[victim]["pid"] not in
                (0, pids[victim]), 10) and sampling(h, [victim]),
       "a prober killed after the spawner is back comes back and samples")
    nv = h.providers(0)[victim]["pid"]
    kb = private_kb(nv)
    ok(ppid_of(nv) == h.proc.pid and kb < 0.75 * forked_kb,
       "it is forked by the new spawner (parent vigild, private %d kB, "
       "fork+exec'd %d kB)" % (kb, forked_kb))


def test_log_level(h):
    """A reload that changes log_level reaches the running probers and the
    spawner (set_log_level); a prober added later gets it too: debug
    lines from all three.  A reload back to info stops them."""
    def reload(level, names):
        n = h.logtext().count("reload done")
        h.write_conf([{"name": x, "kind": "http",
                       "base_url": "http://127.0.0.1:9"} for x in names],
                     "log_level = %s" % level)
        os.kill(h.proc.pid, signal.SIGHUP)
        return wait_for(lambda: h.logtext().count("reload done") > n, 10)
    # A running prober's debug line: a check with the same outcome as the
    # one before (connection refused), its latency in us.
    dbg = r"prober %s: connect .*\(http 0, \d+ us\)"
    ok(not re.search(dbg % NAMES[0], h.logtext()),
       "no debug line at log_level info")
    ok(reload("debug", NAMES), "reloaded to debug")
    ok(wait_for(lambda: re.search(dbg % NAMES[0], h.logtext()), 10),
       "after a reload to debug, a running prober logs debug lines")
    # Added by a reload of its own: the spawn request (fd 5) could pass
    # set_log_level (fd 4) if both came in one reload.
    ok(reload("debug", NAMES + ["late"]), "reloaded to add a prober")
    ok(wait_for(lambda: re.search(r"spawner: late: prober forked, pid \d+",
                                  h.logtext()), 10),
       "the spawner logs at debug: it forked the added prober")
    ok(wait_for(lambda: re.search(dbg % "late", h.logtext()), 10),
       "the added prober logs debug lines")
    ok(reload("info", NAMES + ["late"]), "reloaded back to info")
    time.sleep(0.5)
    n0 = len(re.findall(dbg % NAMES[0], h.logtext()))
    time.sleep(1.5)
    n1 = len(re.findall(dbg % NAMES[0], h.logtext()))
    ok(n1 == n0, "after a reload to info, no more debug lines (%d, then "
       "%d)" % (n0, n1))
    ok("set_log_level:" not in h.logtext(), "no set_log_level failed",
       [ln for ln in h.logtext().splitlines() if "set_log_level" in ln])


def test_large_thresholds():
    """down_after and circuit_failures may be up to 1,000 (vigil.conf(5));
    the prober confirms at most 100 failures quickly: vigild caps what it
    sends, and the probers start and sample."""
    h = harness.Harness("spawner-big")
    try:
        h.write_conf([{"name": n, "kind": "http",
                       "base_url": "http://127.0.0.1:9"} for n in NAMES[:2]],
                     "down_after = 1000\ncircuit_failures = 500")
        h.start(wait_providers=NAMES[:2])
        ok(sampling(h, NAMES[:2]), "with down_after 1000 the probers "
           "start and sample")
        ok("confirm_failures" not in h.logtext(),
           "no prober refused its configure", h.logtext()[-800:])
    finally:
        h.stop()


def main():
    h = harness.Harness("spawner")
    bindir = os.path.join(h.tmp, "bin")
    os.mkdir(bindir)
    with harness.guarded("harness", h):
        conf(h)
        h.start(wait_providers=NAMES)
        time.sleep(1.0)
        spawned = test_spawned(h)
        forked = test_memory(spawned, bindir)
        test_kill_spawner(h, forked)
        test_log_level(h)
    with harness.guarded("harness (large thresholds)"):
        test_large_thresholds()
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
