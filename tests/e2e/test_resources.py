#!/usr/bin/python3
"""Resource faults (issue 8): a state directory that cannot be written
(unusable path, full file system), the segment name already taken (by a
stale vigil segment: replaced; by a foreign object: refused), and the
open-file limit lowered to 64 under many HTTP connections.
"""
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok, wait_for, http_get, role_pid  # noqa: E402

KEY = "sk-res-test-0000"
VIGIL_MAGIC = 0x314745534c474956


def setup(tag, extra=""):
    h = harness.Harness(tag)
    h.sim = harness.Sim(h.tmp, ["%s:openai:%s" % (n, KEY) for n in ("a", "b")])
    h.write_conf([{"name": n, "kind": "openai", "base_url": h.sim.base(n),
                   "key": KEY} for n in ("a", "b")],
                 extra=extra)
    return h


def set_state_dir(h, path):
    with open(h.conf) as f:
        text = f.read()
    text = re.sub(r"(?m)^state_dir = .*$", "state_dir = %s" % path, text)
    with open(h.conf, "w") as f:
        f.write(text)


def monitoring_goes_on(h, what):
    ps = h.providers(0)
    a0 = ps.get("a", {}).get("head", 0)
    ok(wait_for(lambda: h.providers(0).get("a", {}).get("head", 0) >=
                a0 + 5, 10), "%s: probing goes on" % what)
    ok(wait_for(lambda: http_get(h.listen_port, "/health")[0] == 200, 10),
       "%s: the aggregator runs, /health 200" % what)


# ---- the state directory -----------------------------------------------------

def test_state_dir_unusable():
    """state_dir under a regular file: mkdir and every save fail (ENOTDIR,
    whatever our privileges), loudly, and monitoring goes on."""
    h = setup("stnodir", "persist_interval = 1s")
    try:
        blocker = os.path.join(h.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("x")
        state = os.path.join(blocker, "state")
        set_state_dir(h, state)
        h.start(wait_providers=["a", "b"])
        monitoring_goes_on(h, "unusable state_dir")
        ok(wait_for(lambda: len(re.findall(r"persist: .*" + re.escape(
            state), h.logtext())) >= 2, 10),
           "unusable state_dir: every failed snapshot is logged with its "
           "path", h.logtext()[-1500:])
        r = h.call("status")
        ok(r.get("ok") and h.proc.poll() is None,
           "unusable state_dir: vigild serves its control socket", r.get(
               "error"))
    finally:
        h.stop()


def test_state_dir_full():
    """state_dir on a 64 KiB tmpfs filled up: ENOSPC logged, monitoring
    goes on, and saving works again once space is freed."""
    if os.geteuid() != 0:
        print("ok - a full state_dir needs root to mount a tmpfs (skipped)")
        return
    h = setup("stfull", "persist_interval = 1s")
    mnt = os.path.join(h.tmp, "small")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755",
                        "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        print("ok - a full state_dir: cannot mount a tmpfs here (skipped: "
              "%s)" % r.stderr.strip())
        h.stop()
        return
    try:
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 1024) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        set_state_dir(h, mnt)
        h.start(wait_providers=["a", "b"])
        monitoring_goes_on(h, "full state_dir")
        ok(wait_for(lambda: re.search(r"persist: .*No space left on device",
                                      h.logtext()), 10),
           "full state_dir: ENOSPC is logged", h.logtext()[-1500:])
        ok(not os.path.exists(os.path.join(mnt, ".state.msgpack.tmp")),
           "full state_dir: no half-written temporary file is left")
        os.unlink(filler)
        ok(wait_for(lambda: os.path.exists(os.path.join(
            mnt, "state.msgpack")), 10),
           "full state_dir: saving resumes once space is freed")
    finally:
        h.stop()
        subprocess.run(["umount", "-l", mnt], capture_output=True)


# ---- the segment name ----------------------------------------------------------

def test_segment_stale():
    """A vigil segment left by a dead vigild (magic, junk after it) is
    replaced."""
    h = setup("segstale")
    try:
        with open("/dev/shm" + h.shm, "wb") as f:
            f.write(struct.pack("<Q", VIGIL_MAGIC) + os.urandom(4096))
        h.start(wait_providers=["a", "b"])
        monitoring_goes_on(h, "stale segment")
        d = h.dump(0)
        ok(d is not None and os.path.getsize("/dev/shm" + h.shm) > 4104,
           "stale segment: replaced by a whole new one")
    finally:
        h.stop()


