#!/usr/bin/python3
"""test_statuspage.py - the providers' own status pages beside vigil's view.

Issue 19's third acceptance point through vigild, vigil-statuspage and
vigil-sim's fake Statuspage pages (/_status/NAME/api/v2/summary.json):

  - a provider goes down; its page admits an incident status_page_delay_s
    later (30 s, as the issue says).  Meanwhile the API says vigil and
    the page disagree; once the page switches it shows the incident,
    agrees, and the lead time from vigil's first alert to the incident's
    created_at (about 30 s);
  - a status_page event on the stream, the /metrics families, the
    per-provider view, vigil_build_info's vantage;
  - a page that cannot be read shows its error and leaves the provider's
    own status alone;
  - a reload that drops a page restarts vigil-statuspage only.
What does not need the incident (the unreadable page, the reload, the
metrics of the other pages) runs during the 30 s wait.

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_statuspage.py
"""
import calendar
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import SSE, Sim, Vigil, guarded, ok, wait_for  # noqa: E402

DELAY_S = 30


def prov(v, name):
    try:
        return v.integration().get(name, {})
    except Exception:
        return {}


def page(v, name):
    return prov(v, name).get("status_page") or {}


def metrics(v):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % v.port,
                                    timeout=5) as r:
            return r.read().decode()
    except Exception:
        return ""


