#!/usr/bin/python3
"""End-to-end tests of privilege separation (docs/reliability.md, "Threat
model"), as root: vigild runs its children as a throwaway service user,
and a process of that same uid (build/tests/tools/peek) tries to ptrace
each child and the spawner, open /proc/PID/mem and /proc/PID/environ, and
searches all it gets for the API keys and the webhook token; then a
prober and the aggregator are killed and the respawned ones are tried
again.  Every child must be non-dumpable (/proc/PID/status owned by root
while the process runs as the service user).  Also: a user that does not
exist is refused (no fallback to nobody), and a key file others may read
is refused by --check-config and by reload, the running configuration
kept.
"""
import json
import os
import pwd
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, binpath, pid_alive  # noqa: E402

# Its own user per run: two lanes of tests/run.sh may run it at once.
USER = "vigil-pt%d" % (os.getpid() % 1000000)
KEY_A = "sk-priv-test-aaaa1111"
KEY_B = "sk-ant-priv-test-bbbb2222"
TOKEN = "whtoken-priv-test-cccc3333"


def ensure_user():
    """Create USER if missing; returns (pw, created)."""
    try:
        return pwd.getpwnam(USER), False
    except KeyError:
        pass
    subprocess.run(["useradd", "--system", "--user-group",
                    "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", USER], check=True,
                   capture_output=True, timeout=30)
    return pwd.getpwnam(USER), True


