#!/usr/bin/python3
"""test_alertmanager.py - many vigils on a real Prometheus and Alertmanager.

Issue 19's fourth acceptance point.  Three vigild, vantages "east",
"west" and "south", each probing providers p1 and p2 on ports of their
own in one vigil-sim (so that a provider can be down from one place
only; the sim's `down` closes a port: connection refused); east also
has a canary.  A real Prometheus (Debian's prometheus) scrapes the three
every second with the shipped packaging/prometheus/vigil.rules.yml,
unchanged; a real Alertmanager (Debian's prometheus-alertmanager) runs
the shipped packaging/prometheus/alertmanager.yml, its timings shortened
and its receivers pointed at a webhook receiver this test runs:

  - p1 down at west only: Prometheus counts one vantage, no notification;
  - p1 down at south too: exactly one notification, to on-call;
  - east's canary and providers refuse: east's own vantage self-check
    says "ours" and VigilVantageOurs is delivered; p2 down at west and
    south fires VigilProviderDownVantages in Prometheus, Alertmanager
    holds it (inhibited), nothing is delivered; when east's network is
    back its vantage alert resolves and p2's notification goes out.

Skipped, with the reason, only when prometheus or prometheus-alertmanager
is missing and cannot be installed (make deps-test installs both).

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_alertmanager.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Receiver, Sim, Vigil, free_port, guarded, ok,  # noqa
                     stop_process, wait_for)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RULES = os.path.join(TOP, "packaging", "prometheus", "vigil.rules.yml")
AMCONF = os.path.join(TOP, "packaging", "prometheus", "alertmanager.yml")
# Time for a state to travel scrape (1 s) + evaluation (1 s) + the
# Alertmanager's group_wait (1 s), with room: used only to show that
# something did NOT happen.
SETTLE_S = 6
VANTAGES = ("east", "west", "south")


def need(cmd, pkg):
    """The command's path, installing its package (make deps-test's way)
    when it is missing and we may; None when it cannot be had."""
    path = shutil.which(cmd) or (os.path.exists("/usr/bin/" + cmd) and
                                 "/usr/bin/" + cmd)
    if path:
        return path
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", pkg],
                       env=dict(os.environ,
                                DEBIAN_FRONTEND="noninteractive"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which(cmd) or (os.path.exists("/usr/bin/" + cmd) and
                                 "/usr/bin/" + cmd) or None


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


class Stack:
    def __init__(self, tmp, prom, am, targets, rcv):
        self.tmp = tmp
        self.pport = free_port()
        self.aport = free_port()
        # The shipped Alertmanager config with test timings and our
        # receiver; routes and inhibit rules as shipped.
        with open(AMCONF) as f:
            conf = f.read()
        conf = re.sub(r"group_wait: \S+", "group_wait: 1s", conf)
        conf = re.sub(r"group_interval: \S+", "group_interval: 1s", conf)
        conf = re.sub(r"repeat_interval: \S+", "repeat_interval: 1h", conf)
        conf = re.sub(r"url: \S+", "url: " + rcv.url(), conf)
        self.amconf = os.path.join(tmp, "alertmanager.yml")
        with open(self.amconf, "w") as f:
            f.write(conf)
        pconf = os.path.join(tmp, "prometheus.yml")
        with open(pconf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n  - %s\n"
                    "alerting:\n  alertmanagers:\n    - static_configs:\n"
                    "        - targets: ['127.0.0.1:%d']\n"
                    "scrape_configs:\n  - job_name: vigil\n"
                    "    static_configs:\n      - targets: [%s]\n" %
                    (RULES, self.aport,
                     ", ".join("'127.0.0.1:%d'" % p for p in targets)))
        self.alog = open(os.path.join(tmp, "alertmanager.log"), "w")
        self.am = subprocess.Popen(
            [am, "--config.file=" + self.amconf,
             "--storage.path=" + os.path.join(tmp, "am"),
             "--web.listen-address=127.0.0.1:%d" % self.aport,
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=self.alog, stderr=subprocess.STDOUT)
        self.plog = open(os.path.join(tmp, "prometheus.log"), "w")
        self.prom = subprocess.Popen(
            [prom, "--config.file=" + pconf,
             "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.pport,
             "--log.level=warn"],
            stdout=self.plog, stderr=subprocess.STDOUT)

    def query(self, q):
        try:
            return get_json("http://127.0.0.1:%d/api/v1/query?%s" % (
                self.pport, urllib.parse.urlencode({"query": q})))[
                    "data"]["result"]
        except (OSError, ValueError, KeyError):
            return None

    def value(self, q):
        r = self.query(q)
        return float(r[0]["value"][1]) if r else None

    def prom_alerts(self):
        try:
            return get_json("http://127.0.0.1:%d/api/v1/alerts" %
                            self.pport)["data"]["alerts"]
        except (OSError, ValueError, KeyError):
            return []

    def am_alerts(self):
        try:
            return get_json("http://127.0.0.1:%d/api/v2/alerts" %
                            self.aport)
        except (OSError, ValueError):
            return []

    def stop(self):
        stop_process(self.prom)
        stop_process(self.am)
        self.plog.close()
        self.alog.close()


def notified(rcv, alertname, provider=None, status="firing"):
    """The webhook bodies that carry such an alert."""
    out = []
    for _, o in rcv.bodies():
        for a in o.get("alerts", []):
            lb = a.get("labels", {})
            if lb.get("alertname") == alertname and \
                    a.get("status") == status and \
                    (provider is None or lb.get("provider") == provider):
                out.append(o)
                break
    return out


def healthy(v, names):
    try:
        ps = v.integration()
        return all(ps.get(n, {}).get("usable") is True for n in names)
    except Exception:
        return False


def vantage(v):
    try:
        return v.api("/health/integration")["vantage"]["state"]
    except Exception:
        return None


def main():
    prom = need("prometheus", "prometheus")
    am = need("prometheus-alertmanager", "prometheus-alertmanager")
    if prom is None or am is None:
        print("ok - alertmanager # SKIP %s not installed and cannot be "
              "installed here (make deps-test)" %
              ("prometheus" if prom is None else "prometheus-alertmanager"))
        return 0
    tmp = tempfile.mkdtemp(prefix="vigil-am-")
    rcv = Receiver()
    rcv.start()
    vs = {n: Vigil("am" + n[0]) for n in VANTAGES}
    sim = stack = None
    try:
        with guarded("many vigils on Prometheus and Alertmanager"):
            # One sim, every (vantage, provider) on a port of its own.
            sim = Sim(tmp, ["%s-%s:openai:sk-%s:0" % (n, p, p)
                            for n in VANTAGES for p in ("p1", "p2")] +
                      ["canary:http::0"])

            def fault(name, prov, obj):
                sim.fault("%s-%s" % (name, prov), obj)
            for name, v in vs.items():
                extra = ["vantage = %s" % name, "circuit_cooldown = 1s",
                         "down_after = 2"]
                if name == "east":
                    extra.append("canary = %s/health" %
                                 sim.own_url("canary"))
                v.write_conf([{"name": p, "kind": "openai", "key": "sk-" + p,
                               "base_url": sim.own_url("%s-%s" % (name, p))}
                              for p in ("p1", "p2")],
                             interval="300ms", timeout="250ms", extra=extra)
                v.start(["p1", "p2"])
            ok(wait_for(lambda: all(healthy(v, ["p1", "p2"])
                                    for v in vs.values()), 20),
               "three vigils: p1 and p2 usable")
            r = subprocess.run(["amtool", "check-config", AMCONF],
                               capture_output=True, text=True)
            ok(r.returncode == 0, "amtool check-config: the shipped "
               "example", r.stdout + r.stderr)

            stack = Stack(tmp, prom, am, [v.port for v in vs.values()], rcv)

            def views():
                return sorted(s["metric"].get("vantage") for s in
                              stack.query('vigil:provider_unusable:vantage'
                                          '{provider="p1"} == 0') or [])
            ok(wait_for(lambda: views() == sorted(VANTAGES), 30, 0.2),
               "Prometheus scrapes the three; the recording rules name "
               "each vantage's view of p1 by its vigil_build_info", views())

            def count(p):
                return stack.value('vigil:provider_unusable:vantages'
                                   '{provider="%s"}' % p)

            # 1. Down at one vantage only.
            fault("west", "p1", {"down": True})
            ok(wait_for(lambda: count("p1") == 1, 20, 0.2),
               "p1 down at west: one vantage sees it")
            time.sleep(SETTLE_S)
            ok(count("p1") == 1 and
               not notified(rcv, "VigilProviderDownVantages") and
               not [a for a in stack.prom_alerts()
                    if a["labels"].get("alertname") ==
                    "VigilProviderDownVantages"],
               "down at one vantage: no alert, no notification",
               rcv.bodies())

            # 2. Down at two.
            fault("south", "p1", {"down": True})
            ok(wait_for(lambda: notified(rcv, "VigilProviderDownVantages",
                                         "p1"), 30, 0.2),
               "p1 down at west and south: notified")

            # 3. East's network fails: its self-check, its vantage alert.
            # (Overlaps the settling time of 2.)
            for n in ("canary", "east-p1", "east-p2"):
                sim.fault(n, {"down": True})
            ok(wait_for(lambda: vantage(vs["east"]) == "ours", 30, 0.2),
               "east's canary and providers refuse: its vantage is ours")
            ok(wait_for(lambda: notified(rcv, "VigilVantageOurs"), 30, 0.2),
               "east's vantage alert is delivered")
            vo = notified(rcv, "VigilVantageOurs")
            ok(vo and vo[0].get("receiver") == "vigil-network" and
               vo[0]["alerts"][0]["labels"].get("vantage") == "east",
               "to the network receiver, naming east", vo)
            got = notified(rcv, "VigilProviderDownVantages", "p1")
            ok(len(got) == 1 and got[0].get("receiver") == "vigil-oncall"
               and got[0]["alerts"][0]["labels"].get("severity") ==
               "critical",
               "p1: exactly one notification, to on-call", got)
            fault("west", "p2", {"down": True})
            fault("south", "p2", {"down": True})

            def p2_held():
                for a in stack.am_alerts():
                    lb = a.get("labels", {})
                    if lb.get("alertname") == \
                            "VigilProviderDownVantages" and \
                            lb.get("provider") == "p2":
                        st = a.get("status", {})
                        return st.get("state") == "suppressed" and \
                            st.get("inhibitedBy")
                return False
            ok(wait_for(p2_held, 30, 0.2), "p2 down at west and south: "
               "the alert reaches Alertmanager and is inhibited",
               [a.get("labels") for a in stack.am_alerts()])
            time.sleep(SETTLE_S)
            ok(not notified(rcv, "VigilProviderDownVantages", "p2"),
               "inhibited: no notification for p2",
               notified(rcv, "VigilProviderDownVantages", "p2"))
            # The control: east's network is back, its vantage alert
            # resolves, the page goes out.
            for n in ("canary", "east-p1", "east-p2"):
                sim.fault(n, {"clear": True})
            ok(wait_for(lambda: notified(rcv, "VigilProviderDownVantages",
                                         "p2"), 40, 0.2),
               "east's vantage alert resolved: p2 is notified")
            # Another receiver's group, on its own timer: it may come
            # after p2's page.
            ok(wait_for(lambda: notified(rcv, "VigilVantageOurs",
                                         status="resolved"), 40, 0.2),
               "and the vantage alert's resolution was delivered")
            ok(len(notified(rcv, "VigilProviderDownVantages", "p1")) == 1,
               "still exactly one notification for p1")
    finally:
        if stack is not None:
            stack.stop()
        for v in vs.values():
            v.cleanup()
        if sim is not None:
            sim.stop()
        rcv.stop()
        if not harness.failures:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# logs kept in %s" % tmp)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
