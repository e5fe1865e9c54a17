#!/usr/bin/python3
"""vigil-api's rendered bodies (issue 20): kept per generation of the
segment, served with a strong ETag and in gzip.

    VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_api_cache.py

Against segfill and a standalone vigil-api:
  - a change that segfill publishes (its beat after the blocks, as the
    aggregator does) shows in the very next request of every cached view,
    however recently the old body was served;
  - a directory change (a provider renamed) shows at once, even with the
    aggregator's beat stopped: a body outlives no change of the layout;
  - If-None-Match gives 304 with no body (the next response on the same
    connection starts right after its headers), per representation;
  - a gzip body inflates to exactly the plain body of the same ETag;
  - HEAD answers the headers with the Content-Length of the GET, and no
    body on a kept-alive connection.
Against the real chain (vigil-sim, vigild, its aggregator and vigil-api):
  - a body is never older than its generation: once the uncached view
    (a query parameter) shows a fault and the aggregator has published
    again, every cached view shows it too; and counters read from the
    cached views never go back behind the uncached one.
A real Prometheus scrapes vigil-api through a recording proxy: it asks
for gzip, gets gzip, and stores the same samples a plain GET reads.

No timing is asserted.  Every process is stopped by pid in a finally.
"""
import http.client
import json
import math
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (the shared harness)
from harness import (ApiServer, Segfill, free_port, guarded,  # noqa: E402
                     note, prom_samples, result, stop_process, wait_for)

# aggregator_beat_ns in the segment header: a public offset, asserted in
# include/vigil/vigil.h (offsetof(struct vigil_header,
# aggregator_beat_ns) == 320).
BEAT_OFF = 320
CACHED = ["/health/integration", "/metrics", "/health/integration/graph",
          "/health/integration/providers/anthropic"]


class Conn:
    """One kept-alive HTTP/1.1 connection read by hand, so that a body
    where none belongs (HEAD, 304) shows as garbage before the next
    status line instead of being swallowed by a client library."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def request(self, path, headers=None, method="GET"):
        """(status, {header: value} lower-cased, body).  The body is
        Content-Length bytes, none for HEAD and 304."""
        h = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" %
                        (method, path, h)).encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 "):
            raise ValueError("not a status line: %r" % lines[0][:60])
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = 0
        if method != "HEAD" and status != 304:
            n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def close(self):
        self.s.close()


def beat(shm):
    """The aggregator's last publish, read from the segment itself."""
    with open("/dev/shm" + shm, "rb") as f:
        m = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)
        try:
            return struct.unpack_from("<Q", m, BEAT_OFF)[0]
        finally:
            m.close()


def gunzip(data):
    return zlib.decompress(data, 16 + zlib.MAX_WBITS)


def status_in(path, body, name):
    """The status of provider name as the view at path says it."""
    if path == "/metrics":
        for n, lbl, v in prom_samples(body.decode()):
            if n == "vigil_provider_status" and \
                    lbl.get("provider") == name and v == "1":
                return lbl["status"]
        return None
    doc = json.loads(body)
    if path.startswith("/health/integration/providers/"):
        return doc["status"]
    if path == "/health/integration/graph":
        for n in doc["nodes"]:
            if n.get("name") == name:
                return n["status"]
        return None
    for p in doc["providers"]:
        if p["name"] == name:
            return p["status"]
    return None


# ---- segfill ---------------------------------------------------------------

def test_published_change(seg, port):
    """Warm every cached view, then change anthropic; segfill's "ok"
    comes after its publish, so the next request must show it."""
    c = Conn(port)
    bad = []
    try:
        for st in ("unhealthy", "healthy", "misconfigured", "degraded"):
            for path in CACHED:
                for _ in range(3):
                    c.request(path)
            reply = seg.cmd("status anthropic %s" % st)
            for path in CACHED:
                code, hd, body = c.request(path)
                got = status_in(path, body, "anthropic")
                if code != 200 or got != st:
                    bad.append((st, path, code, got))
    finally:
        c.close()
    result("a published change shows in the next request of every cached "
           "view", reply == "ok" and not bad, bad)


