#!/usr/bin/python3
"""End-to-end: the segment's header rewritten under running readers
(issue 14, item 2).

The segment is mapped read-write by every prober and the aggregator, so a
process of the service uid can rewrite the header's layout fields.  Here
the test plays that process: vigil-sim plays two healthy providers,
vigild runs their probers, the aggregator and vigil-api; then, as root,
the test maps /dev/shm/<shm> read-write and rewrites each layout field of
the header in turn (offsets, strides, capacities, entry sizes, size,
magic, ABI major), first with a value far outside the mapping, then with
a plausible one inside it.  Each time, while the field is wrong and after:

  - vigild is alive, and every child is alive or was restarted by vigild
    with a log line saying why it ended;
  - `vigilctl status` answers, GET /health/integration answers 200;
  - no alert is raised (the alert ring stays as it was: the providers are
    healthy, a rewrite must not look like an outage);
  - vigild reports the change, naming the field, and puts the header back
    (it is the header's writer).

The field is restored by the test too before the next.  Every server is
started on 127.0.0.1 with free ports, a temporary shm name and control
socket, and stopped by pid even on failure.

    VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_segment_trust.py
"""
import http.client
import json
import mmap
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (the shared harness)

ok = harness.ok

# struct vigil_header (include/vigil/vigil.h): name, offset, struct format.
FIELDS = [
    ("magic", 0, "<Q"), ("abi_major", 8, "<I"), ("size", 16, "<Q"),
    ("provider_cap", 32, "<I"), ("sample_cap", 36, "<I"),
    ("history_cap", 40, "<I"), ("alert_cap", 44, "<I"),
    ("dir_off", 48, "<Q"), ("dir_stride", 56, "<Q"),
    ("samples_off", 64, "<Q"), ("samples_stride", 72, "<Q"),
    ("stats_off", 80, "<Q"), ("stats_stride", 88, "<Q"),
    ("history_off", 96, "<Q"), ("history_stride", 104, "<Q"),
    ("alerts_off", 112, "<Q"), ("route_off", 120, "<Q"),
    ("sample_entry", 128, "<I"), ("history_entry", 132, "<I"),
    ("alert_entry", 136, "<I"),
]
ROLES = ("vigil-aggregator", "vigil-api", "vigil-prober")


