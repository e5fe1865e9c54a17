#!/usr/bin/python3
"""The dashboard at / in headless Chromium, driven over the DevTools
protocol (the stdlib WebSocket client in harness.py).

Starts segfill, vigil-api and `chromium --headless=new` on free ports,
loads the dashboard, and asserts that a provider tile shows the status in
the segment and what a router acts on (usable, reason, a countdown to
usable_at, needs_human, rate-limit headroom) and a row per model (status,
TTFT p95, error rate, usable), and that it follows status, circuit,
those changes, a model's and a new list of models, and a new alert
without a reload: the page's window object survives, its 10 s
refresh timer is switched off before it loads, and no /health/integration
fetch happens between the change and the tile update, so only the
EventSource can have changed the tile.  With vigil-sim and vigild: the
vantage line and its canary, a status page that admits flip's outage
(indicator, incident, agrees, who was first) from the event stream, the
probe and traffic samples (reported with tests/tools/vreport), an
incident's number and members in the alert list, and the red banner
while every endpoint hangs (the failures are ours).

    test_dashboard.py [--screenshot FILE]

--screenshot also writes a 1280x900 PNG of the page with realistic data
(segfill --recent --models 3: sparklines over the last 15 minutes, three
models a provider) to FILE.  Without
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
import harness  # noqa: E402  (the shared harness)

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
        self.ws = harness.WS(self.port, path=path, timeout=30)
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
        harness.stop_process(self.proc, 10)
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


# A tile's rate-limit rows: {resource: "remaining/limit|bar classes"}.
HEADROOM = "(function(){var t=document.getElementById('tile-%s');" \
           "if(!t)return null;var r={};" \
           "t.querySelectorAll('.rlval').forEach(function(v){" \
           "r[v.dataset.resource]=v.textContent+'|'+" \
           "v.previousSibling.firstChild.className;});return r;})()"
# The needs-human marker: the tile's data attribute and the badge's text.
HUMAN = "(function(){var t=document.getElementById('tile-%s');" \
        "if(!t)return null;var m=t.querySelector('.human');" \
        "return t.dataset.needsHuman+'/'+(m?m.textContent:'');})()"


# A tile's model rows: ["name|status|TTFT p95|errors|usable"].
MODELS = "(function(){var t=document.getElementById('tile-%s');" \
         "if(!t)return null;var r=[];" \
         "t.querySelectorAll('table.models tr[data-model]')" \
         ".forEach(function(x){r.push([x.dataset.model," \
         "x.querySelector('.mstatus').textContent," \
         "x.querySelector('.mttft').textContent," \
         "x.querySelector('.merr').textContent,x.dataset.usable]" \
         ".join('|'));});return r;})()"
# Before the page loads: openai's models as vigild and the aggregator
# would leave them (segfill's commands).
MODEL_SETUP = ["models openai 50 gpt-4o,o3-mini",
               "model openai gpt-4o healthy none 1 1",
               "mwin openai gpt-4o 420 0.1 10 55.5",
               "mcheck openai gpt-4o ok 12 8",
               "mcheck openai gpt-4o ok 12 8"]


def models_live(b, seg):
    """A row per model from the segment, then a model's status and
    usable, and a longer list, from the event stream alone."""
    got = b.js(MODELS % "openai")
    harness.result("tile openai: a row per model, name, status, TTFT p95 "
                   "and error rate (5m), usable",
                   got == ["gpt-4o|healthy|630 ms|10.0%|1",
                           "o3-mini|unknown|-|-|0"], got)
    f = b.js(FIELDS % "openai")
    harness.result("tile openai: tokens of the day against the budget",
                   f and f.get("tokens today") == "40 / 50", f)
    harness.result("tile google: no models, no rows, no tokens",
                   b.js(MODELS % "google") == [] and
                   "tokens today" not in (b.js(FIELDS % "google") or {}),
                   b.js(FIELDS % "google"))
    nfetch = b.js(FETCHES)
    seg.cmd("model openai gpt-4o degraded slow 1 1")
    want = ["gpt-4o|degraded|630 ms|10.0%|1", "o3-mini|unknown|-|-|0"]
    got = b.wait_js(MODELS % "openai", want, timeout=10)
    harness.result("tile openai: gpt-4o degraded, live",
                   got == want and quiet(b, nfetch), got)
    seg.cmd("model openai gpt-4o unhealthy model_missing 0 0")
    want = ["gpt-4o|unhealthy|630 ms|10.0%|0", "o3-mini|unknown|-|-|0"]
    got = b.wait_js(MODELS % "openai", want, timeout=10)
    struck = b.js("document.querySelector('#tile-openai tr[data-model="
                  "\"gpt-4o\"]').className")
    harness.result("tile openai: gpt-4o missing, not usable, struck "
                   "through, live", got == want and struck == "nouse" and
                   quiet(b, nfetch), (got, struck))
    seg.cmd("models openai 50 gpt-4o,o3-mini,o4-mini")
    got = b.wait_js("%s.length" % (MODELS % "openai"), 3, timeout=10)
    harness.result("tile openai: a third model from a new list, live",
                   got == 3 and b.js(MODELS % "openai")[2] ==
                   "o4-mini|unknown|-|-|0" and quiet(b, nfetch),
                   b.js(MODELS % "openai"))
    seg.cmd("model openai gpt-4o healthy none 1 1")
    b.wait_js(MODELS % "openai" + "[0]", "gpt-4o|healthy|630 ms|10.0%|1")


def quiet(b, nfetch):
    """No /health/integration fetch since nfetch and no reload."""
    return b.js(FETCHES) == nfetch and b.js("window.vigilTestMark") == 42


# A tile's status page: "indicator|incidents|agrees|lead|text", null
# without one.
SPAGE = "(function(){var s=document.querySelector('#tile-%s .sp');" \
        "if(!s)return null;return [s.dataset.indicator,s.dataset.incidents," \
        "s.dataset.agrees,s.dataset.lead,s.textContent].join('|');})()"
# The vantage line: "state|canary=status ...", and the banner's text
# ("" while hidden).
VANTAGE = "(function(){var v=document.getElementById('vantage');" \
          "var r=[v.dataset.state||''];v.querySelectorAll('[data-canary]')" \
          ".forEach(function(c){r.push(c.dataset.canary+'='+" \
          "c.dataset.status);});var o=document.getElementById('ours');" \
          "return r.join('|')+'|'+(o.hidden?'':o.textContent);})()"
# The alert list: "text|incident number" per entry, newest first.
ALERTS = "(function(){var r=[];document.querySelectorAll('#alertlist li')" \
         ".forEach(function(l){r.push(l.textContent+'|'+" \
         "(l.dataset.incident||''));});return r;})()"


def wait_refreshed(b, expr, want, timeout=15):
    """Poll expr for want, the page re-reading /health/integration in
    between (what its 10 s timer would do): for what raises no event."""
    got = None
    deadline = time.time() + timeout
    while got != want and time.time() < deadline:
        b.js("refresh()")
        got = b.wait_js(expr, want, timeout=1)
    return got


def vreport(shm, *args):
    """tests/tools/vreport: report traffic as a local service would."""
    r = subprocess.run([harness.binpath("tests/tools/vreport"), shm] +
                       [str(a) for a in args], capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def status_page_live(b, port):
    """flip's status page admits its outage a second late: the tile's
    page block follows the status_page event (no /health/integration
    fetch)."""
    nfetch = b.js(FETCHES)
    done = "(function(){var s=%s;return !!s&&/^major\\|1\\|1\\|-?[0-9.]+\\|/" \
           ".test(s);})()" % (SPAGE % "flip")
    got = b.wait_js(done, True, timeout=15)
    sp = b.js(SPAGE % "flip")
    harness.result("live: flip's status page admits the outage: major, one "
                   "incident, agrees with vigil, a lead, from the events",
                   got is True and b.js(FETCHES) == nfetch and
                   "Elevated error rates on flip API" in sp and
                   ("first by" in sp or "at once" in sp), sp)
    harness.result("live: good has no status page, no page block",
                   b.js(SPAGE % "good") is None, b.js(SPAGE % "good"))


def traffic_live(b, v):
    """Traffic reported for good shows beside its probes (after a
    refresh: sample counts raise no event)."""
    rc, out = vreport(v.shm, "send", "good", "ok", 30)
    harness.result("live: vreport reports 30 requests to good", rc == 0, out)
    want = "(function(){var f=%s;return !!f&&" \
           "/^[0-9]+ \\/ 30$/.test(f['probe/traffic (1m)'])&&" \
           "f['traffic err (1m)']==='0.0%%, 1 client';})()" % (FIELDS % "good")
    got = wait_refreshed(b, want, True)
    f = b.js(FIELDS % "good")
    harness.result("live: good's tile shows probe / traffic samples and "
                   "the traffic's errors and clients", got is True, f)
    harness.result("live: flip (no traffic) shows no traffic error row",
                   "traffic err (1m)" not in b.js(FIELDS % "flip") and
                   b.js(FIELDS % "flip")["probe/traffic (1m)"]
                   .endswith(" / 0"), b.js(FIELDS % "flip"))


def incident_live(b, sim):
    """good fails too, within group_window of flip: one incident alert
    naming both, listed with its members; the members' alerts carry its
    number."""
    sim.fault("good", {"status": 500})
    has = "%s.some(function(x){return /\\*  incident  critical/.test(x)&&" \
          "/members: flip, good/.test(x);})" % ALERTS
    got = b.wait_js(has, True, timeout=20)
    als = b.js(ALERTS)
    inc = [x for x in als if "  incident  critical" in x]
    num = inc[0].rsplit("|", 1)[1] if inc else ""
    harness.result("live: an incident alert naming flip and good, with its "
                   "number", got is True and num != "", als)
    members = [x for x in als if x.rsplit("|", 1)[1] == num and
               "  incident  " not in x]
    harness.result("live: the members' alerts carry the incident's number",
                   num != "" and
                   any("  flip  " in x for x in members) and
                   any("  good  " in x for x in members), als)


def ours_live(b, sim):
    """Every endpoint hangs, the canary too: the vantage turns ours and
    the page says so in a banner (a vantage alert refreshes it)."""
    for n in ("canary", "good", "flip"):
        sim.fault(n, {"clear": True, "hang": True})
    got = b.wait_js("%s.indexOf('ours|canary-1=unhealthy|The failures are "
                    "ours')===0" % VANTAGE, True, timeout=30)
    harness.result("live: every endpoint hangs: vantage ours, the canary "
                   "unhealthy, the banner says the failures are ours",
                   got is True, b.js(VANTAGE))


def router_live(b, seg):
    """Reason, countdown, needs_human and headroom from the segment, and
    following it through the event stream alone."""
    f = b.js(FIELDS % "openai")
    harness.result("tile openai: usable, no reason, no countdown",
                   f and f.get("usable") == "yes" and
                   f.get("reason") == "none" and f.get("back in") == "-",
                   f)
    hr = b.js(HEADROOM % "openai")
    harness.result("tile openai: headroom of requests and tokens with bars",
                   hr == {"requests": "450/500|fill",
                          "tokens": "150000/200000|fill"}, hr)
    hr = b.js(HEADROOM % "google")
    harness.result("tile google: no headroom reported, no rows", hr == {},
                   hr)
    got = b.js(HUMAN % "qwen")
    f = b.js(FIELDS % "qwen")
    harness.result("tile qwen: marked as needing a human, reason auth",
                   got == "1/needs a human" and f["reason"] == "auth" and
                   f["usable"] == "no", (got, f))
    harness.result("tile openai: no needs-human marker",
                   b.js(HUMAN % "openai") == "0/", b.js(HUMAN % "openai"))

    nfetch = b.js(FETCHES)
    # Throttled for 4 s: the reason and a countdown, which runs down,
    # and the tile turns usable at usable_at (an event with no write).
    seg.cmd("judge deepseek throttled rate_limited 0 0 4")
    done = "(function(){var f=%s;return f.status==='throttled'&&" \
           "f.reason==='rate_limited'&&f.usable==='no'&&" \
           "/^[0-9.]+ s$/.test(f['back in']);})()" % (FIELDS % "deepseek")
    got = b.wait_js(done, True, timeout=10)
    first = b.js(FIELDS % "deepseek")
    harness.result("tile deepseek: throttled, reason rate_limited, not "
                   "usable, a countdown, live", got is True and
                   quiet(b, nfetch), first)
    t0 = float(first["back in"].split()[0]) if got else 0
    less = b.wait_js("parseFloat(%s['back in']) < %f" %
                     (FIELDS % "deepseek", t0 - 0.5), True, timeout=10)
    harness.result("tile deepseek: the countdown runs down by itself",
                   less is True and quiet(b, nfetch),
                   (first, b.js(FIELDS % "deepseek")))
    back = "(function(){var f=%s;return f.usable==='yes'&&" \
           "f['back in']==='now';})()" % (FIELDS % "deepseek")
    got = b.wait_js(back, True, timeout=15)
    harness.result("tile deepseek: usable at usable_at, from the events",
                   got is True and quiet(b, nfetch),
                   b.js(FIELDS % "deepseek"))

    # Out of credit: the needs-human marker, live.
    seg.cmd("judge deepseek exhausted quota 0 1")
    got = b.wait_js(HUMAN % "deepseek", "1/needs a human", timeout=10)
    f = b.js(FIELDS % "deepseek")
    harness.result("tile deepseek: exhausted, quota, marked as needing a "
                   "human, live", got == "1/needs a human" and
                   f["status"] == "exhausted" and f["reason"] == "quota" and
                   f["back in"] == "-" and quiet(b, nfetch), (got, f))

    # Headroom appears, runs low, runs out, goes.
    seg.cmd("ratelimit deepseek requests 60 3 30")
    got = b.wait_js(HEADROOM % "deepseek", {"requests": "3/60|fill low"},
                    timeout=10)
    harness.result("tile deepseek: requests 3/60 with a low bar, live",
                   got == {"requests": "3/60|fill low"} and
                   quiet(b, nfetch), got)
    seg.cmd("ratelimit deepseek requests 60 0 30")
    got = b.wait_js(HEADROOM % "deepseek", {"requests": "0/60|fill out"},
                    timeout=10)
    harness.result("tile deepseek: requests spent, an empty bar, live",
                   got == {"requests": "0/60|fill out"} and
                   quiet(b, nfetch), got)
    seg.cmd("judge deepseek healthy none 1 0")
    seg.cmd("ratelimit deepseek requests 0 0 0")
    got = b.wait_js("(function(){return %s+'/'+JSON.stringify(%s);})()" %
                    (HUMAN % "deepseek", HEADROOM % "deepseek"), "0//{}",
                    timeout=10)
    harness.result("tile deepseek: healthy again, marker and headroom gone, "
                   "live", got == "0//{}" and quiet(b, nfetch), got)


def live_chain(b, tmp):
    """vigil-sim and vigild: a fault injected by POST /_sim/flip reaches
    flip's status, last check and error rate and the header badge through
    the event stream alone (no /health/integration fetch, no reload)."""
    sim = v = None
    try:
        # flip's fake status page admits an outage 1 s late.
        sim = harness.Sim(tmp, ["good:openai:sk-dash-good",
                                "flip:deepseek:sk-dash-flip",
                                "canary:http"],
                          {"flip": {"status_page_delay_s": 1}})
        page = ["status_page = http://127.0.0.1:%d/_status/flip/api/v2/"
                "summary.json" % sim.port, "status_page_interval = 1s"]
        v = harness.Vigil("dash")
        v.write_conf([{"name": n, "kind": k, "base_url": sim.base(n),
                       "key": "sk-dash-" + n,
                       "extra": ["models = gpt-4o, gpt-4o-mini"]
                       if n == "good" else page}
                      for n, k in (("good", "openai"), ("flip", "deepseek"))],
                     ["canary = %s/health" % sim.base("canary")],
                     "250ms", "200ms")
        v.start(["good", "flip", "canary-1"])

        def settled():
            try:
                return v.api("/health/integration")["status"] == "healthy"
            except (OSError, ValueError, KeyError):
                return False
        harness.result("live: good and flip settle healthy",
                       harness.wait_for(settled, 20, 0.2))
        b.call("Page.navigate", url="http://127.0.0.1:%d/" % v.port)
        # Page.navigate returns before the new document has its header:
        # until then there is no #live to read.
        b.wait_js("(function(){var e=document.getElementById('live');"
                  "return e?e.textContent:null;})()", "live")
        got = b.wait_js("(function(){var f=%s;return f&&f.status+'/'+"
                        "f.overall;})()" % (FIELDS % "flip"),
                        "healthy/healthy")
        before = b.js(FIELDS % "flip")
        harness.result(
            "live: flip's tile healthy, last check ok, badge healthy",
            got == "healthy/healthy" and
            before["last check"].startswith("ok"), before)
        # Before the baseline of fetches below: the canary may have
        # been judged after the page loaded.
        got = wait_refreshed(b, VANTAGE, "ok|canary-1=healthy|")
        harness.result("live: vantage ok, canary-1 healthy, no banner",
                       got == "ok|canary-1=healthy|", got)
        got = b.wait_js("(%s||'').split('|').slice(0,4).join('|')" %
                        (SPAGE % "flip"), "none|0|1|", timeout=10)
        harness.result("live: flip's status page says none and agrees",
                       got == "none|0|1|", b.js(SPAGE % "flip"))
        b.js("window.vigilTestMark = 43")
        # The page's safety net fetches /health/integration every 10 s:
        # start just after one, so that none falls in the 8 s below and
        # every fetch counted there is one the events should have spared.
        nfetch = b.js(FETCHES)
        b.wait_js("%s > %d" % (FETCHES, nfetch), True, timeout=12)
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
        harness.result("live: flip's tile status unhealthy from the events",
                       after["status"] == "unhealthy" and quiet, detail)
        harness.result("live: flip's last check follows the events (http_5xx)",
                       after["last check"].startswith("http_5xx") and quiet,
                       detail)
        harness.result("live: flip's error rate follows the events",
                       after["error rate (5m)"] != "0.0%" and quiet, detail)
        harness.result("live: the header badge follows the events (unhealthy)",
                       after["overall"] == "unhealthy" and quiet, detail)
        harness.result("live: all within 8 s, no refresh, no reload (%.2f s)"
                       % dt, dt < 8 and quiet, detail)
        status_page_live(b, sim.port)
        # good's models, judged from the sim's models list (and the
        # generation checks, if one ran): a row each, healthy; then the
        # sim drops gpt-4o from its list, and the row turns unhealthy
        # and not usable from the events alone.
        names = "(function(){var r=%s;return r&&r.map(function(x){" \
                "var f=x.split('|');return f[0]+'|'+f[1]+'|'+f[4];})" \
                ".join(' ');})()" % (MODELS % "good")
        want = "gpt-4o|healthy|1 gpt-4o-mini|healthy|1"
        got = b.wait_js(names, want, timeout=10)
        harness.result("live: good's models from vigild and the aggregator, "
                       "a healthy row each", got == want, got)
        nfetch = b.js(FETCHES)
        sim.fault("good", {"drop_models": ["gpt-4o"]})
        want = "gpt-4o|unhealthy|0 gpt-4o-mini|healthy|1"
        got = b.wait_js(names, want, timeout=10)
        harness.result("live: a model dropped from the sim's list turns its "
                       "row unhealthy, not usable, from the events",
                       got == want and b.js(FETCHES) == nfetch and
                       b.js("window.vigilTestMark") == 43,
                       (got, b.js(FIELDS % "good")))
        sim.fault("good", {"drop_models": []})
        # Rate limits from the sim's headers, through the prober, the
        # aggregator and a ratelimit event, to good's tile.
        nfetch = b.js(FETCHES)
        sim.fault("good", {"ratelimit": {"requests": 1000,
                                         "window_s": 3600}})
        got = b.wait_js("(function(){var h=%s;return !!(h&&h.requests&&"
                        "/^[0-9]+\\/1000\\|fill$/.test(h.requests));})()"
                        % (HEADROOM % "good"), True, timeout=10)
        harness.result("live: good's tile shows the sim's requests "
                       "headroom from the events",
                       got is True and b.js(FETCHES) == nfetch and
                       b.js("window.vigilTestMark") == 43,
                       b.js(HEADROOM % "good"))
        traffic_live(b, v)
        incident_live(b, sim)
        ours_live(b, sim)
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
        seg = harness.Segfill(shm)
        for c in MODEL_SETUP:
            seg.cmd(c)
        srv = harness.ApiServer(shm)
        b = Browser(exe)
        base = "http://127.0.0.1:%d/" % srv.port
        b.call("Page.enable")
        # The page also re-fetches everything every 10 s; switch its
        # timers off so that only the event stream can change a tile.
        b.call("Page.addScriptToEvaluateOnNewDocument",
               source="window.setInterval = function () { return 0; };")
        b.call("Page.navigate", url=base)
        got = b.wait_js(TILE % "openai", "healthy/healthy/closed")
        harness.result("tile openai shows healthy/closed from the segment",
                       got == "healthy/healthy/closed", got)
        got = b.wait_js(TILE % "google", "unhealthy/unhealthy/open")
        harness.result("tile google shows unhealthy/open from the segment",
                       got == "unhealthy/unhealthy/open", got)
        got = b.wait_js("document.getElementById('live').textContent",
                        "live")
        harness.result("event stream connected", got == "live", got)
        n = b.js("document.querySelectorAll('#tiles .tile').length")
        harness.result("one tile per provider", n == 6, n)
        b.js("window.vigilTestMark = 42")

        ok, got = change_live(b, seg, "status openai unhealthy", "openai",
                              "unhealthy/unhealthy/closed")
        harness.result("tile openai turns unhealthy without a reload", ok, got)
        ok, got = change_live(b, seg, "circuit openai open", "openai",
                              "unhealthy/unhealthy/open")
        harness.result("tile openai shows the circuit open without a reload",
                       ok, got)
        ok, got = change_live(b, seg, "status openai healthy", "openai",
                              "healthy/healthy/open")
        harness.result("tile openai back to healthy without a reload", ok, got)
        seg.cmd("circuit openai closed")
        router_live(b, seg)
        models_live(b, seg)
        nalerts = b.js("document.querySelectorAll('#alertlist li').length")
        seg.cmd("alert deepseek latency critical")
        got = b.wait_js("(function(){var l=document.querySelector("
                        "'#alertlist li');return l?l.textContent:'';})()"
                        ".indexOf('deepseek  latency  critical') >= 0",
                        True)
        harness.result("a new alert is listed live", got is True and
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
            # --recent: sparklines have the last 15 minutes; three
            # models a provider, one slow, one missing (segfill's mfill).
            seg = harness.Segfill(shm + "-shot", ["--recent", "--models",
                                                  "3"])
            srv = harness.ApiServer(shm + "-shot")
            screenshot(b, "http://127.0.0.1:%d/" % srv.port, seg, shot)
            harness.result("screenshot written to %s" % shot,
                           os.path.getsize(shot) > 10000)
    finally:
        if b is not None:
            b.stop()
        if srv is not None:
            srv.stop()
        if seg is not None:
            seg.stop()
    return 1 if harness.failures else 0


def screenshot(b, url, seg, path):
    """A 1280x900 PNG of the dashboard, with a live alert and a change."""
    b.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
           deviceScaleFactor=1, mobile=False)
    b.call("Page.navigate", url=url)
    b.wait_js("document.querySelectorAll('#tiles svg polyline').length", 6)
    b.wait_js("document.getElementById('live').textContent", "live")
    seg.cmd("judge deepseek throttled rate_limited 0 0 42")
    seg.cmd("ratelimit deepseek requests 60 4 42")
    seg.cmd("alert deepseek throttled warning")
    b.wait_js(TILE % "deepseek", "throttled/throttled/closed")
    time.sleep(0.3)
    r = b.call("Page.captureScreenshot", format="png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(r["data"]))


if __name__ == "__main__":
    sys.exit(main())