def test_layout_change(seg, port):
    """With the beat stopped the generation can move only by dir_gen:
    a renamed provider must show at once, and its old name must stop
    answering, though the old bodies were served a moment before."""
    c = Conn(port)
    try:
        seg.cmd("beat off")
        etags = []
        for _ in range(20):     # the cache holds: one ETag twice running
            code, hd, body = c.request("/health/integration")
            etags.append(hd.get("etag"))
            c.request("/metrics")
            c.request("/health/integration/providers/openai")
            if len(etags) > 1 and etags[-1] == etags[-2]:
                break
        result("beat off: the same body twice in a row (the cache holds)",
               len(etags) > 1 and etags[-1] == etags[-2], etags)
        seg.cmd("hostile openai rename")
        code, hd, body = c.request("/health/integration")
        names = [p["name"] for p in json.loads(body)["providers"]]
        result("a renamed provider shows at once (dir_gen), beat stopped",
               "openai" not in names and hd.get("etag") != etags[-1],
               names)
        code, hd, body = c.request("/metrics")
        result("/metrics drops the old name at once",
               b'provider="openai"' not in body, code)
        code, hd, body = c.request("/health/integration/providers/openai")
        result("the old name's cached view is gone at once (404)",
               code == 404, (code, body[:80]))
    finally:
        seg.cmd("beat on")
        c.close()


def render_ns(etag):
    """The CLOCK_MONOTONIC instant of a body's render, which its ETag
    names ("DATA-DIR-RENDER", hex: api/cache.c), or None."""
    try:
        return int(etag.strip('"').split("-")[2], 16)
    except (AttributeError, IndexError, ValueError):
        return None


def test_aged_refresh(port):
    """Nothing moves but the clock (segfill beats, its data stays), over
    1,000 providers, where a render takes long enough (over 0.5 ms) to
    start the worker.  The ETag names its render's monotonic instant, so
    the age of every body served is known: the loop never serves one past
    the maximum age (1 s), so a body served older than that shows the
    aged path (served while the worker renders it again); none is ever
    served past the stale limit (2 s); and a new render follows."""
    c = Conn(port)
    try:
        for path in ("/health/integration", "/metrics"):
            ages = []
            aged = renewed = False
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline and not renewed:
                t = time.monotonic_ns()
                code, hd, body = c.request(path)
                r = render_ns(hd.get("etag"))
                if code != 200 or r is None:
                    ages.append((code, hd.get("etag")))
                    break
                ages.append(round((t - r) / 1e9, 3))
                if aged and hd.get("etag") != aged:
                    renewed = True
                elif not aged and t - r >= 1000000000:
                    aged = hd.get("etag")
                time.sleep(0.02)
            result("%s: a body past the maximum age answers while it is "
                   "rendered again" % path, aged, ages[-3:])
            result("%s: then a new render answers" % path, renewed,
                   ages[-3:])
            result("%s: no body served past the stale limit (2 s)" % path,
                   all(isinstance(a, float) and a < 2.0 for a in ages),
                   max(a for a in ages if isinstance(a, float)))
    finally:
        c.close()


def test_304(port):
    """If-None-Match with the current ETag: 304, its headers, no body.
    Retried while the generation moves under the two requests."""
    c = Conn(port)
    try:
        for path in CACHED:
            got = None
            for _ in range(50):
                code, hd, body = c.request(path)
                et = hd.get("etag", "")
                code2, hd2, _ = c.request(path, {"If-None-Match": et})
                if code2 == 304:
                    got = (et, hd2)
                    break
            ok = got is not None and et.startswith('"') and \
                got[1].get("etag") == et and \
                got[1].get("vary") == "Accept-Encoding" and \
                "content-length" not in got[1]
            # The next response on this connection starts right after the
            # 304's headers: a body would be read as its status line.
            code3, _, _ = c.request("/health")
            result("%s: If-None-Match gives 304 with the ETag and no body"
                   % path, ok and code3 == 200 and c.buf == b"", got)
        path = "/metrics"
        for _ in range(50):
            code, hd, body = c.request(path, {"Accept-Encoding": "gzip"})
            gz = hd.get("etag", "")
            code2, hd2, b2 = c.request(path, {"Accept-Encoding": "gzip",
                                              "If-None-Match": 'W/' + gz})
            code3, hd3, b3 = c.request(path, {"If-None-Match": gz})
            if code2 == 304:
                break
        result("gzip has its own ETag: 304 for it (weak form too), 200 "
               "plain for the plain one",
               code2 == 304 and b2 == b"" and code3 == 200 and
               hd3.get("etag") != gz and "content-encoding" not in hd3 and
               hd3.get("etag", "").replace('"', "") + "-gz" ==
               gz.replace('"', ""), (gz, hd3.get("etag"), code2, code3))
        code, hd, body = c.request(path, {"If-None-Match": '"nope", "x"'})
        result("a non-matching If-None-Match gets the body",
               code == 200 and len(body) > 0, code)
    finally:
        c.close()


