#!/usr/bin/python3
"""bench_prober.py - what one check costs a prober: CPU and memory.

    VIGIL_BUILD=build /usr/bin/python3 bench/bench_prober.py \
        [--providers 20] [--seconds 20] [--interval 200ms] \
        [--idle-interval 10s] [--https] [--ca bundle|capath|file] \
        [--smaps] [--json FILE]

K providers (kind http) are probed at a fast interval (allow_fast_probes)
by one vigild.  Two phases over the same processes:

  fast  every prober checks at --interval for --seconds: CPU of each
        prober (/proc/PID/schedstat, exact ns; else utime+stime of
        /proc/PID/stat) before and after, and the checks it made (the
        head of its sample ring in the segment, before and after);
  idle  set_interval to --idle-interval for all providers (control
        socket), then the same measurement for --seconds: the probers
        are idle but for the 1 s heartbeat and a check or two.

Per prober, the two phases give two equations
    cpu = idle_per_s * seconds + checks * per_check
which are solved for per_check (the cost of a check with the idle
wakeups taken out) and idle_per_s.  The raw cpu / checks of the fast
phase is printed beside it.  Median and p95 over the probers.

Memory: PSS (/proc/PID/smaps_rollup) of each prober at the end of the
fast phase, median and max; its private memory, split into what the
process allocated (heap, anonymous mappings, stack) and what its mapped
files cost it (the libraries' data, relocated at load: fixed for a
fork+exec'd process); --smaps adds the top private mappings of one
prober.

Connections: over HTTPS, the TLS handshakes and the connections the
server saw, per check (reuse means about 0).

Baseline, in the same run: during the fast phase, tests/tools/curlloop
(a bare libcurl easy loop: one handle, the same URL as the first
provider, the same trust and TLS options, the same interval, sleeping
between checks) runs against the same server for the same time.  Its
CPU per check (getrusage) is printed as "bare libcurl loop, same
interval", with the ratio prober/bare: what vigil's event loop, sample
ring and scheduling add to what libcurl itself costs on this machine.
Its private memory and PSS are printed too (a process with libcurl and
one reused connection, nothing else).

--https: the providers are served over TLS with a throwaway CA and a
certificate for IP 127.0.0.1 made here with the openssl CLI.  vigil-sim
serves TLS itself when it has --tls-cert; otherwise a TLS server in
Python (this script, --serve-tls) answers "200 ok" with keep-alive.
Where the provider's trust comes from (--ca):
  file    ca_file = the test CA (one certificate)
  bundle  ca_file = the system bundle with the test CA appended (what a
          provider without ca_file costs when libcurl loads the bundle)
  capath  ca_file = a hashed directory (the system certificates and
          the test CA, openssl rehash), which the prober passes to libcurl
          as CURLOPT_CAPATH, as it does the system directory for a
          provider without ca_file: OpenSSL loads only the CA it needs

Everything started here is stopped by pid, even on failure.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("VIGIL_BUILD", "build")

import harness  # noqa: E402  (the shared harness)
from benchlib import cpu_s, parse_dur, pct, rollup_kb  # noqa: E402

SYS_CA = "/etc/ssl/certs/ca-certificates.crt"
SYS_CAPATH = "/etc/ssl/certs"


def private_split_kb(pid):
    """(heap+anon+stack, libraries) private kB of pid: what the process
    allocates, and what its mapped files cost it (mostly the libraries'
    data, written by the dynamic linker's relocations at load)."""
    own = files = 0
    cur = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                fl = line.split()
                if "-" in fl[0] and len(fl) >= 5 and ":" not in fl[0]:
                    cur = "file" if len(fl) > 5 and fl[5].startswith("/") \
                        else "own"
                elif fl[0] in ("Private_Dirty:", "Private_Clean:"):
                    if cur == "file":
                        files += int(fl[1])
                    else:
                        own += int(fl[1])
    except OSError:
        pass
    return own, files


def smaps_top(pid, n=12):
    """[(private kB, pss kB, mapping)] of the largest private mappings."""
    out = {}
    cur = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                fl = line.split()
                if "-" in fl[0] and len(fl) >= 5 and ":" not in fl[0]:
                    cur = fl[5] if len(fl) > 5 else "[anon]"
                    cur = os.path.basename(cur) if cur.startswith("/") \
                        else cur
                    out.setdefault(cur, [0, 0])
                elif fl[0] in ("Private_Dirty:", "Private_Clean:"):
                    out[cur][0] += int(fl[1])
                elif fl[0] == "Pss:":
                    out[cur][1] += int(fl[1])
    except OSError:
        return []
    rows = sorted(((v[0], v[1], k) for k, v in out.items()), reverse=True)
    return rows[:n]


def prober_pids(vigild_pid):
    out = {}
    for k in harness.children_of(vigild_pid):
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        # "vigil-prober --spawner" forks the probers; not one itself
        if os.path.basename(argv[0]).startswith(b"vigil-prober") and \
                len(argv) > 1 and argv[1] != b"--spawner":
            out[argv[1].decode()] = k
    return out


# ---- TLS material and a fallback TLS server ---------------------------------

def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    """A CA and a certificate for IP 127.0.0.1 signed by it."""
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    crt, key = os.path.join(d, "srv.pem"), os.path.join(d, "srv.key")
    csr, ext = os.path.join(d, "srv.csr"), os.path.join(d, "ext.cnf")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", cakey, "-out",
            ca, "-days", "2", "-subj", "/CN=vigil bench CA", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
            "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return ca, crt, key


def make_trust(d, ca, how):
    """ca_file for the providers, as --ca says."""
    if how == "file":
        return ca
    if how == "bundle":
        b = os.path.join(d, "bundle.pem")
        with open(b, "wb") as out:
            with open(SYS_CA, "rb") as f:
                out.write(f.read())
            with open(ca, "rb") as f:
                out.write(f.read())
        return b
    # capath: the system directory's certificates and ours, rehashed.
    cp = os.path.join(d, "capath")
    os.mkdir(cp)
    for n in os.listdir(SYS_CAPATH):
        p = os.path.join(SYS_CAPATH, n)
        if n.endswith(".pem") and os.path.isfile(p):
            os.symlink(os.path.realpath(p), os.path.join(cp, n))
    shutil.copy(ca, os.path.join(cp, "vigil-bench-ca.pem"))
    openssl("rehash", cp)
    return cp


def serve_tls(portfile, cert, key):
    """--serve-tls: HTTP/1.1 keep-alive over TLS; 200 "ok" to anything
    but GET /_sim, which returns the counters as JSON."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1024)
    cnt = {"connections": 0, "tls_handshakes": 0, "requests": 0}
    lock = threading.Lock()

    def conn(s):
        try:
            s.settimeout(120)
            t = ctx.wrap_socket(s, server_side=True)
            with lock:
                cnt["tls_handshakes"] += 1
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    d = t.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                line = head.split(b"\r\n", 1)[0]
                with lock:
                    cnt["requests"] += 1
                    body = json.dumps(cnt).encode() \
                        if line.startswith(b"GET /_sim ") else b"ok"
                t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            s.close()

    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": ls.getsockname()[1]}, f)
    os.rename(tmp, portfile)
    while True:
        s, _ = ls.accept()
        with lock:
            cnt["connections"] += 1
        threading.Thread(target=conn, args=(s,), daemon=True).start()


def sim_has_tls():
    r = subprocess.run([harness.binpath("vigil-sim"), "--help"],
                       capture_output=True, text=True)
    return "--tls-cert" in (r.stdout + r.stderr)


class Server:
    """The providers' server: vigil-sim (HTTP, or HTTPS when it can), or
    the Python TLS server.  counters() reads GET /_sim."""

    def __init__(self, tmp, names, https, cert=None, key=None, ca=None):
        self.portfile = os.path.join(tmp, "srv.json")
        self.https = https
        self.ca = ca
        self.log = open(os.path.join(tmp, "srv.log"), "w")
        self.native = True
        if https and not sim_has_tls():
            self.native = False
            args = [sys.executable, os.path.abspath(__file__),
                    "--serve-tls", self.portfile, cert, key]
        else:
            conf = os.path.join(tmp, "sim-conf.json")
            c = {"listen": "127.0.0.1", "port": 0, "seed": 1,
                 "providers": [{"name": n, "kind": "http"} for n in names]}
            if https:
                c["tls_cert"], c["tls_key"] = cert, key
            with open(conf, "w") as f:
                json.dump(c, f)
            args = [harness.binpath("vigil-sim"), "-c", conf, "--port-file",
                    self.portfile]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        if not harness.wait_for(lambda: os.path.exists(self.portfile) or
                                self.proc.poll() is not None, 20):
            raise RuntimeError("the server did not start")
        if self.proc.poll() is not None:
            raise RuntimeError("the server exited with %d" %
                               self.proc.returncode)
        with open(self.portfile) as f:
            self.port = json.load(f)["port"]

    def base(self, name):
        return "%s://127.0.0.1:%d/%s" % ("https" if self.https else "http",
                                         self.port, name)

    def counters(self):
        import urllib.request
        url = "%s://127.0.0.1:%d/_sim" % ("https" if self.https else
                                          "http", self.port)
        ctx = ssl.create_default_context(cafile=self.ca) if self.https \
            else None
        try:
            with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
                d = json.load(r)
        except (OSError, ValueError):
            return {}
        return d if isinstance(d, dict) else {}

    def stop(self):
        harness.stop_process(self.proc)
        self.log.close()


# ---- the measurement ----------------------------------------------------------

def snapshot(h, pids):
    heads = {k: v["head"] for k, v in h.providers(0).items()}
    cpu = {n: cpu_s(p) for n, p in pids.items()}
    return time.monotonic(), heads, cpu


def delta(a, b):
    out = {}
    for n in b[2]:
        if a[2].get(n) is None or b[2][n] is None or n not in a[1] or \
                n not in b[1]:
            continue
        out[n] = (b[2][n] - a[2][n], b[1][n] - a[1][n])
    return b[0] - a[0], out


def start_loop(url, ca_file, a):
    """tests/tools/curlloop on url; returns the process once its first
    check (the connection) is done, or None without the tool."""
    path = harness.binpath("tests/tools/curlloop")
    if not os.access(path, os.X_OK):
        return None
    p = subprocess.Popen(
        [path, url, ca_file or "", str(int(a.interval * 1000)),
         str(max(1, int(round(a.seconds))))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "GNUTLS_NO_IMPLICIT_INIT": "1"})
    line = p.stdout.readline()
    if line.strip() != "ready":
        stop_loop(p)
        raise RuntimeError("curlloop did not start: %s %s" %
                           (line, p.stderr.read()[-500:]))
    return p


def stop_loop(p):
    if p is not None and p.poll() is None:
        p.kill()
        p.wait()


def loop_result(p, timeout):
    """curlloop's figures: {checks, ok, cpu_us_per_check, private_kb,
    pss_kb}, or {} when it failed."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_loop(p)
        return {}
    res = {}
    for f in out.split():
        k, _, v = f.partition("=")
        try:
            res[k] = float(v)
        except ValueError:
            pass
    if "cpu_us_per_check" not in res or res.get("checks", 0) <= 0:
        print("bench_prober: curlloop: %s" % err[-500:], file=sys.stderr)
        return {}
    if res.get("ok") != res.get("checks"):
        print("bench_prober: curlloop: %d of %d checks not ok" %
              (res["checks"] - res.get("ok", 0), res["checks"]),
              file=sys.stderr)
    return res


