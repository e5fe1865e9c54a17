#!/usr/bin/python3
"""End-to-end tests of the control socket's limits and group checks
(issue 14, items 4 and 6).

As root, vigild runs with read_group = floppy and admin_group = tape (two
groups of /etc/group with no members, so that membership can only come
from what a test gives a child).  Forked children take throwaway
identities (uids 60001.., no passwd entry) and hold connections:

* read-only peers holding as many connections as they can do not lock
  root out: root's vigilctl still works;
* a refused connection gets a `busy` error frame before it is closed, and
  vigilctl says "server busy" (exit status 3);
* hundreds of refusals give a few log lines, not one each;
* a group given only by setgroups (SO_PEERGROUPS, as systemd's
  SupplementaryGroups= does) counts, for read_group and admin_group;
* the permission hint names the configured read_group, not "vigil";
* silence with until_ns = 2^64-1 is refused naming until_ns.

Every process started here is stopped by pid.
"""
import grp
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_probing as tp  # noqa: E402  (the shared harness)
from test_probing import ok, binpath  # noqa: E402

try:
    import msgpack  # noqa: F401  (tp.frame needs it)
except ImportError:
    print("not ok - python3-msgpack is not installed")
    sys.exit(1)

READ_GROUP = "floppy"
ADMIN_GROUP = "tape"
NOGROUP = 65534
KEY_A = "sk-limits-test-aaaa"


def err_code(r):
    return (r.get("error") or {}).get("code") if not r.get("ok") else None


class Holder:
    """A forked child that takes an identity, opens n connections one
    after the other, pings on each, and holds the admitted ones open
    until released.  result: counts of ok, busy, eof, other replies."""

    parent_fds = set()     # the parent's ends of every holder's pipes

    def __init__(self, sock, uid, gid, groups, n, run_ctl=False):
        self.res_r, res_w = os.pipe()
        rel_r, self.rel_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            # Not ours: an older holder waits for EOF on its own.
            for fd in Holder.parent_fds | {self.res_r, self.rel_w}:
                os.close(fd)
            out = {}
            try:
                tp.drop_to(uid, gid, groups)
                out = self.fill(sock, n, run_ctl)
            except Exception as e:
                out["exception"] = repr(e)
            os.write(res_w, (json.dumps(out) + "\n").encode())
            os.read(rel_r, 1)           # until released (or the parent dies)
            os._exit(0)
        os.close(res_w)
        os.close(rel_r)
        Holder.parent_fds |= {self.res_r, self.rel_w}
        self.result = None

    @staticmethod
    def fill(sock, n, run_ctl):
        held, counts, first_busy = [], {"ok": 0, "busy": 0, "eof": 0,
                                         "other": 0}, None
        for i in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(sock)
            try:
                try:
                    s.sendall(tp.frame({"id": i + 1, "op": "ping"}))
                except (BrokenPipeError, ConnectionResetError):
                    pass            # refused and closed: the reply waits
                r = tp.recv_frame(s)
            except (EOFError, ConnectionResetError):
                counts["eof"] += 1
                s.close()
                continue
            if r.get("ok"):
                counts["ok"] += 1
                held.append(s)
                continue
            if err_code(r) == "busy" and r.get("id") == 0:
                counts["busy"] += 1
                first_busy = first_busy or r
            else:
                counts["other"] += 1
            s.close()
        counts["first_busy"] = first_busy
        if run_ctl:
            p = subprocess.run([tp.public_binpath("vigilctl"), "-s", sock,
                                "ping"],
                               capture_output=True, text=True, timeout=30,
                               env={"PATH": "/usr/bin:/bin"})
            counts["ctl"] = [p.returncode, p.stdout, p.stderr]
        Holder.held = held          # kept open until the process exits
        return counts

    def wait_result(self, timeout=60):
        if self.result is None:
            r, _, _ = select.select([self.res_r], [], [], timeout)
            data = os.read(self.res_r, 1 << 16) if r else b""
            self.result = json.loads(data or b'{"exception": "no result"}')
        return self.result

    def release(self):
        if self.pid is None:
            return
        for fd in (self.rel_w, self.res_r):
            Holder.parent_fds.discard(fd)
            try:
                os.close(fd)
            except OSError:
                pass
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                self.pid = None
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = None