def test_gzip(port):
    c = Conn(port)
    try:
        for path in CACHED + ["/health/integration/providers/google"]:
            same = None
            for _ in range(50):
                code, hd, plain = c.request(path)
                code2, hd2, gz = c.request(path,
                                           {"Accept-Encoding": "gzip"})
                if hd2.get("etag", "").replace("-gz", "") == \
                        hd.get("etag"):
                    same = (hd, hd2, plain, gz)
                    break
            ok = same is not None and \
                hd2.get("content-encoding") == "gzip" and \
                hd2.get("vary") == "Accept-Encoding" and \
                hd2.get("content-type") == hd.get("content-type") and \
                len(gz) < len(plain) and gunzip(gz) == plain
            result("%s: the gzip body inflates to exactly the plain body "
                   "of the same ETag (%d -> %d bytes)" %
                   (path, len(plain), len(gz)), ok,
                   same and (same[0], same[1]))
        code, hd, body = c.request("/metrics",
                                   {"Accept-Encoding": "gzip;q=0, br"})
        result("gzip;q=0: plain", code == 200 and
               "content-encoding" not in hd and body.startswith(b"# HELP"),
               hd)
        code, hd, body = c.request("/health/integration/providers/google?"
                                   "samples=3", {"Accept-Encoding": "gzip"})
        result("a view with parameters is rendered per request, plain",
               code == 200 and "content-encoding" not in hd and
               len(json.loads(body)["samples"]) == 3, hd)
    finally:
        c.close()


def test_head(port):
    c = Conn(port)
    try:
        for path in ["/health", "/health/integration", "/metrics",
                     "/health/integration/history?provider=openai"]:
            code, hd, body = c.request(path)
            code2, hd2, _ = c.request(path, method="HEAD")
            code3, _, _ = c.request("/health")
            # /health carries the heartbeat's age, rendered per request:
            # its length may move by a digit between the GET and the
            # HEAD.  The cached views are the same bytes.
            n = hd2.get("content-length", "")
            same_len = n == str(len(body)) if path != "/health" else \
                n.isdigit() and abs(int(n) - len(body)) <= 4
            result("HEAD %s: the GET's headers and Content-Length, no body "
                   "(the connection goes on)" % path,
                   code == code2 == 200 and code3 == 200 and same_len and
                   hd2.get("content-type") == hd.get("content-type"),
                   (hd2, len(body)))
    finally:
        c.close()


# ---- the real chain ---------------------------------------------------------

def checks(doc):
    return sum(doc["checks_total"].values())


def metrics_checks(body, name):
    return sum(float(v) for n, lbl, v in prom_samples(body.decode())
               if n == "vigil_checks_total" and lbl.get("provider") == name)


