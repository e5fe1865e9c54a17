#!/usr/bin/python3
"""test_alertmanager.py - many vigils on a real Prometheus and Alertmanager.

Issue 19's fourth acceptance point.  Two vigild, vantages "east" and
"west", each probing its own vigil-sim (so that a provider can be down
from one place only); a real Prometheus (Debian's prometheus) scraping
both every second with the shipped packaging/prometheus/vigil.rules.yml,
unchanged; a real Alertmanager (Debian's prometheus-alertmanager) with
the shipped packaging/prometheus/alertmanager.yml, its timings shortened
and its receivers pointed at a webhook receiver this test runs:

  - p1 down at east only: Prometheus counts one vantage, no notification;
  - p1 down at west too: exactly one notification, to on-call;
  - a vantage alert (VigilVantageOurs) inhibits the provider alerts: p2
    down at both vantages fires in Prometheus, Alertmanager holds it
    (inhibited), nothing is delivered; when the vantage alert resolves,
    p2's notification goes out.

The vantage alert comes from a third scrape target that this test serves
(vigil_build_info{vantage="lab"}, vigil_vantage_ours), the series a
vigil's self-check exports: the rule and the inhibition are the shipped
ones, whatever makes a vigil say "ours".

Skipped, with the reason, only when prometheus or prometheus-alertmanager
is missing and cannot be installed (make deps-test installs both).

Run: VIGIL_BUILD=build /usr/bin/python3 tests/e2e/test_alertmanager.py
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
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


class Lab:
    """The third target: a vantage whose self-check can say "ours"."""

    def __init__(self):
        self.port = free_port()
        self.ours = 0
        lab = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = ("vigil_build_info{version=\"test\",vantage=\"lab\"} 1\n"
                        "vigil_vantage_ours %d\n" % lab.ours).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", self.port), H)
        self.thr = threading.Thread(target=self.srv.serve_forever,
                                    kwargs={"poll_interval": 0.05},
                                    daemon=True)
        self.thr.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.thr.join(5)


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
    lab = Lab()
    vs = {"east": Vigil("ame"), "west": Vigil("amw")}
    stack = None
    try:
        with guarded("many vigils on Prometheus and Alertmanager"):
            for name, v in vs.items():
                v.sim = Sim(v.tmp, ["p1:openai:sk-1", "p2:openai:sk-2"])
                v.write_conf([{"name": n, "kind": "openai", "key": k,
                               "base_url": v.sim.base(n)}
                              for n, k in (("p1", "sk-1"), ("p2", "sk-2"))],
                             interval="300ms", timeout="250ms",
                             extra=["vantage = %s" % name,
                                    "circuit_cooldown = 1s"])
                v.start(["p1", "p2"])
            ok(wait_for(lambda: all(healthy(v, ["p1", "p2"])
                                    for v in vs.values()), 20),
               "both vigils: p1 and p2 usable")
            r = subprocess.run(["amtool", "check-config", AMCONF],
                               capture_output=True, text=True)
            ok(r.returncode == 0, "amtool check-config: the shipped "
               "example", r.stdout + r.stderr)

            stack = Stack(tmp, prom, am, [vs["east"].port, vs["west"].port,
                                          lab.port], rcv)
            ok(wait_for(lambda: stack.value(
                'count(up{job="vigil"} == 1)') == 3, 30, 0.2),
               "Prometheus scrapes east, west and lab")
            def views():
                return sorted(s["metric"].get("vantage") for s in
                              stack.query('vigil:provider_unusable:vantage'
                                          '{provider="p1"} == 0') or [])
            ok(wait_for(lambda: views() == ["east", "west"], 15, 0.2),
               "the recording rules run: each vantage's view of p1, named "
               "by its vigil_build_info, usable", views())
            ok(stack.value('vigil:provider_unusable:vantages'
                           '{provider="p1"}') == 0,
               "p1 unusable from 0 vantages")

            # 1. Down at one vantage only.
            vs["east"].sim.fault("p1", {"down": True})
            ok(wait_for(lambda: stack.value(
                'vigil:provider_unusable:vantages{provider="p1"}') == 1, 20,
                0.2), "p1 down at east: one vantage sees it")
            time.sleep(SETTLE_S)
            ok(stack.value('vigil:provider_unusable:vantages'
                           '{provider="p1"}') == 1 and
               not notified(rcv, "VigilProviderDownVantages") and
               not [a for a in stack.prom_alerts()
                    if a["labels"].get("alertname") ==
                    "VigilProviderDownVantages"],
               "down at one vantage: no alert, no notification",
               rcv.bodies())

            # 2. Down at both.
            vs["west"].sim.fault("p1", {"down": True})
            ok(wait_for(lambda: notified(rcv, "VigilProviderDownVantages",
                                         "p1"), 30, 0.2),
               "p1 down at both vantages: notified")
            time.sleep(SETTLE_S)
            got = notified(rcv, "VigilProviderDownVantages", "p1")
            ok(len(got) == 1 and got[0].get("receiver") == "vigil-oncall"
               and got[0]["alerts"][0]["labels"].get("severity") ==
               "critical",
               "exactly one notification, to on-call", got)
            harness.note("p1: %d notification(s), %s" % (
                len(got), [a["labels"] for o in got for a in o["alerts"]]))

            # 3. A vantage alert holds the provider alerts.
            lab.ours = 1
            ok(wait_for(lambda: notified(rcv, "VigilVantageOurs"), 30, 0.2),
               "lab's network fails: the vantage alert is delivered")
            vo = notified(rcv, "VigilVantageOurs")
            ok(vo and vo[0].get("receiver") == "vigil-network" and
               vo[0]["alerts"][0]["labels"].get("vantage") == "lab",
               "the vantage alert goes to the network receiver", vo)
            vs["east"].sim.fault("p2", {"down": True})
            vs["west"].sim.fault("p2", {"down": True})

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
            ok(wait_for(p2_held, 30, 0.2), "p2 down at both: the alert "
               "reaches Alertmanager and is inhibited",
               [a.get("labels") for a in stack.am_alerts()])
            time.sleep(SETTLE_S)
            ok(not notified(rcv, "VigilProviderDownVantages", "p2"),
               "inhibited: no notification for p2",
               notified(rcv, "VigilProviderDownVantages", "p2"))
            # The control: the vantage alert resolves, the page goes out.
            lab.ours = 0
            ok(wait_for(lambda: notified(rcv, "VigilProviderDownVantages",
                                         "p2"), 30, 0.2),
               "the vantage alert resolved: p2 is notified")
            ok(len(notified(rcv, "VigilProviderDownVantages", "p1")) == 1,
               "still exactly one notification for p1")
    finally:
        if stack is not None:
            stack.stop()
        for v in vs.values():
            v.cleanup()
        lab.stop()
        rcv.stop()
        if not harness.failures:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# logs kept in %s" % tmp)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