def run(a):
    res = {"providers": a.providers, "seconds": a.seconds,
           "interval_ms": int(a.interval * 1000),
           "idle_interval_ms": int(a.idle_interval * 1000),
           "https": a.https, "ca": a.ca if a.https else None}
    h = harness.Harness("bprober")
    srv = None
    loop = None
    names = ["p%03d" % i for i in range(a.providers)]
    try:
        cert = key = ca = ca_file = None
        if a.https:
            ca, cert, key = make_certs(h.tmp)
            ca_file = make_trust(h.tmp, ca, a.ca)
        srv = Server(h.tmp, names, a.https, cert, key, ca)
        res["server"] = "vigil-sim" if srv.native else "python-tls"
        provs = []
        for n in names:
            p = {"name": n, "kind": "http", "base_url": srv.base(n),
                 "extra": []}
            if ca_file:
                p["extra"].append("ca_file = %s" % ca_file)
            provs.append(p)
        h.write_conf(provs, extra="max_providers = %d\nsample_capacity = "
                     "1024" % max(a.providers, 8),
                     interval="%dms" % int(a.interval * 1000),
                     timeout="%dms" % int(max(a.interval / 2, 0.1) * 1000))
        h.start()
        if not harness.wait_for(lambda: h.all_up(names), 60, 0.1):
            raise RuntimeError("probers did not start: %s" %
                               h.logtext()[-1500:])

        def all_ok():
            ps = h.providers(1)
            return len(ps) == len(names) and all(
                p["head"] > 2 and p["samples"] and
                p["samples"][-1]["outcome"] == "ok" for p in ps.values())
        if not harness.wait_for(all_ok, 30, 0.2):
            ps = h.providers(2)
            raise RuntimeError("providers not ok: %s" % {
                n: [s["outcome"] + " " + s.get("error", "")
                    for s in p["samples"]] for n, p in ps.items()})
        pids = prober_pids(h.proc.pid)
        # New connections so far (each prober's first): TLS handshake
        # time, from the samples' connect and TLS phases.
        hs = [s["tls_ms"] - s["connect_ms"]
              for p in h.providers(1024).values() for s in p["samples"]
              if s.get("tls_ms", 0) > 0]
        time.sleep(1.0)		# settle: connections open, caches warm

        # fast phase, and the bare libcurl loop beside it (its one
        # connection is open before the server's counters are read)
        loop = start_loop(srv.base(names[0]) + "/", ca_file, a)
        c0 = srv.counters()
        s0 = snapshot(h, pids)
        time.sleep(a.seconds)
        s1 = snapshot(h, pids)
        c1 = srv.counters()
        bare = loop_result(loop, a.seconds + 30) if loop else {}
        loop = None
        wall_f, fast = delta(s0, s1)
        mem = [rollup_kb(p) for p in pids.values()]
        split = [private_split_kb(p) for p in pids.values()]
        if a.smaps:
            res["smaps_top"] = smaps_top(next(iter(pids.values())))

        # idle phase: the same processes at the long interval
        r = h.call("set_interval", {"provider": "all",
                                    "interval_ms": int(a.idle_interval *
                                                       1000)})
        if not r.get("ok", True) or "error" in r:
            raise RuntimeError("set_interval: %s" % r)
        time.sleep(a.interval * 2 + 0.2)	# the running checks end
        s2 = snapshot(h, pids)
        time.sleep(a.seconds)
        s3 = snapshot(h, pids)
        wall_i, idle = delta(s2, s3)

        raw, net, idle_ps = [], [], []
        for n, (cf, kf) in fast.items():
            if kf <= 0 or n not in idle:
                continue
            ci, ki = idle[n]
            raw.append(1e6 * cf / kf)
            # cf = i*wall_f + kf*c ; ci = i*wall_i + ki*c
            det = wall_f * ki - wall_i * kf
            if det == 0:
                continue
            c = (wall_f * ci - wall_i * cf) / det
            i = (cf - kf * c) / wall_f
            net.append(1e6 * c)
            idle_ps.append(1e6 * i)
        checks = sum(k for _, k in fast.values())
        res.update({
            "probers": len(pids),
            "checks_fast": checks,
            "checks_per_prober_per_s": round(checks / max(1, len(fast)) /
                                             wall_f, 2),
            "cpu_us_per_check_raw_median": round(pct(raw, 50), 1),
            "cpu_us_per_check_raw_p95": round(pct(raw, 95), 1),
            "cpu_us_per_check_median": round(pct(net, 50), 1),
            "cpu_us_per_check_p95": round(pct(net, 95), 1),
            "idle_us_per_s_median": round(pct(idle_ps, 50), 1),
            "pss_prober_median_kb": int(pct([m[0] for m in mem], 50)),
            "pss_prober_max_kb": max(m[0] for m in mem),
            "private_prober_median_kb": int(pct([m[1] for m in mem], 50)),
            "private_own_median_kb": int(pct([m[0] for m in split], 50)),
            "private_files_median_kb": int(pct([m[1] for m in split], 50)),
        })
        if bare:
            b = bare["cpu_us_per_check"]
            res["bare_cpu_us_per_check"] = round(b, 1)
            res["bare_checks"] = int(bare["checks"])
            if b > 0:
                res["ratio_cpu_raw"] = round(pct(raw, 50) / b, 2)
                res["ratio_cpu_net"] = round(pct(net, 50) / b, 2)
            if bare.get("private_kb", -1) >= 0:
                res["bare_private_kb"] = int(bare["private_kb"])
                res["bare_pss_kb"] = int(bare["pss_kb"])
        if hs:
            res["handshake_ms_median"] = round(pct(hs, 50), 2)
            res["handshake_ms_max"] = round(max(hs), 2)
            res["handshakes_seen"] = len(hs)
        for k in ("connections", "tls_handshakes"):
            if k in c0 and k in c1:
                # minus our own two GET /_sim connections
                d = c1[k] - c0[k] - 1
                res[k + "_per_check"] = round(max(0, d) / max(1, checks), 4)
                res[k] = max(0, d)
    finally:
        stop_loop(loop)
        h.stop()
        if srv is not None:
            srv.stop()
    return res


