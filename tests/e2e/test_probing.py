#!/usr/bin/python3
"""End-to-end tests of probing: vigil-sim plays the providers, vigild
starts the probers, segdump reads the segment.

Every server is started (by harness.py) on 127.0.0.1 with free ports, a
temporary shm name and control socket, and stopped (by pid) even on
failure.
"""
import os
import signal
import subprocess
import sys

import harness
from harness import (Harness, Sim, children_of, free_port, guarded, ok,
                     pid_alive, wait_for)

# ---- the tests -----------------------------------------------------------------

KEYS = {"openai": "sk-test-openai-1111", "anthropic": "sk-ant-test-2222",
        "google": "AIza-test-3333", "deepseek": "sk-test-ds-4444",
        "qwen": "sk-test-qwen-5555", "cursor": "key-test-cursor-6666",
        "garb": "sk-test-garb-7777", "shut": "sk-test-shut-8888",
        "extra": "sk-test-extra-9999"}


def outcomes(p):
    return [s["outcome"] for s in p["samples"]]


def test_outcomes(h, closed_port):
    want = {"openai": "ok", "anthropic": "auth", "google": "http_5xx",
            "deepseek": "rate_limited", "qwen": "timeout",
            "garb": "bad_response", "shut": "connect"}

    def reset_seen(ps):
        return "cursor" in ps and any(o in ("connect", "other")
                                      for o in outcomes(ps["cursor"]))

    def settled():
        ps = h.providers(8)
        return all(n in ps and want[n] in outcomes(ps[n]) for n in want) \
            and reset_seen(ps) and ps
    ps = wait_for(settled, 10) or h.providers(8)
    for n, o in want.items():
        got = outcomes(ps.get(n, {"samples": []}))
        ok(o in got, "%s gets outcome %s" % (n, o), got)
    cur = ps.get("cursor", {"samples": []})
    ok(reset_seen(ps), "cursor (connection reset) gets connect or other",
       (outcomes(cur), {k: cur.get(k) for k in ("head", "pid")}))
    kinds = {n: ps[n]["kind"] for n in ps}
    ok(kinds.get("anthropic") == "anthropic" and
       kinds.get("cursor") == "cursor" and kinds.get("google") == "google",
       "directory holds each provider's kind", kinds)
    # A hang ends at the configured timeout (150 ms), not later.
    lat = [s["latency_ms"] for s in ps["qwen"]["samples"]
           if s["outcome"] == "timeout"]
    ok(lat and all(140 <= x < 400 for x in lat),
       "timeouts end at the configured 150 ms", lat)
    ok(all(ps[n]["writer_epoch"] == 1 and ps[n]["ring_epoch"] == 1
           for n in ps), "every ring starts at writer epoch 1",
       {n: (ps[n]["writer_epoch"], ps[n]["ring_epoch"]) for n in ps})


def test_secrets(h):
    """No child holds another provider's key in its environment, command
    line or memory, and no key reaches the log."""
    kids = children_of(h.proc.pid)
    names = {}
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                names[k] = f.read().split(b"\0")
        except OSError:
            pass
    bad = []
    seen_own = []
    for k, argv in names.items():
        own = argv[1].decode() if len(argv) > 1 and argv[1] else None
        with open("/proc/%d/environ" % k, "rb") as f:
            env = f.read()
        blob = b"\0".join(argv) + env
        for n, key in KEYS.items():
            if key.encode() in blob:
                bad.append((k, n, "argv/environ"))
        if env.split(b"\0")[0] != b"PATH=/usr/bin:/bin":
            bad.append((k, "env", env[:80]))
        # Memory: readable mappings of the process.
        try:
            mem = read_memory(k)
        except OSError as e:
            mem = None
            bad.append((k, "memory unreadable", str(e)))
        if mem is not None:
            for n, key in KEYS.items():
                if n != own and key.encode() in mem:
                    bad.append((k, n, "memory"))
            # The scan sees memory at all: a prober holds its own key.
            if own in KEYS and KEYS[own].encode() in mem:
                seen_own.append(own)
    ok(len(names) >= 7 and not bad,
       "children hold no other provider's key (argv, environ, memory)",
       bad)
    ok(len(seen_own) >= 6, "the memory scan finds each prober's own key",
       seen_own)
    log = h.logtext()
    leaked = [n for n, key in KEYS.items() if key in log]
    ok(not leaked, "no key appears in the log", leaked)