def main():
    v = Vigil("sp")
    sse = None
    with guarded("status pages", v):
        v.sim = Sim(v.tmp, ["down1:openai:sk-1", "calm:openai:sk-2",
                            "blind:openai:sk-3"])
        sp = "http://127.0.0.1:%d/_status/%%s/api/v2/summary.json" % \
            v.sim.port
        provs = []
        for n, key, url in (("down1", "sk-1", sp % "down1"),
                            ("calm", "sk-2", sp % "calm"),
                            # No such page: a 404.
                            ("blind", "sk-3", sp % "nobody")):
            provs.append({"name": n, "kind": "openai", "key": key,
                          "base_url": v.sim.base(n),
                          "extra": ["status_page = %s" % url,
                                    "status_page_interval = 1s"]})
        v.write_conf(provs, interval="300ms", timeout="250ms",
                     extra=["alert_cooldown = 0", "vantage = site-a",
                            "circuit_cooldown = 1s",
                            "circuit_cooldown_max = 2s"])
        v.start([p["name"] for p in provs])
        ok(wait_for(lambda: all(prov(v, n).get("status") == "healthy"
                                for n in ("down1", "calm", "blind")), 20),
           "every provider healthy first")
        ok(wait_for(lambda: page(v, "down1").get("indicator") == "none" and
                    page(v, "calm").get("indicator") == "none", 15),
           "the pages are read: indicator none", page(v, "down1"))
        p = page(v, "down1")
        ok(p.get("agrees") is True and p.get("incidents_open") == 0 and
           p.get("incident") is None and p.get("error") is None and
           p.get("fetched_at") and p.get("lead_s") is None,
           "healthy and none: they agree, no incident, no lead time", p)

        sse = SSE(v.port)
        sse.events(0, 1)

        # The outage: vigil sees it first, the page DELAY_S later.
        v.sim.fault("down1", {"down": True, "status_page_delay_s": DELAY_S})
        t_down = time.time()
        ok(wait_for(lambda: prov(v, "down1").get("usable") is False and
                    page(v, "down1").get("indicator") == "none",
                    DELAY_S / 2), "vigil says unusable while the page says "
           "none")
        p = page(v, "down1")
        ok(p.get("agrees") is False, "they disagree until the page admits "
           "it", p)

        # During the wait: a page that cannot be read is said, and
        # nothing more.
        ok(wait_for(lambda: page(v, "blind").get("error") == "http:404",
                    10), "an unreadable page shows its error",
           page(v, "blind"))
        b = prov(v, "blind")
        ok(b.get("status") == "healthy" and b.get("usable") is True and
           b["status_page"].get("indicator") is None and
           b["status_page"].get("agrees") is None,
           "an unreadable page changes nothing of the provider's status",
           b)
        text = metrics(v)
        ok('vigil_status_page_indicator{provider="calm"} 0' in text and
           'vigil_status_page_up{provider="blind"} 0' in text and
           'vigil_status_page_indicator{provider="blind"}' not in text,
           "/metrics: indicator, up",
           [ln for ln in text.splitlines() if "status_page" in ln
            and not ln.startswith("#")])
        ok(re.search(r'^vigil_build_info\{version="[^"]*",'
                     r'vantage="site-a"\} 1$', text, re.M) is not None,
           "vigil_build_info carries the vantage")

        # A reload that drops calm's page: vigil-statuspage restarts,
        # calm's block is cleared, the others keep theirs.
        for p in provs:
            if p["name"] == "calm":
                p["extra"] = []
        v.write_conf(provs, interval="300ms", timeout="250ms",
                     extra=["alert_cooldown = 0", "vantage = site-a",
                            "circuit_cooldown = 1s",
                            "circuit_cooldown_max = 2s"])
        r = v.call("reload")
        ok(r.get("ok"), "reload", r)
        ok(wait_for(lambda: "calm" in v.integration() and
                    v.integration()["calm"].get("status_page") is None and
                    page(v, "down1").get("fetched_at") and
                    page(v, "blind").get("error") == "http:404", 15),
           "reload without calm's status_page: null for calm, down1's "
           "and blind's still read", prov(v, "calm").get("status_page"))
        ok("status pages changed: restarting vigil-statuspage" in
           v.logtext(), "vigild restarted vigil-statuspage for it")
        ok("provider calm changed" not in v.logtext(),
           "and not calm's prober: it never sees its status page",
           [ln for ln in v.logtext().splitlines() if "calm" in ln][-3:])
        harness.note("checks during the wait took %.1f s of its %d s" %
                     (time.time() - t_down, DELAY_S))

        # The page admits it.
        ok(wait_for(lambda: page(v, "down1").get("indicator") == "major",
                    DELAY_S + 15), "the page switches to major",
           page(v, "down1"))
        ok(time.time() - t_down >= DELAY_S - 0.5,
           "not before status_page_delay_s", time.time() - t_down)
        p = page(v, "down1")
        inc = p.get("incident") or {}
        ok(p.get("incidents_open") == 1 and
           inc.get("name") == "Elevated error rates on down1 API" and
           inc.get("status") == "investigating" and
           inc.get("impact") == "major" and inc.get("created_at"),
           "the incident: name, status, impact, created_at", p)
        ok(p.get("agrees") is True, "unusable and major: they agree", p)
        ok(prov(v, "down1").get("usable") is False,
           "both views: vigil's (unusable) beside the page's (major)",
           prov(v, "down1"))
        alerts = [a for a in v.api("/health/integration/alerts?provider="
                                   "down1")["alerts"]
                  if a["kind"] in ("down", "circuit_open", "error_rate")
                  and a["level"] != "resolved"]
        lead = p.get("lead_s")
        # created_at is shown to the second; vigil's first alert comes a
        # few checks after the fault, the incident DELAY_S after it.
        ok(alerts and isinstance(lead, (int, float)) and
           abs(harness_ts(inc["created_at"]) - alerts[0]["unix"] - lead)
           < 1.0 and DELAY_S - 10 < lead <= DELAY_S,
           "lead_s: first outage alert to the incident's created_at, "
           "about %d s (vigil first)" % DELAY_S, (lead, alerts[:1], inc))
        harness.note("status page lead time: %.3f s (page delay %d s)" %
                     (lead or 0, DELAY_S))
        d = v.detail("down1")
        ok((d.get("status_page") or {}).get("indicator") == "major",
           "the provider view shows the page too", d.get("status_page"))

        def sp_events():
            return [json.loads(e["data"]) for e in sse.parse()
                    if e.get("event") == "status_page"]

        def major_event():
            sse.events(len(sse.parse()) + 1, 0.5)
            return any(e.get("indicator") == "major" for e in sp_events())

        wait_for(major_event, 10)
        evs = sp_events()
        ok(any(e.get("provider") == "down1" and
               e.get("indicator") == "major" and
               e.get("incidents_open") == 1 and
               (e.get("incident") or {}).get("created_at") == inc.get(
                   "created_at") for e in evs),
           "a status_page event on the stream", evs)

        text = metrics(v)
        ok('vigil_status_page_indicator{provider="down1"} 2' in text and
           'vigil_status_page_incidents{provider="down1"} 1' in text,
           "/metrics: down1's indicator and incidents",
           [ln for ln in text.splitlines() if "status_page" in ln
            and not ln.startswith("#")])

        # Back up: the page resolves, vigil recovers, they agree.  Its
        # circuit's cool-down is capped at 2 s, but its 1-minute window
        # is mostly failures after 30 s down: unhealthy (errors) until
        # they slide out, up to a minute.
        v.sim.fault("down1", {"down": False})
        ok(wait_for(lambda: page(v, "down1").get("indicator") == "none" and
                    prov(v, "down1").get("usable") is True and
                    page(v, "down1").get("agrees") is True, 75),
           "recovered: none, usable, agree",
           (page(v, "down1"), {k: prov(v, "down1").get(k) for k in
                               ("status", "reason", "usable", "circuit",
                                "last_check")}))
    if sse is not None:
        sse.s.close()
    v.cleanup()
    return 1 if harness.failures else 0


def harness_ts(s):
    """RFC 3339 with milliseconds and Z to Unix seconds."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


if __name__ == "__main__":
    sys.exit(main())