def test_segment_foreign():
    """Anything else under the name is refused: exit status != 0, a clear
    error, the object untouched."""
    h = setup("segforeign")
    path = "/dev/shm" + h.shm
    data = os.urandom(8192)
    if struct.unpack("<Q", data[:8])[0] == VIGIL_MAGIC:
        data = b"\0" + data[1:]
    try:
        with open(path, "wb") as f:
            f.write(data)
        log = open(h.logpath, "a")
        p = subprocess.Popen([harness.binpath("vigild"), "-c", h.conf],
                             stdout=log, stderr=subprocess.STDOUT,
                             env={"PATH": "/usr/bin:/bin"})
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            rc = "still running"
        log.close()
        ok(rc not in (0, "still running"),
           "foreign segment: vigild exits with a status != 0", rc)
        ok("is not a vigil segment; refusing to replace it" in h.logtext()
           and h.shm in h.logtext(),
           "foreign segment: the error names it and says why",
           h.logtext()[-600:])
        with open(path, "rb") as f:
            ok(f.read() == data, "foreign segment: left untouched")
        ok(not harness.children_of(p.pid) and not os.path.exists(h.sock),
           "foreign segment: no child started, no control socket")
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        h.stop()


# ---- RLIMIT_NOFILE 64 ---------------------------------------------------------------

def test_nofile():
    """vigild and its children with 64 descriptors; 300 connections to
    vigil-api: no crash, and it serves again once they are gone."""
    h = setup("nofile")

    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    conns = []
    try:
        h.log = open(h.logpath, "a")
        h.proc = subprocess.Popen([harness.binpath("vigild"), "-c", h.conf],
                                  stdout=h.log, stderr=subprocess.STDOUT,
                                  env={"PATH": "/usr/bin:/bin"},
                                  preexec_fn=lower)
        ok(wait_for(lambda: h.all_up(["a", "b"]) and
                    http_get(h.listen_port, "/health")[0] == 200, 15),
           "RLIMIT_NOFILE 64: vigild starts and serves")
        api = role_pid(h, "vigil-api")
        with open("/proc/%d/limits" % api) as f:
            lim = [ln for ln in f if ln.startswith("Max open files")]
        ok(lim and lim[0].split()[3] == "64",
           "vigil-api runs with 64 descriptors", lim)
        for _ in range(300):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", h.listen_port))
                # Half a request: held open by the server.
                s.sendall(b"GET /health HTTP/1.1\r\n")
            except OSError:
                s.close()
                continue
            conns.append(s)
        time.sleep(1)
        ok(role_pid(h, "vigil-api") == api and h.proc.poll() is None,
           "RLIMIT_NOFILE 64: 300 connections do not crash vigil-api",
           (api, role_pid(h, "vigil-api")))
        a0 = h.providers(0)["a"]["head"]
        ok(wait_for(lambda: h.providers(0)["a"]["head"] >= a0 + 5, 10),
           "RLIMIT_NOFILE 64: probing goes on under the load")
        for s in conns:
            s.close()
        conns = []
        ok(wait_for(lambda: http_get(h.listen_port, "/health", 2)[0] == 200,
                    20, 0.5),
           "RLIMIT_NOFILE 64: serves again once the load drops")
        ok(role_pid(h, "vigil-api") == api,
           "RLIMIT_NOFILE 64: vigil-api was never restarted")
        m = re.search(r"(?im)^.*(too many open files|descriptors).*$",
                      h.logtext())
        ok(m, "RLIMIT_NOFILE 64: running out of descriptors is logged",
           h.logtext()[-800:])
        if m:
            print("# logged: %s" % m.group(0)[:200])
    finally:
        for s in conns:
            s.close()
        h.stop()


def main():
    for t in (test_state_dir_unusable, test_state_dir_full,
              test_segment_stale, test_segment_foreign, test_nofile):
        with harness.guarded("%s: harness" % t.__name__):
            t()
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