ROWS = [
    ("CPU per check, idle taken out (median)", "cpu_us_per_check_median",
     "us", "<= 100"),
    ("CPU per check, idle taken out (p95)", "cpu_us_per_check_p95", "us",
     ""),
    ("CPU per check, raw (median)", "cpu_us_per_check_raw_median", "us", ""),
    ("CPU per check, raw (p95)", "cpu_us_per_check_raw_p95", "us", ""),
    ("bare libcurl loop, same interval: CPU per check",
     "bare_cpu_us_per_check", "us", ""),
    ("ratio prober/bare, raw (median)", "ratio_cpu_raw", "", ""),
    ("ratio prober/bare, idle taken out (median)", "ratio_cpu_net", "", ""),
    ("idle CPU per prober", "idle_us_per_s_median", "us/s", ""),
    ("checks per prober per second", "checks_per_prober_per_s", "", ""),
    ("PSS per prober (median)", "pss_prober_median_kb", "kB", "<= 1536"),
    ("PSS per prober (max)", "pss_prober_max_kb", "kB", ""),
    ("private memory per prober (median)", "private_prober_median_kb", "kB",
     ""),
    ("  of which heap, anon and stack", "private_own_median_kb", "kB", ""),
    ("  of which libraries (relocated data)", "private_files_median_kb",
     "kB", ""),
    ("bare libcurl loop: PSS", "bare_pss_kb", "kB", ""),
    ("bare libcurl loop: private memory", "bare_private_kb", "kB", ""),
    ("TLS handshake of a new connection (median)", "handshake_ms_median",
     "ms", ""),
    ("TLS handshake of a new connection (max)", "handshake_ms_max", "ms",
     ""),
    ("new connections per check", "connections_per_check", "", "~0"),
    ("TLS handshakes per check", "tls_handshakes_per_check", "", "~0"),
]


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-tls":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        serve_tls(*sys.argv[2:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--providers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--interval", default="200ms")
    ap.add_argument("--idle-interval", default="10s")
    ap.add_argument("--https", action="store_true")
    ap.add_argument("--ca", choices=("file", "bundle", "capath"),
                    default="file")
    ap.add_argument("--smaps", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.interval = parse_dur(a.interval)
    a.idle_interval = parse_dur(a.idle_interval)
    if a.providers < 1 or a.seconds <= 0 or a.interval <= 0.1:
        ap.error("need --providers >= 1, --seconds > 0, --interval > 100ms (timeout 100 ms at least, shorter than it)")
    print("bench_prober: %d providers over %s, %gs at %gms then %gs at "
          "%gs ..." % (a.providers, "HTTPS (ca %s)" % a.ca if a.https else
                       "HTTP", a.seconds, a.interval * 1000, a.seconds,
                       a.idle_interval), file=sys.stderr)
    res = run(a)
    print("| figure | value | limit |")
    print("|---|---:|---|")
    for label, k, unit, lim in ROWS:
        if k in res:
            print("| %s | %s %s | %s |" % (label, res[k], unit, lim))
    if "smaps_top" in res:
        print("\nlargest private mappings of one prober (private kB, "
              "PSS kB):")
        for pv, ps, m in res["smaps_top"]:
            print("  %6d %6d  %s" % (pv, ps, m))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
