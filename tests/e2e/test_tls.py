#!/usr/bin/python3
"""End-to-end test of probing over HTTPS: vigil-sim serves TLS with a
throwaway CA made here with the openssl CLI, vigild probes it.

  (a) a provider whose ca_file is the test CA: samples ok, TLS time
      recorded;
  (b) at a fast interval, N >= 10 checks per provider cost the sim
      exactly one TCP connection and one TLS handshake per provider (the
      prober keeps its connection);
  (c) a certificate not trusted (no ca_file, or another CA): outcome tls,
      never ok, no request reaches the provider;
  (d) a certificate for another name (SAN DNS:other.example): the same.

Three vigil-sim processes so that each one's counters are exact: one for
the trusted providers, one for the untrusted ones, one with the wrong
name.  Uses tests/e2e/harness.py.  Every process started here
is stopped by pid in finally blocks.  Prints "ok - ..."/"not ok - ..."
and "# N passed, N failed"; exits 1 on any failure.
"""
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import ok  # noqa: E402

KEYS = {"good1": "sk-tls-good-1111", "good2": "sk-tls-good-2222",
        "good3": "sk-ant-tls-3333", "noca": "sk-tls-noca-4444",
        "wrongca": "sk-tls-wrongca-5555", "mismatch": "sk-tls-mm-6666"}
GOOD = ("good1", "good2", "good3")
CHECKS = 12                 # checks per good provider before counting


def openssl(tmp, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=tmp,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], r.stderr[-500:]))


def make_ca(tmp, name):
    openssl(tmp, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-days", "1", "-keyout", name + ".key", "-out", name + ".pem",
            "-subj", "/CN=vigil-test-" + name)
    return os.path.join(tmp, name + ".pem")


def make_cert(tmp, ca, name, san):
    """A server certificate NAME.pem/NAME.key signed by CA, for SAN."""
    openssl(tmp, "req", "-newkey", "rsa:2048", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=vigil-test-" + name)
    with open(os.path.join(tmp, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\n" % san)
    openssl(tmp, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", "1",
            "-extfile", name + ".ext", "-out", name + ".pem")
    return os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".key")


class TlsSim:
    """vigil-sim over HTTPS with -P specs; stop() by pid."""

    def __init__(self, tmp, tag, cert, key, providers):
        self.portfile = os.path.join(tmp, tag + ".ports")
        self.errpath = os.path.join(tmp, tag + ".err")
        self.err = open(self.errpath, "w")
        args = [harness.binpath("vigil-sim"), "-p", "0", "--port-file",
                self.portfile, "--seed", "1", "--tls-cert", cert,
                "--tls-key", key]
        for p in providers:
            args += ["-P", p]
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=env)
        if not harness.wait_for(lambda: os.path.exists(self.portfile) or
                                self.proc.poll() is not None, 20):
            raise RuntimeError("vigil-sim %s did not start" % tag)
        if self.proc.poll() is not None:
            raise RuntimeError("vigil-sim %s exited: %s" %
                               (tag, self.stderr()))
        with open(self.portfile) as f:
            self.info = json.load(f)
        self.port = self.info["port"]

    def base(self, name):
        return "https://127.0.0.1:%d/%s" % (self.port, name)

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be
        killed)."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        if not self.err.closed:
            self.err.close()
        return rc


class Control:
    """One kept-alive HTTPS connection to a sim's /_sim, so that reading
    the counters adds nothing to them after a reset."""

    def __init__(self, sim, cafile, check_hostname=True):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = check_hostname
        self.c = http.client.HTTPSConnection("127.0.0.1", sim.port,
                                             timeout=10, context=ctx)

    def call(self, method, path):
        self.c.request(method, "/_sim" + path, body=b"" if method == "POST"
                       else None)
        r = self.c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("%s /_sim%s: %d %s" % (method, path, r.status,
                                                       body[:200]))
        return json.loads(body)

    def close(self):
        self.c.close()


def ok_samples(p):
    return [s for s in p.get("samples", []) if s["outcome"] == "ok"]