def peek(pw, pids, keys):
    r = subprocess.run([binpath("tests/tools/peek"), "--uid",
                        str(pw.pw_uid), "--gid", str(pw.pw_gid)] +
                       sum((["--key", k] for k in keys), []) +
                       [str(p) for p in pids],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("peek: %d %s" % (r.returncode, r.stderr))
    return [json.loads(ln) for ln in r.stdout.splitlines()]


def role_of(pid):
    """"vigil-prober a", "vigil-prober --spawner", "vigil-aggregator"..."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a.decode(errors="replace")
                    for a in f.read().split(b"\0") if a.strip()]
    except OSError:
        return None
    if not argv:
        return None
    return " ".join([os.path.basename(argv[0])] + argv[1:2])


def check_children(h, pw, keys, label):
    """Every child of vigild: runs as pw, non-dumpable, and peek gets
    nothing.  Returns the roles seen."""
    kids = [k for k in harness.children_of(h.proc.pid) if pid_alive(k)]
    roles = {k: role_of(k) for k in kids}
    res = peek(pw, kids, keys)
    bad = []
    for r in res:
        role = roles.get(r["pid"])
        if role is None:
            continue        # gone meanwhile
        if r["uid"] != pw.pw_uid:
            bad.append((role, "uid", r["uid"]))
        try:
            with open("/proc/%d/status" % r["pid"]) as f:
                st = dict(ln.split(":", 1) for ln in f if ":" in ln)
            if (set(st["Gid"].split()) != {str(pw.pw_gid)} or
                    st["Groups"].split() not in ([], [str(pw.pw_gid)]) or
                    st.get("NoNewPrivs", "").strip() != "1" or
                    st.get("CapEff", "").strip().strip("0") != ""):
                bad.append((role, "gids, groups, no_new_privs or "
                            "capabilities", st["Gid"].strip(),
                            st["Groups"].strip(), st.get("NoNewPrivs"),
                            st.get("CapEff")))
        except OSError:
            continue        # gone meanwhile
        if r["status_owner"] != 0:
            bad.append((role, "dumpable: /proc/PID/status owned by",
                        r["status_owner"]))
        for what in ("ptrace", "mem", "environ"):
            if r[what] == "ok":
                bad.append((role, what + " allowed"))
        if r["found"]:
            bad.append((role, "secrets found", [keys[i][:8] + "..."
                                                for i in r["found"]]))
    names = sorted(set(v for v in roles.values() if v))
    ok(len(res) >= 5 and not bad,
       "%s: every child (%s) runs as %s (its group only, no_new_privs, "
       "no capabilities), is non-dumpable, and a process of that uid can "
       "neither ptrace it nor read its memory or environment" %
       (label, ", ".join(names), USER), bad)
    return roles


def test_children(h, pw):
    keys = [KEY_A, KEY_B, TOKEN]
    roles = check_children(h, pw, keys, "at start")
    ok(any(v == "vigil-prober --spawner" for v in roles.values()),
       "the spawner is among the children tried", roles)
    # Force a respawn of a prober (forked by the spawner) and of the
    # aggregator (fork+exec by vigild), then try the new ones.
    old = {v: k for k, v in roles.items()}
    for role in ("vigil-prober a", "vigil-aggregator"):
        if role in old:
            os.kill(old[role], signal.SIGKILL)

    def uid_of(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for ln in f:
                    if ln.startswith("Uid:"):
                        return int(ln.split()[1])
        except OSError:
            pass
        return None

    # A child execs as root and drops first thing in its main
    # (common/priv.c, out of the service uid's reach meanwhile): it has
    # started again once it has dropped.
    def respawned():
        now = {role_of(k): k for k in harness.children_of(h.proc.pid)}
        return all(r in now and now[r] != old.get(r) and
                   uid_of(now[r]) == pw.pw_uid
                   for r in ("vigil-prober a", "vigil-aggregator"))
    ok(wait_for(respawned, 20),
       "a killed prober and aggregator are started again")
    ok(wait_for(lambda: h.providers(4).get("a", {}).get("samples"), 10),
       "the respawned prober probes (it holds its key again)")
    check_children(h, pw, keys, "after respawn")


def test_vigild(h, pw):
    r = peek(pw, [h.proc.pid], [KEY_A, KEY_B, TOKEN])[0]
    ok(r["ptrace"] != "ok" and r["mem"] != "ok" and not r["found"],
       "vigild itself (root, holds every key) is out of the service "
       "uid's reach", r)
    with open("/proc/%d/status" % h.proc.pid) as f:
        st = f.read()
    ok(os.stat("/proc/%d/status" % h.proc.pid).st_uid == 0 and
       "\nUid:\t0\t" in st, "vigild runs as root")


def test_key_file_mode(h):
    """A key file others may read: --check-config and reload refuse it,
    and the running configuration stays."""
    path = h.keys_path["b"]
    os.chmod(path, 0o644)
    try:
        r = subprocess.run([binpath("vigild"), "--check-config", "-c",
                            h.conf], capture_output=True, text=True,
                           timeout=10)
        ok(r.returncode != 0 and "mode 0644" in r.stderr and
           KEY_B not in r.stderr + r.stdout,
           "--check-config refuses a key file at mode 0644, naming it",
           (r.returncode, r.stdout, r.stderr))
        r = subprocess.run([binpath("vigilctl"), "-s", h.sock, "reload"],
                           capture_output=True, text=True, timeout=20)
        ok(r.returncode != 0 and "mode 0644" in r.stdout + r.stderr,
           "vigilctl reload refuses it and exits non-zero",
           (r.returncode, r.stdout, r.stderr))
        ok("reload refused, keeping the running configuration" in
           h.logtext(), "vigild logs that it keeps the running "
           "configuration")
        pid_b = {role_of(k): k for k in harness.children_of(h.proc.pid)}.get(
            "vigil-prober b")
        ok(pid_b is not None, "provider b's prober is still running")
    finally:
        os.chmod(path, 0o600)


def test_missing_user(tmp):
    """A user that does not exist is a configuration error: no fallback
    to nobody."""
    h = harness.Harness("nouser")
    try:
        h.write_conf([{"name": "a", "kind": "openai",
                       "base_url": "http://127.0.0.1:9", "key": KEY_A}])
        with open(h.conf) as f:
            text = f.read().replace("user = root", "user = no-such-user-x")
        with open(h.conf, "w") as f:
            f.write(text)
        r = subprocess.run([binpath("vigild"), "--check-config", "-c",
                            h.conf], capture_output=True, text=True,
                           timeout=10)
        ok(r.returncode != 0 and "user no-such-user-x does not exist" in
           r.stderr, "--check-config refuses a user that does not exist",
           (r.returncode, r.stderr))
        p = subprocess.run([binpath("vigild"), "-c", h.conf],
                           capture_output=True, text=True, timeout=20)
        ok(p.returncode != 0 and "does not exist" in p.stderr and
           "nobody" not in p.stderr,
           "vigild refuses to start with it (no fallback to nobody)",
           (p.returncode, p.stderr[-300:]))
    finally:
        h.stop()


def main():
    if os.geteuid() != 0:
        print("not ok - test_privsep needs root (make test runs as root)")
        return 1
    pw, created = ensure_user()
    h = harness.Harness("privsep")
    h.keys_path = {}
    hook = None
    try:
        with harness.guarded("harness", h):
            os.chmod(h.tmp, 0o755)
            h.sim = harness.Sim(h.tmp, ["a:openai:" + KEY_A,
                                        "b:anthropic:" + KEY_B])
            hook = harness.free_port()
            h.write_conf(
                [{"name": "a", "kind": "openai", "base_url": h.sim.base("a"),
                  "key": KEY_A},
                 {"name": "b", "kind": "anthropic",
                  "base_url": h.sim.base("b"), "key": KEY_B}],
                extra="webhook_url = http://127.0.0.1:%d/hook/%s" %
                (hook, TOKEN))
            with open(h.conf) as f:
                text = f.read().replace("user = root", "user = " + USER)
            with open(h.conf, "w") as f:
                f.write(text)
            h.keys_path = {n: os.path.join(h.tmp, "key." + n)
                           for n in ("a", "b")}
            h.start(wait_providers=["a", "b"])
            ok(wait_for(lambda: all(h.providers(4).get(n, {}).get(
                "samples") for n in ("a", "b")), 15),
               "both probers probe as %s" % USER)
            test_vigild(h, pw)
            test_children(h, pw)
            test_key_file_mode(h)
        with harness.guarded("missing user"):
            test_missing_user(h.tmp)
    finally:
        h.stop()
        if created:
            subprocess.run(["userdel", USER], capture_output=True,
                           timeout=30)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