def read_memory(pid):
    out = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or (len(f) > 5 and f[5].startswith("[v")):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if hi - lo > 256 << 20:
                continue
            try:
                mem.seek(lo)
                out.append(mem.read(hi - lo))
            except (OSError, OverflowError, ValueError):
                pass
    return b"".join(out)


def test_fds(h):
    """Descriptors as docs/internals.md says: 3 the segment (read-only for
    vigil-api), 4 the socketpair, 5 the listening socket of vigil-api."""
    bad = []
    seen = 0
    for k in children_of(h.proc.pid):
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                role = f.read().split(b"\0")[0].decode()
            with open("/proc/%d/fdinfo/3" % k) as f:
                flags = int([ln.split()[1] for ln in f
                             if ln.startswith("flags:")][0], 8)
            seg = os.readlink("/proc/%d/fd/3" % k)
            sock = os.readlink("/proc/%d/fd/4" % k)
        except OSError as e:
            bad.append((k, str(e)))
            continue
        seen += 1
        want = os.O_RDONLY if role == "vigil-api" else os.O_RDWR
        if (flags & os.O_ACCMODE) != want or h.shm not in seg:
            bad.append((k, role, "fd 3", seg, oct(flags)))
        if not sock.startswith("socket:"):
            bad.append((k, role, "fd 4", sock))
        if role == "vigil-api" and not os.readlink(
                "/proc/%d/fd/5" % k).startswith("socket:"):
            bad.append((k, role, "fd 5"))
    ok(seen >= 8 and not bad, "children get fds 3, 4 (and 5) as documented",
       bad)


def test_kill_prober(h):
    before = h.providers(0)
    old = before["openai"]
    other0 = before["google"]["head"]
    os.kill(old["pid"], signal.SIGKILL)

    def restarted():
        p = h.providers(0).get("openai")
        return p if p and p["pid"] not in (0, old["pid"]) else None
    new = wait_for(restarted, 10)
    ok(new is not None, "a SIGKILLed prober is restarted with a new pid")
    if new is None:
        return
    ok(new["writer_epoch"] == old["writer_epoch"] + 1 and
       new["ring_epoch"] == new["writer_epoch"],
       "its writer epoch is bumped in the directory and the ring",
       (old["writer_epoch"], new["writer_epoch"], new["ring_epoch"]))
    ok(new["restarts"] == old["restarts"] + 1, "restart counted",
       (old["restarts"], new["restarts"]))
    ok("prober openai: pid %d killed by signal 9" % old["pid"] in
       h.logtext(), "the log says why the prober ended")
    ok("restarting in 100 ms" in h.logtext(),
       "the first restart comes after 100 ms")
    head = new["head"]
    cont = wait_for(lambda: h.providers(0)["openai"]["head"] > head + 2, 10)
    ok(cont, "samples continue after the restart")
    # The other probers' streams: no gap beyond a few intervals.
    g = h.providers(256)["google"]
    ts = [s["mono_ns"] for s in g["samples"]]
    gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
    ok(g["head"] > other0 and gaps and max(gaps) < 1500,
       "another prober's samples show no gap", max(gaps) if gaps else None)
    ok(g["pid"] == before["google"]["pid"], "other probers keep their pid")