def test_live(tmp):
    """vigil-sim's flip fails; the uncached view (?samples=0) shows it
    first; once the aggregator has published since, every cached view
    shows it.  Meanwhile counters from the cached views never lag the
    uncached view read before the publish."""
    sim = v = None
    try:
        sim = harness.Sim(tmp, ["good:openai:sk-cache-good",
                                "flip:deepseek:sk-cache-flip"])
        v = harness.Vigil("cache")
        v.write_conf([{"name": n, "kind": k, "base_url": sim.base(n),
                       "key": "sk-cache-" + n}
                      for n, k in (("good", "openai"),
                                   ("flip", "deepseek"))],
                     [], "250ms", "200ms")
        v.start(["good", "flip"])

        def settled():
            try:
                return v.api("/health/integration")["status"] == "healthy"
            except (OSError, ValueError, KeyError):
                return False
        if not result("live: good and flip settle healthy",
                      wait_for(settled, 20, 0.2)):
            return
        c = Conn(v.port)
        lag = []
        for _ in range(20):
            b0 = beat(v.shm)
            _, _, body = c.request("/health/integration/providers/good?"
                                   "samples=0")
            fresh = checks(json.loads(body))
            wait_for(lambda: beat(v.shm) != b0, 5, 0.005)
            _, _, body = c.request("/health/integration/providers/good")
            cached = checks(json.loads(body))
            _, _, m = c.request("/metrics", {"Accept-Encoding": "gzip"})
            mc = metrics_checks(gunzip(m), "good")
            if cached < fresh or mc < fresh:
                lag.append((fresh, cached, mc))
        result("live: counters of the cached views never behind the "
               "uncached view read before the publish", not lag, lag)
        sim.fault("flip", {"status": 500})
        seen = None
        deadline = time.monotonic() + 20
        while seen is None and time.monotonic() < deadline:
            b0 = beat(v.shm)
            _, _, body = c.request("/health/integration/providers/flip?"
                                   "samples=0")
            if json.loads(body)["status"] != "unhealthy":
                time.sleep(0.02)
                continue
            # The publish that carried it is done once the beat moved
            # (the aggregator writes the blocks, then the beat).
            wait_for(lambda: beat(v.shm) != b0, 5, 0.005)
            seen = {}
            for path in ["/health/integration", "/metrics",
                         "/health/integration/graph",
                         "/health/integration/providers/flip"]:
                code, hd, body = c.request(path)
                seen[path] = status_in(path, body, "flip")
        result("live: after the publish that made flip unhealthy, every "
               "cached view says so", seen is not None and
               set(seen.values()) == {"unhealthy"}, seen)
        c.close()
    finally:
        if sim is not None:
            sim.stop()
        if v is not None:
            v.cleanup()


# ---- Prometheus ---------------------------------------------------------------