def refusal_lines(h, since):
    """vigild's log lines about refused control connections, after the
    first `since` characters of the log."""
    return [x for x in h.logtext()[since:].splitlines()
            if "control" in x and "refus" in x]


def test_lockout(h, rgid):
    """Read-only peers of eight uids each try to hold 64 connections:
    root's vigilctl still works, and the refused get busy frames."""
    since = len(h.logtext())
    holders = []
    try:
        for k in range(8):
            holders.append(Holder(h.sock, 60001 + k, rgid, [], 64,
                                  run_ctl=(k == 7)))
            holders[-1].wait_result()  # one after the other: deterministic
        res = [x.wait_result() for x in holders]
        held = sum(r.get("ok", 0) for r in res)
        busy = sum(r.get("busy", 0) for r in res)
        other = [r for r in res if r.get("eof") or r.get("other") or
                 r.get("exception")]
        print("# lockout: held %d, busy %d, per holder %s" % (
            held, busy, [(r.get("ok"), r.get("busy"), r.get("eof"))
                         for r in res]))
        p = subprocess.run([binpath("vigilctl"), "-s", h.sock, "reload"],
                           capture_output=True, text=True, timeout=30)
        ok(p.returncode == 0, "read-only peers holding all they can: "
           "root's vigilctl reload still works",
           (p.returncode, p.stderr, held))
        try:
            r = tp.ctl_call(h.sock, "ping")
        except OSError as e:
            r = {"exception": repr(e)}
        ok(r.get("ok"), "... and root's raw ping too", r)
        ok(busy > 0 and not other and held + busy == 8 * 64,
           "every refused connection got a busy frame before the close",
           (held, busy, other[:2]))
        fb = res[0].get("first_busy") or {}
        ok(fb.get("id") == 0 and fb.get("ok") is False and
           err_code(fb) == "busy" and fb["error"].get("message"),
           "the busy frame is {id: 0, ok: false, error: {code: busy, "
           "message}}", fb)
        ctl = res[7].get("ctl") or [None, "", ""]
        ok(ctl[0] == 3 and "server busy" in ctl[2],
           "vigilctl refused as busy says \"server busy\", exit status 3",
           ctl)
        # The count of the suppressed comes when their second ends.
        tp.wait_for(lambda: any(re.search(r"\d+ more", x) for x in
                                refusal_lines(h, since)), 3)
        lines = refusal_lines(h, since)
        ok(busy >= 200 and 1 <= len(lines) <= 5,
           "%d refusals give at most a few log lines" % busy,
           (len(lines), lines[:8]))
        ok(any(re.search(r"\d+ more", x) for x in lines) or busy < 2,
           "the suppressed refusals are counted in the log", lines[:8])
    finally:
        for x in holders:
            x.release()


def test_peer_groups(h, rgid, agid):
    """A group given only by setgroups counts (SO_PEERGROUPS), for
    read_group and admin_group; the primary gid counts too."""
    def read():
        return tp.ctl_call(h.sock, "status")
    r = tp.as_user(read, 60101, NOGROUP, [rgid])
    ok(r.get("ok") is True, "read_group only through setgroups: accepted",
       r)
    r = tp.as_user(read, 60102, rgid, [])
    ok(r.get("ok") is True, "read_group as the primary gid: accepted", r)

    def reload():
        return tp.ctl_call(h.sock, "reload")
    # (Also in read_group: the socket's mode lets only it connect.)
    r = tp.as_user(reload, 60103, NOGROUP, [rgid, agid])
    ok(r.get("ok") is True, "admin_group only through setgroups: may "
       "reload", r)
    r = tp.as_user(reload, 60104, NOGROUP, [rgid])
    ok(err_code(r) == "forbidden" and ADMIN_GROUP in
       r["error"].get("message", ""), "a read_group member may not "
       "reload; the error names admin_group %s" % ADMIN_GROUP, r)