def test_trusted(h, ctl):
    """(a) and (b) over the trusted sim."""
    def enough():
        ps = h.providers(256)
        return all(n in ps and len(ok_samples(ps[n])) >= CHECKS
                   for n in GOOD) and ps
    ps = harness.wait_for(enough, 60) or h.providers(256)
    counters = ctl.call("GET", "")
    for n in GOOD:
        smp = ps.get(n, {}).get("samples", [])
        oks = ok_samples(ps.get(n, {}))
        ok(len(oks) >= CHECKS and len(oks) == len(smp),
           "%s: every sample ok over HTTPS (%d checks)" % (n, len(smp)),
           [(s["outcome"], s["error"]) for s in smp][-10:])
        ok(any(s["tls_ms"] > 0 and s["tls_ms"] >= s["connect_ms"]
               for s in oks),
           "%s: TLS time recorded (after connect)" % n,
           [(s["connect_ms"], s["tls_ms"]) for s in oks][:5])
        ok(all(s["http_status"] == 200 for s in oks),
           "%s: HTTP 200 through TLS" % n)
    reqs = {p["name"]: p["requests"] for p in counters["providers"]}
    ok(all(reqs.get(n, 0) >= CHECKS for n in GOOD),
       "the sim answered >= %d requests per provider" % CHECKS, reqs)
    detail = {"connections": counters["connections"],
              "tls_handshakes": counters["tls_handshakes"],
              "requests": reqs}
    ok(counters["tls"] is True, "the sim reports tls: true")
    ok(counters["connections"] == len(GOOD),
       "reuse: %d providers, >= %d checks each, %d TCP connections" %
       (len(GOOD), CHECKS, len(GOOD)), detail)
    ok(counters["tls_handshakes"] == len(GOOD),
       "reuse: one TLS handshake per provider", detail)


def test_refused(h, untrusted, mism, ctl_u, ctl_m):
    """(c) untrusted CA and (d) hostname mismatch: outcome tls, no
    request reaches the provider."""
    bad = ("noca", "wrongca", "mismatch")

    def enough():
        ps = h.providers(64)
        return all(n in ps and len(ps[n]["samples"]) >= 3 for n in bad) \
            and ps
    ps = harness.wait_for(enough, 30) or h.providers(64)
    what = {"noca": "a CA not in the default bundle (no ca_file)",
            "wrongca": "ca_file of another CA",
            "mismatch": "certificate for DNS:other.example"}
    for n in bad:
        smp = ps.get(n, {}).get("samples", [])
        outs = [s["outcome"] for s in smp]
        ok(len(outs) >= 3 and all(o == "tls" for o in outs),
           "%s (%s): outcome tls, never ok" % (n, what[n]),
           [(s["outcome"], s["error"]) for s in smp][-5:])
        ok(all(s["http_status"] == 0 for s in smp),
           "%s: no HTTP status (refused before any request)" % n)
    reqs = {}
    for c in (ctl_u, ctl_m):
        for p in c.call("GET", "")["providers"]:
            reqs[p["name"]] = p["requests"]
    ok(all(reqs.get(n, -1) == 0 for n in bad),
       "no request of a refused provider reached the sim", reqs)
    u = ctl_u.call("GET", "")
    ok(u["connections"] >= 4 and u["tls_handshakes"] == 0,
       "the sim saw connections but no completed handshake",
       (u["connections"], u["tls_handshakes"]))