class Proxy:
    """A recording HTTP proxy in a thread: each request's Accept-Encoding
    and each response's Content-Encoding and body size, the bytes passed
    on untouched."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.seen = []
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,),
                             daemon=True).start()

    def _serve(self, s):
        up = http.client.HTTPConnection("127.0.0.1", self.upstream,
                                        timeout=10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split()[:2]
                hdrs = {}
                for ln in lines[1:]:
                    k, _, val = ln.partition(":")
                    hdrs[k.strip()] = val.strip()
                up.request(method, path, headers=hdrs)
                r = up.getresponse()
                body = r.read()     # raw: http.client does not inflate
                self.seen.append({
                    "accept-encoding": hdrs.get("Accept-Encoding", ""),
                    "content-encoding": r.getheader("Content-Encoding", ""),
                    "bytes": len(body)})
                out = "HTTP/1.1 %d %s\r\n" % (r.status, r.reason)
                for k, val in r.getheaders():
                    out += "%s: %s\r\n" % (k, val)
                s.sendall(out.encode("latin-1") + b"\r\n" + body)
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            up.close()
            s.close()

    def stop(self):
        self.stopping = True
        self.ls.close()


def fval(s):
    return float(s.replace("+Inf", "inf").replace("-Inf", "-inf"))


def same_value(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_prometheus(port, tmp):
    prom = shutil.which("prometheus")
    if prom is None:
        result("a real Prometheus scrapes with gzip (prometheus missing: "
               "apt-get install prometheus)", False)
        return
    px = Proxy(port)
    pport = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: vigil\n"
                "    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % px.port)
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    p = subprocess.Popen([prom, "--config.file=" + cfg,
                          "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                          "--web.listen-address=127.0.0.1:%d" % pport,
                          "--log.level=warn"],
                         stdout=log, stderr=subprocess.STDOUT)

    def query(q):
        u = "http://127.0.0.1:%d/api/v1/query?%s" % (
            pport, urllib.parse.urlencode({"query": q}))
        with urllib.request.urlopen(u, timeout=5) as r:
            return json.load(r)["data"]["result"]

    try:
        def scraped():
            try:
                return len(px.seen) >= 2 and \
                    query('up{job="vigil"}')[0]["value"][1] == "1"
            except (OSError, ValueError, KeyError, IndexError):
                return False
        if not result("Prometheus scrapes vigil-api through the proxy",
                      wait_for(scraped, 30, 0.2), px.seen[-3:]):
            return
        # The data stays put for the comparison: only the beat moves.
        n0 = len(px.seen)
        wait_for(lambda: len(px.seen) >= n0 + 1, 10, 0.05)
        time.sleep(0.2)
        scrape = px.seen[-1]
        result("Prometheus asks for gzip and gets gzip (%d bytes)" %
               scrape["bytes"], "gzip" in scrape["accept-encoding"] and
               scrape["content-encoding"] == "gzip", scrape)
        got = {}
        for s in query('{job="vigil", __name__=~"vigil_.+"}'):
            m = dict(s["metric"])
            name = m.pop("__name__")
            m.pop("job", None)
            m.pop("instance", None)
            got[(name, tuple(sorted(m.items())))] = fval(s["value"][1])
        st, _, hd, data = harness.get(port, "/metrics")
        want = {}
        for name, lbl, val in prom_samples(data.decode()):
            want[(name, tuple(sorted(lbl.items())))] = fval(val)
        # Values of the clock alone: the GET may get a newer render of
        # the same generation than the scrape did (refresh.c).
        moving = {"vigil_aggregator_heartbeat_age_seconds",
                  "vigil_ratelimit_reset_seconds"}
        diff = [k for k in set(got) | set(want)
                if k[0] not in moving and
                (k not in got or k not in want or
                 not same_value(got[k], want[k]))]
        result("Prometheus stored the same samples as a plain GET reads "
               "(%d series)" % len(want), len(want) > 100 and
               set(got) == set(want) and not diff, sorted(diff)[:5])
        sc = query('scrape_samples_scraped{job="vigil"}')
        result("scrape_samples_scraped is the exposition's sample count",
               sc and int(float(sc[0]["value"][1])) == len(want),
               (sc, len(want)))
    finally:
        stop_process(p)
        log.close()
        px.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-api-cache-")
    shm = "/vigil-test-cache-%d" % os.getpid()
    seg = srv = None
    try:
        seg = Segfill(shm)
        srv = ApiServer(shm)
        for fn, args in ((test_published_change, (seg, srv.port)),
                         (test_304, (srv.port,)),
                         (test_gzip, (srv.port,)),
                         (test_head, (srv.port,)),
                         (test_prometheus, (srv.port, tmp)),
                         (test_layout_change, (seg, srv.port))):
            with guarded(fn.__name__ + " ran to its end"):
                fn(*args)
    finally:
        if srv is not None:
            rc = srv.stop()
            result("vigil-api exits 0 on SIGTERM", rc == 0, rc)
        if seg is not None:
            seg.stop()
    big = bigsrv = None
    try:
        big = Segfill(shm + "-big", ["--providers", "1000"])
        bigsrv = ApiServer(shm + "-big")
        with guarded("test_aged_refresh ran to its end"):
            test_aged_refresh(bigsrv.port)
        bigsrv.log.seek(0)
        result("vigil-api over 1,000 providers started its render worker",
               "off the event loop" in bigsrv.log.read())
    finally:
        if bigsrv is not None:
            rc = bigsrv.stop()
            result("vigil-api over 1,000 providers exits 0 on SIGTERM",
                   rc == 0, rc)
        if big is not None:
            big.stop()
    with guarded("test_live ran to its end"):
        test_live(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    note("test_api_cache: %d passed, %d failed" % (harness.passed,
                                                   harness.failures))
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