def test_refused_ops_log(h, rgid):
    """A read-only peer sending an admin operation in a loop on one
    connection: every one is refused, the log gets a few lines."""
    since = len(h.logtext())

    def flood():
        s = tp.ctl_connect(h.sock, 10)
        codes = {}
        try:
            for i in range(300):
                s.sendall(tp.frame({"id": i + 1, "op": "pause",
                                    "args": {"provider": "a"}}))
                r = tp.recv_frame(s)
                c = err_code(r) or "ok"
                codes[c] = codes.get(c, 0) + 1
        finally:
            s.close()
        return codes
    codes = tp.as_user(flood, 60201, NOGROUP, [rgid])
    ok(codes == {"forbidden": 300}, "300 pauses by a read_group member "
       "are all refused", codes)
    tp.wait_for(lambda: any(re.search(r"\d+ more", x) for x in
                            refusal_lines(h, since)), 3)
    lines = refusal_lines(h, since)
    ok(1 <= len(lines) <= 5 and any(re.search(r"\d+ more", x)
                                    for x in lines),
       "refused operations cost a few log lines, the rest counted",
       (len(lines), lines[:6]))


def test_hint_names_group(h):
    """Someone outside read_group is told which group to join: the
    configured one, not "vigil"."""
    def outsider():
        p = subprocess.run([tp.public_binpath("vigilctl"), "-s", h.sock,
                            "ping"], capture_output=True, text=True, timeout=30,
                           env={"PATH": "/usr/bin:/bin"})
        return [p.returncode, p.stdout, p.stderr]
    rc, _, err = tp.as_user(outsider, 60201, NOGROUP, [])
    ok(rc == 2 and READ_GROUP in err and "vigil group" not in err and
       "-aG vigil " not in err,
       "the refusal hint names read_group %s" % READ_GROUP, (rc, err))


def test_silence_until(h):
    r = tp.ctl_call(h.sock, "silence", {"provider": "a",
                                        "until_ns": (1 << 64) - 1})
    ok(err_code(r) == "bad_argument" and
       "until_ns" in r["error"].get("message", ""),
       "silence until_ns = 2^64-1: bad_argument naming until_ns", r)
    far = time.time_ns() + 367 * 86400 * 10**9
    r = tp.ctl_call(h.sock, "silence", {"provider": "a", "until_ns": far})
    ok(err_code(r) == "bad_argument", "silence until_ns 367 days ahead: "
       "bad_argument", r)
    near = time.time_ns() + 365 * 86400 * 10**9
    r = tp.ctl_call(h.sock, "silence", {"provider": "a", "until_ns": near})
    ok(r.get("ok") and r["result"]["until_ns"] == near,
       "silence until_ns 365 days ahead: accepted", r)
    tp.ctl_call(h.sock, "unsilence", {"provider": "a"})


def main():
    if os.geteuid() != 0:
        print("ok - # SKIP test_control_limits needs root")
        return 0
    rgid = grp.getgrnam(READ_GROUP).gr_gid
    agid = grp.getgrnam(ADMIN_GROUP).gr_gid
    h = tp.Harness("limits")
    # Made here, as root: the forked peers run it as other users.
    tp.public_binpath("vigilctl")
    with tp.guarded("harness", h):
        os.chmod(h.tmp, 0o755)      # the children reach the socket
        h.sim = tp.Sim(h.tmp, ["a:openai:" + KEY_A])
        h.write_conf([{"name": "a", "kind": "openai",
                       "base_url": h.sim.base("a"), "key": KEY_A}],
                     extra="read_group = %s\nadmin_group = %s" %
                     (READ_GROUP, ADMIN_GROUP))
        h.start(wait_providers=["a"])
        for t, args in ((test_lockout, (h, rgid)),
                        (test_peer_groups, (h, rgid, agid)),
                        (test_refused_ops_log, (h, rgid)),
                        (test_hint_names_group, (h,)),
                        (test_silence_until, (h,))):
            try:
                t(*args)
            except Exception as e:  # a crash fails one test, not the run
                ok(False, "%s raised %s: %s" % (t.__name__,
                                               type(e).__name__, e))
        ok(h.proc.poll() is None, "vigild survived")
        log = h.logtext()
        ok("AddressSanitizer" not in log and "runtime error" not in log,
           "no sanitizer report in vigild's log")
    print("# test_control_limits: %d failed" % tp.failures)
    return 1 if tp.failures else 0


if __name__ == "__main__":
    sys.exit(main())
