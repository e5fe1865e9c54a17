#!/usr/bin/python3
"""The dashboard at / in headless Chromium, driven over the DevTools
protocol (a stdlib WebSocket client from test_api.py).

Starts segfill, vigil-api and `chromium --headless=new` on free ports,
loads the dashboard, and asserts that a provider tile shows the status in
the segment, and that it follows status and circuit changes and a new
alert without a reload: the page's window object survives, its 10 s
refresh timer is switched off before it loads, and no /health/integration
fetch happens between the change and the tile update, so only the
EventSource can have changed the tile.

    test_dashboard.py [--screenshot FILE]

--screenshot also writes a 1280x900 PNG of the page with realistic data
(segfill --recent: sparklines over the last 15 minutes) to FILE.  Without
chromium the test fails (make deps-test installs it).  Every process started
here is stopped by pid in a finally block.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_aggregation as ta  # noqa: E402  (Sim, Vigil, wait_for)
import test_api as api  # noqa: E402  (Server, Segfill, WS, result)

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class Browser:
    """Headless Chromium with the DevTools protocol on a free port."""

    def __init__(self, exe):
        self.tmp = tempfile.mkdtemp(prefix="vigil-chromium-")
        self.log = open(os.path.join(self.tmp, "chromium.log"), "w+")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync",
             "--user-data-dir=" + os.path.join(self.tmp, "profile"),
             "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "--window-size=1280,900",
             "about:blank"],
            stdout=self.log, stderr=self.log, start_new_session=True)
        portfile = os.path.join(self.tmp, "profile", "DevToolsActivePort")
        deadline = time.time() + 30
        self.port = None
        while self.port is None:
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                raise RuntimeError("chromium did not start: " +
                                   self.log.read()[-2000:])
            try:
                with open(portfile) as f:
                    self.port = int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" %
                                    self.port, timeout=10) as r:
            targets = json.loads(r.read())
        page = [t for t in targets if t["type"] == "page"][0]
        path = page["webSocketDebuggerUrl"].split(str(self.port), 1)[1]
        self.ws = api.WS(self.port, path=path, timeout=30)
        if self.ws.status != 101:
            raise RuntimeError("DevTools WebSocket: %d" % self.ws.status)
        self.next_id = 0

    def call(self, method, timeout=30, **params):
        """One DevTools command; its result (events are skipped)."""
        self.next_id += 1
        msg = json.dumps({"id": self.next_id, "method": method,
                          "params": params}).encode()
        self.ws.send(0x1, msg)
        deadline = time.time() + timeout
        while True:
            op, payload = self.ws.recv(max(0.01, deadline - time.time()))
            if op != 0x1:
                continue
            doc = json.loads(payload)
            if doc.get("id") == self.next_id:
                if "error" in doc:
                    raise RuntimeError("%s: %s" % (method, doc["error"]))
                return doc["result"]

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_js(self, expr, want, timeout=15):
        """Poll expr until it equals want; return the last value."""
        deadline = time.time() + timeout
        v = None
        while time.time() < deadline:
            v = self.js(expr)
            if v == want:
                return v
            time.sleep(0.05)
        return v

    def stop(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Renderer and GPU helpers are in the session we created.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


TILE = "(function(){var t=document.getElementById('tile-%s');" \
       "return t ? t.dataset.status + '/' + " \
       "t.querySelector('.pill.status').textContent + '/' + " \
       "t.querySelector('b.circuit').textContent : null;})()"
FETCHES = "performance.getEntriesByType('resource').filter(function(e){" \
          "return /\\/health\\/integration$/.test(e.name);}).length"


# A tile's fields by their labels (the same in every version of the
# page), the header badge beside them.
FIELDS = "(function(){var t=document.getElementById('tile-%s');" \
         "if(!t)return null;var r={status:t.dataset.status," \
         "overall:document.getElementById('overall').textContent};" \
         "t.querySelectorAll('.kv span').forEach(function(s){" \
         "r[s.textContent]=s.nextSibling.textContent;});return r;})()"


def live_chain(b, tmp):
    """vigil-sim and vigild: a fault injected by POST /_sim/flip reaches
    flip's status, last check and error rate and the header badge through
    the event stream alone (no /health/integration fetch, no reload)."""
    sim = v = None
    try:
        sim = ta.Sim(tmp, ["good:openai:sk-dash-good",
                           "flip:deepseek:sk-dash-flip"])
        v = ta.Vigil("dash")
        v.write_conf([{"name": n, "kind": k, "base_url": sim.base(n),
                       "key": "sk-dash-" + n}
                      for n, k in (("good", "openai"), ("flip", "deepseek"))],
                     [], "250ms", "200ms")
        v.start(["good", "flip"])

        def settled():
            try:
                return v.api("/health/integration")["status"] == "healthy"
            except (OSError, ValueError, KeyError):
                return False
        api.result("live: good and flip settle healthy",
                   ta.wait_for(settled, 20, 0.2))
        b.call("Page.navigate", url="http://127.0.0.1:%d/" % v.port)
        b.wait_js("document.getElementById('live').textContent", "live")
        got = b.wait_js("(function(){var f=%s;return f&&f.status+'/'+"
                        "f.overall;})()" % (FIELDS % "flip"),
                        "healthy/healthy")
        before = b.js(FIELDS % "flip")
        api.result("live: flip's tile healthy, last check ok, badge healthy",
                   got == "healthy/healthy" and
                   before["last check"].startswith("ok"), before)
        b.js("window.vigilTestMark = 43")
        nfetch = b.js(FETCHES)
        t0 = time.monotonic()
        sim.fault("flip", {"status": 500})
        done = "(function(){var f=%s;return f.status==='unhealthy'&&" \
               "f.overall==='unhealthy'&&" \
               "f['last check'].indexOf('http_5xx')===0&&" \
               "f['error rate (5m)']!=='0.0%%';})()" % (FIELDS % "flip")
        b.wait_js(done, True, timeout=8)
        dt = time.monotonic() - t0
        after = b.js(FIELDS % "flip")
        quiet = b.js(FETCHES) == nfetch and \
            b.js("window.vigilTestMark") == 43
        detail = (before, after, "%.2f s" % dt)
        api.result("live: flip's tile status unhealthy from the events",
                   after["status"] == "unhealthy" and quiet, detail)
        api.result("live: flip's last check follows the events (http_5xx)",
                   after["last check"].startswith("http_5xx") and quiet,
                   detail)
        api.result("live: flip's error rate follows the events",
                   after["error rate (5m)"] != "0.0%" and quiet, detail)
        api.result("live: the header badge follows the events (unhealthy)",
                   after["overall"] == "unhealthy" and quiet, detail)
        api.result("live: all within 8 s, no refresh, no reload (%.2f s)"
                   % dt, dt < 8 and quiet, detail)
    finally:
        if v is not None:
            v.cleanup()
        if sim is not None:
            sim.stop()


def change_live(b, seg, cmd, name, want):
    """Run a segfill command and wait for tile name to read want; True
    when it did with no /health/integration fetch and no reload."""
    before = b.js(FETCHES)
    seg.cmd(cmd)
    got = b.wait_js(TILE % name, want, timeout=10)
    after = b.js(FETCHES)
    return (got == want and after == before and
            b.js("window.vigilTestMark") == 42), (got, before, after)


def main():
    shot = None
    if len(sys.argv) == 3 and sys.argv[1] == "--screenshot":
        shot = sys.argv[2]
    elif len(sys.argv) != 1:
        print("usage: test_dashboard.py [--screenshot FILE]",
              file=sys.stderr)
        return 2
    exe = next((shutil.which(x) for x in BROWSERS if shutil.which(x)),
               None)
    if exe is None:
        print("not ok - dashboard: no chromium (make deps-test installs "
              "it: apt-get install chromium)")
        return 1
    shm = "/vigil-test-dash-%d" % os.getpid()
    seg = srv = b = None
    try:
        seg = api.Segfill(shm)
        srv = api.Server(shm)
        b = Browser(exe)
        base = "http://127.0.0.1:%d/" % srv.port
        b.call("Page.enable")
        # The page also re-fetches everything every 10 s; switch its
        # timers off so that only the event stream can change a tile.
        b.call("Page.addScriptToEvaluateOnNewDocument",
               source="window.setInterval = function () { return 0; };")
        b.call("Page.navigate", url=base)
        got = b.wait_js(TILE % "openai", "healthy/healthy/closed")
        api.result("tile openai shows healthy/closed from the segment",
                   got == "healthy/healthy/closed", got)
        got = b.wait_js(TILE % "google", "unhealthy/unhealthy/open")
        api.result("tile google shows unhealthy/open from the segment",
                   got == "unhealthy/unhealthy/open", got)
        got = b.wait_js("document.getElementById('live').textContent",
                        "live")
        api.result("event stream connected", got == "live", got)
        n = b.js("document.querySelectorAll('#tiles .tile').length")
        api.result("one tile per provider", n == 6, n)
        b.js("window.vigilTestMark = 42")

        ok, got = change_live(b, seg, "status openai unhealthy", "openai",
                              "unhealthy/unhealthy/closed")
        api.result("tile openai turns unhealthy without a reload", ok, got)
        ok, got = change_live(b, seg, "circuit openai open", "openai",
                              "unhealthy/unhealthy/open")
        api.result("tile openai shows the circuit open without a reload",
                   ok, got)
        ok, got = change_live(b, seg, "status openai healthy", "openai",
                              "healthy/healthy/open")
        api.result("tile openai back to healthy without a reload", ok, got)
        seg.cmd("circuit openai closed")
        nalerts = b.js("document.querySelectorAll('#alertlist li').length")
        seg.cmd("alert deepseek latency critical")
        got = b.wait_js("(function(){var l=document.querySelector("
                        "'#alertlist li');return l?l.textContent:'';})()"
                        ".indexOf('deepseek  latency  critical') >= 0",
                        True)
        api.result("a new alert is listed live", got is True and
                   b.js("window.vigilTestMark") == 42, (nalerts, got))
        tmp = tempfile.mkdtemp(prefix="vigil-dash-live-")
        try:
            live_chain(b, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if shot:
            srv.stop()
            srv = None
            seg.stop()
            seg = None
            # --recent: sparklines have the last 15 minutes.
            seg = Recent(shm + "-shot")
            srv = api.Server(shm + "-shot")
            screenshot(b, "http://127.0.0.1:%d/" % srv.port, seg, shot)
            api.result("screenshot written to %s" % shot,
                       os.path.getsize(shot) > 10000)
    finally:
        if b is not None:
            b.stop()
        if srv is not None:
            srv.stop()
        if seg is not None:
            seg.stop()
    return 1 if api.failures or ta.failures else 0


class Recent(api.Segfill):
    """segfill --recent."""

    def __init__(self, shm):
        self.proc = subprocess.Popen([api.SEGFILL, "--shm", shm, "--recent"],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready t0="):
            raise RuntimeError("segfill: " + line)
        self.t0 = int(line.split("=")[1])


def screenshot(b, url, seg, path):
    """A 1280x900 PNG of the dashboard, with a live alert and a change."""
    b.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
           deviceScaleFactor=1, mobile=False)
    b.call("Page.navigate", url=url)
    b.wait_js("document.querySelectorAll('#tiles svg polyline').length", 6)
    b.wait_js("document.getElementById('live').textContent", "live")
    seg.cmd("status deepseek degraded")
    seg.cmd("alert deepseek latency warning")
    b.wait_js(TILE % "deepseek", "degraded/degraded/closed")
    time.sleep(0.3)
    r = b.call("Page.captureScreenshot", format="png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(r["data"]))


if __name__ == "__main__":
    sys.exit(main())