def http_get(h, path):
    c = http.client.HTTPConnection("127.0.0.1", h.listen_port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    except OSError as e:
        return None, str(e).encode()
    finally:
        c.close()


def alerts(h):
    """The alert ring as vigil-api shows it, or None."""
    st, body = http_get(h, "/health/integration/alerts")
    if st != 200:
        return None
    return json.loads(body)["alerts"]


def alert_ids(h):
    al = alerts(h)
    return None if al is None else sorted(a["id"] for a in al)


def children(h):
    """{pid: argv0 basename} of vigild's live descendants (probers are
    the spawner's children)."""
    out = {}
    queue, kids = [h.proc.pid], []
    while queue:
        more = harness.children_of(queue.pop())
        kids += more
        queue += more
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                argv0 = os.path.basename(f.read().split(b"\0")[0].decode())
        except OSError:
            continue
        if argv0 in ROLES and harness.pid_alive(k):
            out[k] = argv0
    return out


def roles_running(h, want):
    """The same roles as want (a {pid: role}) run, whatever their pids
    (the spawner is a vigil-prober too)."""
    return sorted(children(h).values()) == sorted(want.values())


def vigilctl_status(h):
    try:
        r = subprocess.run([harness.binpath("vigilctl"), "-s", h.sock,
                            "status"],
                           capture_output=True, text=True, timeout=10,
                           env={"PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        return False, "timed out"
    return (r.returncode == 0 and "good" in r.stdout and
            "also" in r.stdout), (r.returncode, r.stdout[-300:],
                                  r.stderr[-300:])


def bad_values(name, fmt, live, hdr):
    """A value far outside the mapping, and a plausible wrong one."""
    huge = (1 << 62) if fmt == "<Q" else 0xfffffff0
    if name.endswith("_off"):
        other = hdr["stats_off"] if live != hdr["stats_off"] else \
            hdr["samples_off"]
    elif name in ("magic",):
        other = 0
    else:
        other = live * 2 if live else 64
    return [huge, other]


def rewrite_one(h, mm, name, off, fmt, value, base_alerts, before):
    label = "%s=%#x" % (name, value)
    saved = mm[off:off + struct.calcsize(fmt)]
    logpos = len(h.logtext())
    mm[off:off + struct.calcsize(fmt)] = struct.pack(fmt, value)
    # Read while the field is wrong: vigild's status op, vigil-api's
    # views; the aggregator ticks every 50 ms meanwhile.
    sok, sdetail = vigilctl_status(h)
    st, _ = http_get(h, "/health/integration")
    time.sleep(1.2)
    reported = harness.wait_for(
        lambda: ("segment header field %s changed" % name) in
        h.logtext()[logpos:], 3)
    # Put it back whether or not vigild did.
    mm[off:off + struct.calcsize(fmt)] = saved

    alive = harness.pid_alive(h.proc.pid)
    ok(alive, "%s: vigild alive" % label, h.logtext()[-1500:])
    if not alive:
        return False
    after = children(h)
    gone = {k: r for k, r in before.items() if k not in after}
    log = h.logtext()[logpos:]
    # vigild says "exited with status N" / "killed by signal N" of a
    # child that ended; one that vanished without a word is a failure.
    unexplained = list(gone.values()) if gone and \
        "exited with status" not in log and \
        "killed by signal" not in log else []
    back = harness.wait_for(lambda: roles_running(h, before), 10)
    ok(not unexplained and back,
       "%s: every child alive, or restarted with a reason" % label,
       (gone, log[-1500:]))
    ok(sok, "%s: vigilctl status answers" % label, sdetail)
    st2, _ = http_get(h, "/health/integration")
    ok(st == 200 and st2 == 200,
       "%s: GET /health/integration answers" % label, (st, st2))
    al = alerts(h)
    ids = None if al is None else sorted(a["id"] for a in al)
    ok(ids == base_alerts, "%s: no alert raised" % label,
       (base_alerts, al))
    ok(reported, "%s: vigild reports the change" % label, log[-800:])
    return True


def main():
    h = harness.Harness("segtrust")
    with harness.guarded("harness", h):
        sim = harness.Sim(h.tmp, ["good:openai:sk-test-good-1111",
                                  "also:openai:sk-test-also-2222"])
        h.sim = sim
        h.write_conf([{"name": n, "kind": "openai", "base_url": sim.base(n),
                       "key": "sk-test-%s-%s" % (n, k)}
                      for n, k in (("good", "1111"), ("also", "2222"))])
        h.start(wait_providers=["good", "also"])
        ok(harness.wait_for(lambda: http_get(h, "/health/integration")[0] ==
                            200, 10), "vigil-api answers before the rewrites")
        # Let both providers settle healthy; no alert expected at all.
        time.sleep(2)
        base_alerts = alert_ids(h)
        ok(base_alerts == [], "no alert before the rewrites", base_alerts)
        fd = os.open("/dev/shm" + h.shm, os.O_RDWR)
        try:
            mm = mmap.mmap(fd, 0, mmap.MAP_SHARED,
                           mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        hdr = {n: struct.unpack_from(f, mm, o)[0] for n, o, f in FIELDS}
        before = children(h)
        ok(len(before) == 5, "the spawner, two probers, the aggregator "
           "and vigil-api run", before)
        for name, off, fmt in FIELDS:
            for v in bad_values(name, fmt, hdr[name], hdr):
                if not rewrite_one(h, mm, name, off, fmt, v, base_alerts,
                                   before):
                    break
                before = children(h)
            else:
                continue
            break
        now = {n: struct.unpack_from(f, mm, o)[0] for n, o, f in FIELDS}
        ok(now == hdr, "the header holds its layout at the end",
           [(n, hdr[n], now[n]) for n in hdr if hdr[n] != now[n]])
        mm.close()
        ok(harness.pid_alive(h.proc.pid), "vigild alive at the end")
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
