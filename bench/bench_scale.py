#!/usr/bin/python3
"""bench_scale.py - vigil with 6, 100 and 1,000 providers on one machine.

    VIGIL_BUILD=build /usr/bin/python3 bench/bench_scale.py \
        [--providers 6,100,1000] [--minutes 2] [--interval 10s] \
        [--https [--ca file|capath|bundle]] [--json FILE]

For each size: one vigil-sim serving every provider (kind http, on the
sim's main port), one vigild with max_providers sized to fit, every
provider at the same interval (10 s by default, so allow_fast_probes is
not needed).  It measures

  start-up   from exec of vigild to every prober running (pid in its
             directory slot) and to every provider's first sample;
  memory     PSS (/proc/PID/smaps_rollup) of each prober (median, max)
             and of vigil in total (vigild and every child);
  CPU        the aggregator's and vigil-api's CPU time
             (/proc/PID/schedstat, else utime+stime) over the
             measured run (after start-up), in % of one core; the
             probers' CPU per check (all probers' CPU / all checks);
  lateness   from the samples' monotonic start times in the segment
             (build/tests/tools/segdump): a check starts at most
             interval * 1.05 (the scheduler's jitter) after the previous
             one ended; lateness is how much later than that it started.
             p99 and max over every provider; and the samples each
             provider got against the configured rate;
  API        /health/integration latency over a kept-alive connection,
             one request a second for the whole run (p50, p99, max).

--https serves every provider over TLS (a throwaway CA and a
certificate for IP 127.0.0.1, made with the openssl CLI, as
bench/bench_prober.py does): vigil-sim's own TLS when it has
--tls-cert, else bench_prober.py's Python TLS server; --ca says where the
providers' trust comes from (bench_prober.py --help).

Everything started here is stopped by pid, even on failure.  Figures are
absolute (this is a capacity measurement, not a comparison); the
acceptance limits of issue 9 are printed beside them.
"""
import argparse
import http.client
import json
import os
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("VIGIL_BUILD", "build")

import harness  # noqa: E402  (the shared harness)
import bench_prober as bp  # noqa: E402  (certificates, the TLS server)
from benchlib import cpu_s, parse_dur, pct, rollup_kb  # noqa: E402

JITTER = 0.05			# prober/sched.h SCHED_JITTER_PCT


def pss_kb(pid):
    return rollup_kb(pid)[0]


def cpu_ticks(pid):
    """CPU seconds of pid, 0 if it is gone."""
    return cpu_s(pid) or 0