def main():
    if not os.access(harness.binpath("vigil-sim"), os.X_OK):
        ok(False, "vigil-sim built", harness.binpath("vigil-sim"))
        return 1
    h = harness.Harness("tls")
    sims = {}
    ctls = []
    try:
        tmp = h.tmp
        ca = make_ca(tmp, "ca")
        other_ca = make_ca(tmp, "otherca")
        cert, key = make_cert(tmp, os.path.join(tmp, "ca"), "server",
                              "IP:127.0.0.1")
        mcert, mkey = make_cert(tmp, os.path.join(tmp, "ca"), "mismatch",
                                "DNS:other.example")
        ok(True, "openssl made a CA, a server certificate for 127.0.0.1 "
           "and one for other.example")
        sims["trusted"] = TlsSim(tmp, "trusted", cert, key, [
            "good1:openai:" + KEYS["good1"],
            "good2:openai:" + KEYS["good2"],
            "good3:anthropic:" + KEYS["good3"]])
        sims["untrusted"] = TlsSim(tmp, "untrusted", cert, key, [
            "noca:openai:" + KEYS["noca"],
            "wrongca:openai:" + KEYS["wrongca"]])
        sims["mismatch"] = TlsSim(tmp, "mismatch", mcert, mkey, [
            "mismatch:openai:" + KEYS["mismatch"]])
        ok(all(s.info.get("tls") is True and
               s.info["control"].startswith("https://")
               for s in sims.values()),
           "the port files say tls: true and https URLs",
           [s.info for s in sims.values()])
        # Open the control connections, then zero the counters: from now
        # on only vigild's probers move them.
        ctl_t = Control(sims["trusted"], ca)
        ctl_u = Control(sims["untrusted"], ca)
        # The mismatch sim's name is wrong on purpose: trust its CA only.
        ctl_m = Control(sims["mismatch"], ca, check_hostname=False)
        ctls += [ctl_t, ctl_u, ctl_m]
        for c in ctls:
            c.call("GET", "")
            c.call("POST", "/reset-counters")
        z = ctl_t.call("GET", "")
        ok(z["connections"] == 0 and z["tls_handshakes"] == 0,
           "reset-counters zeroes the counters", z)

        provs = []
        for n in GOOD:
            provs.append({"name": n, "kind": "anthropic" if n == "good3"
                          else "openai",
                          "base_url": sims["trusted"].base(n),
                          "key": KEYS[n],
                          "extra": ["ca_file = %s" % ca]})
        provs.append({"name": "noca", "kind": "openai",
                      "base_url": sims["untrusted"].base("noca"),
                      "key": KEYS["noca"]})
        provs.append({"name": "wrongca", "kind": "openai",
                      "base_url": sims["untrusted"].base("wrongca"),
                      "key": KEYS["wrongca"],
                      "extra": ["ca_file = %s" % other_ca]})
        provs.append({"name": "mismatch", "kind": "openai",
                      "base_url": sims["mismatch"].base("mismatch"),
                      "key": KEYS["mismatch"],
                      "extra": ["ca_file = %s" % ca]})
        h.write_conf(provs, interval="200ms", timeout="180ms")
        h.start(wait_providers=[p["name"] for p in provs])
        for t, args in ((test_trusted, (h, ctl_t)),
                        (test_refused, (h, sims["untrusted"],
                                        sims["mismatch"], ctl_u, ctl_m))):
            try:
                t(*args)
            except Exception as e:      # a crash fails, not aborts
                ok(False, "%s ran to the end" % t.__name__, repr(e))
    except Exception as e:  # a harness failure is a test failure
        import traceback
        traceback.print_exc()
        ok(False, "harness", e)
        print(h.logtext()[-3000:], file=sys.stderr)
    finally:
        try:
            for c in ctls:
                c.close()
            for tag, s in sims.items():
                rc = s.stop()
                err = s.stderr()
                ok(rc == 0 and "Sanitizer" not in err and
                   "runtime error" not in err,
                   "vigil-sim %s: SIGTERM exit 0, no sanitizer report" %
                   tag, (rc, err[-2000:]))
                ok(not any(k in err for k in KEYS.values()),
                   "vigil-sim %s: no key in its log" % tag)
        finally:
            for s in sims.values():     # stopped above unless it raised
                if s.proc.poll() is None:
                    s.proc.kill()
                    s.proc.wait()
            h.stop()
    if harness.failures:
        print("# logs kept in %s" % h.tmp)
    else:
        import shutil
        shutil.rmtree(h.tmp, ignore_errors=True)
    print("# %d passed, %d failed" % (harness.passed, harness.failures))
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