def test_reload(h, sim):
    before = h.providers(0)
    h.write_conf([
        {"name": "openai", "kind": "openai", "base_url": sim.base("openai"),
         "key": KEYS["openai"]},
        {"name": "anthropic", "kind": "anthropic",
         "base_url": sim.base("anthropic"), "key": KEYS["anthropic"]},
        {"name": "google", "kind": "google", "base_url": sim.base("google"),
         "key": KEYS["google"]},
        {"name": "deepseek", "kind": "deepseek",
         "base_url": sim.base("deepseek"), "key": KEYS["deepseek"]},
        {"name": "cursor", "kind": "cursor", "base_url": sim.base("cursor"),
         "key": KEYS["cursor"]},
        {"name": "garb", "kind": "openai", "base_url": sim.base("garb"),
         "key": KEYS["garb"]},
        # changed: the sim instead of a closed port, a new timeout
        {"name": "shut", "kind": "openai", "base_url": sim.base("shut"),
         "key": KEYS["shut"], "extra": ["timeout = 100ms"]},
        # added
        {"name": "extra", "kind": "openai", "base_url": sim.base("extra"),
         "key": KEYS["extra"]},
        # qwen removed
    ])
    os.kill(h.proc.pid, signal.SIGHUP)
    ps = wait_for(lambda: (lambda p: p if "extra" in p and
                           p["extra"]["pid"] and "qwen" not in p and
                           p["shut"]["pid"] not in (0, before["shut"]["pid"])
                           else None)(h.providers(0)), 10)
    ok(ps is not None, "reload: the added prober runs, the removed is gone",
       sorted(h.providers(0)))
    if ps is None:
        return
    same = [n for n in ("openai", "anthropic", "google", "deepseek",
                        "cursor", "garb")
            if ps[n]["pid"] == before[n]["pid"]]
    ok(len(same) == 6, "reload: unchanged providers keep their pids", same)
    ok(all(ps[n]["head"] >= before[n]["head"] for n in same) and
       all(ps[n]["slot"] == before[n]["slot"] for n in same),
       "reload: unchanged providers keep their rings")
    ok(ps["shut"]["timeout_ms"] == 100 and
       ps["shut"]["generation"] > before["shut"]["generation"],
       "reload: the changed provider restarted with its new settings",
       (ps["shut"]["timeout_ms"], ps["shut"]["generation"]))
    ok(not pid_alive(before["qwen"]["pid"]),
       "reload: the removed provider's prober is gone")
    got = wait_for(lambda: "ok" in outcomes(h.providers(8)["extra"]), 10)
    ok(got, "reload: the added provider gets samples")


def test_bad_reload(h):
    before = h.providers(0)
    with open(h.conf) as f:
        good = f.read()
    with open(h.conf, "a") as f:
        f.write("\n[provider \"broken\"]\nkind = nosuchkind\n")
    os.kill(h.proc.pid, signal.SIGHUP)
    ok(wait_for(lambda: "reload refused" in h.logtext(), 10),
       "a bad config on reload is refused")
    line = [ln for ln in h.logtext().splitlines() if "reload refused" in ln]
    ok(line and ("%s:" % h.conf) in line[-1] and
       any(c.isdigit() for c in line[-1].split(h.conf + ":")[1][:6]),
       "the refusal names file:line", line[-1:])
    after = h.providers(0)
    ok(h.proc.poll() is None and
       {n: p["pid"] for n, p in after.items()} ==
       {n: p["pid"] for n, p in before.items()},
       "vigild keeps running with the old configuration")
    with open(h.conf, "w") as f:
        f.write(good)


def test_sigterm(h):
    kids = children_of(h.proc.pid)
    h.proc.send_signal(signal.SIGTERM)
    try:
        rc = h.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "SIGTERM: vigild exits with status 0", rc)
    left = [k for k in kids if pid_alive(k)]
    ok(len(kids) >= 7 and not left, "SIGTERM: no child is left", left)
    ok(not os.path.exists("/dev/shm" + h.shm),
       "SIGTERM: the segment is unlinked")
    ok(not os.path.exists(h.sock), "SIGTERM: the control socket is removed")


def main():
    h = Harness("probing")
    with guarded("harness", h):
        closed = free_port()
        sim = Sim(h.tmp, [
            "openai:openai:" + KEYS["openai"],
            "anthropic:anthropic:right-key-not-ours",
            "google:google:" + KEYS["google"],
            "deepseek:deepseek:" + KEYS["deepseek"],
            "qwen:qwen:" + KEYS["qwen"],
            "cursor:cursor:" + KEYS["cursor"],
            "garb:openai:" + KEYS["garb"],
            "shut:openai:" + KEYS["shut"],
            "extra:openai:" + KEYS["extra"],
        ], {"google": {"status": 500}, "deepseek": {"status": 429},
            "qwen": {"hang": True}, "cursor": {"reset": True},
            "garb": {"garbage": True}})
        h.sim = sim
        provs = [
            {"name": n, "kind": k, "base_url": sim.base(n), "key": KEYS[n]}
            for n, k in (("openai", "openai"), ("anthropic", "anthropic"),
                         ("google", "google"), ("deepseek", "deepseek"),
                         ("qwen", "qwen"), ("cursor", "cursor"),
                         ("garb", "openai"))]
        provs.append({"name": "shut", "kind": "openai",
                      "base_url": "http://127.0.0.1:%d" % closed,
                      "key": KEYS["shut"]})
        h.write_conf(provs)
        h.start(wait_providers=[p["name"] for p in provs])
        test_outcomes(h, closed)
        test_secrets(h)
        test_fds(h)
        test_kill_prober(h)
        test_reload(h, sim)
        test_bad_reload(h)
        test_sigterm(h)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