def cmdline(pid):
    """argv of pid as a list of str ([] if it is gone)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def roles(vigild_pid):
    """{"aggregator": pid, "api": pid, "spawner": pid, "probers": [pids]}
    (the spawner is "vigil-prober --spawner"; a prober it forked shows
    "vigil-prober NAME" like a fork+exec'd one)"""
    out = {"aggregator": 0, "api": 0, "spawner": 0, "probers": []}
    for k in harness.children_of(vigild_pid):
        argv = cmdline(k) + [""]
        c = os.path.basename(argv[0])
        if c.startswith("vigil-aggregator"):
            out["aggregator"] = k
        elif c.startswith("vigil-api"):
            out["api"] = k
        elif c.startswith("vigil-prober") and argv[1] == "--spawner":
            out["spawner"] = k
        elif c.startswith("vigil-prober"):
            out["probers"].append(k)
    return out


def limits_note(n):
    """What could stop n probers: fds, pids, /dev/shm."""
    notes = []
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        nproc, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        notes.append("RLIMIT_NOFILE %d, RLIMIT_NPROC %s" %
                     (soft, "unlimited" if nproc < 0 else nproc))
    except (ImportError, ValueError):
        pass
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            notes.append("pid_max %s" % f.read().strip())
        st = os.statvfs("/dev/shm")
        notes.append("/dev/shm free %d MB" %
                     (st.f_bavail * st.f_frsize // (1 << 20)))
    except OSError:
        pass
    return ", ".join(notes)


class Api:
    """/health/integration over one kept-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path="/health/integration"):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
        t0 = time.perf_counter()
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return None, None
        return (time.perf_counter() - t0) * 1000.0, (r.status, len(body))


def run_size(n, minutes, interval, verbose, https=False, ca="file"):
    res = {"providers": n, "https": https}
    h = harness.Harness("scale%d" % n)
    sim = None
    try:
        names = ["p%04d" % i for i in range(n)]
        cert = key = cafile = trust = None
        if https:
            cafile, cert, key = bp.make_certs(h.tmp)
            trust = bp.make_trust(h.tmp, cafile, ca)
        sim = bp.Server(h.tmp, names, https, cert, key, cafile)
        res["server"] = "vigil-sim" if sim.native else "python-tls"
        provs = [{"name": nm, "kind": "http", "base_url": sim.base(nm),
                  "extra": ["ca_file = %s" % trust] if trust else []}
                 for nm in names]
        ival = "%dms" % int(interval * 1000)
        extra = "max_providers = %d\nsample_capacity = 1024" % max(n, 8)
        if interval < 10:
            extra += "\nallow_fast_probes = yes"
        h.write_conf(provs, extra=extra, interval=ival,
                     timeout="%dms" % int(min(interval / 2, 5) * 1000))
        t0 = time.monotonic()
        h.start()
        names = [p["name"] for p in provs]
        started = harness.wait_for(lambda: h.all_up(names), 120, 0.1)
        t_up = time.monotonic() - t0
        if not started:
            r = roles(h.proc.pid)
            raise RuntimeError(
                "only %d of %d probers started in 120 s (%s); vigild log "
                "tail: %s" % (len(r["probers"]), n, limits_note(n),
                              h.logtext()[-1500:]))

        def all_sampled():
            ps = h.providers(0)
            return len(ps) == n and all(p["head"] > 0 for p in ps.values())
        sampled = harness.wait_for(all_sampled, 60, 0.1)
        t_first = time.monotonic() - t0
        res["startup_all_running_s"] = round(t_up, 3)
        res["startup_all_sampled_s"] = round(t_first, 3) if sampled \
            else None

        r = roles(h.proc.pid)
        res["probers_running"] = len(r["probers"])
        api = Api(h.listen_port)
        # The measured run starts now.
        m0 = time.monotonic()
        c0 = {p: cpu_ticks(p) for p in [r["aggregator"], r["api"],
                                         h.proc.pid] + r["probers"]}
        d0 = h.providers(0)
        heads0 = {k: v["head"] for k, v in d0.items()}
        lat = []
        errors = 0
        end = m0 + minutes * 60.0
        while time.monotonic() < end:
            ms, st = api.get()
            if ms is None or st[0] != 200:
                errors += 1
            else:
                lat.append(ms)
            time.sleep(max(0.0, 1.0 - (ms or 0) / 1000.0))
        wall = time.monotonic() - m0
        c1 = {p: cpu_ticks(p) for p in c0}
        mem = {p: pss_kb(p) for p in [h.proc.pid, r["aggregator"],
                                      r["api"], r["spawner"]] +
               r["probers"] if p}
        ring = max(16, int(minutes * 60 / interval) + 8)
        d1 = h.dump(min(1024, ring))
        # Lateness and rate from the samples of the measured run.
        late, counts, checks = [], [], 0
        for p in d1["providers"]:
            h0 = heads0.get(p["name"], 0)
            got = p["head"] - h0
            counts.append(got)
            checks += got
            # Only checks of the measured run (start-up excluded):
            # sample mono_ns and time.monotonic() are both
            # CLOCK_MONOTONIC.
            ss = [s for s in p["samples"] if s["mono_ns"] >= m0 * 1e9]
            for a, b in zip(ss, ss[1:]):
                gap = (b["mono_ns"] - a["mono_ns"]) / 1e6
                allowed = a["latency_ms"] + interval * 1000 * (1 + JITTER)
                late.append(max(0.0, gap - allowed))
        expect = wall / interval
        agg = r["aggregator"]
        res.update({
            "minutes": round(wall / 60.0, 2),
            "interval_s": interval,
            "pss_prober_median_kb": int(pct([mem[p] for p in r["probers"]],
                                            50)),
            "pss_prober_max_kb": max(mem[p] for p in r["probers"]),
            "pss_aggregator_kb": mem[agg],
            "pss_api_kb": mem[r["api"]],
            "pss_vigild_kb": mem[h.proc.pid],
            "pss_spawner_kb": mem.get(r["spawner"], 0),
            "pss_total_kb": sum(mem.values()),
            "cpu_aggregator_pct": round(100.0 * (c1[agg] - c0[agg]) /
                                        wall, 2),
            "cpu_api_pct": round(100.0 * (c1[r["api"]] - c0[r["api"]]) /
                                 wall, 2),
            "cpu_vigild_pct": round(100.0 * (c1[h.proc.pid] -
                                             c0[h.proc.pid]) / wall, 2),
            "cpu_per_check_us": round(1e6 * sum(c1[p] - c0[p]
                                                for p in r["probers"]) /
                                      max(1, checks), 1),
            "cpu_prober_pct": round(100.0 * sum(c1[p] - c0[p]
                                                for p in r["probers"]) /
                                    max(1, len(r["probers"])) / wall, 3),
            "checks": checks,
            "samples_per_provider_min": min(counts),
            "samples_per_provider_expected": round(expect, 1),
            "lateness_p50_ms": round(pct(late, 50), 2),
            "lateness_p99_ms": round(pct(late, 99), 2),
            "lateness_max_ms": round(max(late) if late else 0, 2),
            "api_requests": len(lat),
            "api_errors": errors,
            "api_p50_ms": round(pct(lat, 50), 2),
            "api_p99_ms": round(pct(lat, 99), 2),
            "api_max_ms": round(max(lat) if lat else 0, 2),
        })
        lost = sum(p.get("lost", 0) for p in d1["providers"])
        res["samples_lost"] = lost
    finally:
        h.stop()
        if sim is not None:
            sim.stop()
    if verbose:
        print(json.dumps(res, indent=1), file=sys.stderr)
    return res


ROWS = [
    ("start-up: every prober running", "startup_all_running_s", "s", ""),
    ("start-up: every first sample", "startup_all_sampled_s", "s", ""),
    ("PSS per prober (median)", "pss_prober_median_kb", "kB", "<= 1536"),
    ("PSS per prober (max)", "pss_prober_max_kb", "kB", ""),
    ("PSS aggregator", "pss_aggregator_kb", "kB", ""),
    ("PSS vigil-api", "pss_api_kb", "kB", ""),
    ("PSS spawner", "pss_spawner_kb", "kB", ""),
    ("PSS total", "pss_total_kb", "kB", "6: <= 20480"),
    ("CPU aggregator", "cpu_aggregator_pct", "% core", "< 10"),
    ("CPU vigil-api", "cpu_api_pct", "% core", ""),
    ("CPU per prober (mean)", "cpu_prober_pct", "% core", ""),
    ("CPU per check (probers, incl. idle)", "cpu_per_check_us", "us",
     "<= 100"),
    ("samples/provider (min)", "samples_per_provider_min", "", ""),
    ("samples/provider expected", "samples_per_provider_expected", "", ""),
    ("samples lost", "samples_lost", "", "0"),
    ("lateness p50", "lateness_p50_ms", "ms", ""),
    ("lateness p99", "lateness_p99_ms", "ms", "< 100"),
    ("lateness max", "lateness_max_ms", "ms", ""),
    ("/health/integration p50", "api_p50_ms", "ms", ""),
    ("/health/integration p99", "api_p99_ms", "ms", "< 50"),
    ("/health/integration max", "api_max_ms", "ms", ""),
    ("/health/integration errors", "api_errors", "", "0"),
]


def table(results):
    lines = []
    head = "| figure | " + " | ".join("%d providers" % r["providers"]
                                       for r in results) + " | limit |"
    lines.append(head)
    lines.append("|---|" + "---:|" * len(results) + "---|")
    for label, key, unit, limit in ROWS:
        cells = []
        for r in results:
            v = r.get(key)
            if isinstance(v, float) and v != v:
                v = None	# NaN: too few samples in the run
            cells.append("-" if v is None else
                         ("%s %s" % (v, unit)).strip())
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), limit))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--providers", default="6,100,1000")
    ap.add_argument("--minutes", type=float, default=2.0,
                    help="measured run per size (acceptance: 10)")
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--https", action="store_true",
                    help="providers over TLS")
    ap.add_argument("--ca", choices=("file", "bundle", "capath"),
                    default="file", help="with --https: the providers' "
                    "trust (bench_prober.py)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    interval = parse_dur(a.interval)
    results = []
    failed = 0
    for n in [int(x) for x in a.providers.split(",") if x]:
        print("bench_scale: %d providers, %.1f min at %gs%s ..." %
              (n, a.minutes, interval, " over HTTPS (ca %s)" % a.ca
               if a.https else ""), file=sys.stderr)
        try:
            results.append(run_size(n, a.minutes, interval, a.verbose,
                                    a.https, a.ca))
        except Exception as e:  # report and go on with the next size
            failed += 1
            print("bench_scale: %d providers FAILED: %s" % (n, e))
            results.append({"providers": n, "error": str(e)})
    ok = [r for r in results if "error" not in r]
    print(table(ok))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": results, "minutes": a.minutes,
                       "interval_s": interval}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
