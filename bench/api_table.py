#!/usr/bin/python3
"""api_table.py - the tables of bench/bench_api.sh from its raw results.

    /usr/bin/python3 bench/api_table.py RESULTS [--json FILE]

RESULTS has one line per wrk run: providers case bytes server kind round
req/s p99_ms cpu_us, where server is api, plain, nginx or id (vigil-api
asked without gzip in a gzip case), kind c32 (or the connections used),
c1 (one kept-alive connection) or cold (the first request after a
change), case a path with "+gzip" when the request accepted gzip, and
cpu_us the server's CPU time per request.  Prints the medians over the
rounds with their spread ((max - min) / median), the ratios vigil-api /
plain evhttp and vigil-api / nginx, the p99 over one connection, gzip's
bytes and rate against vigil-api's own plain ones, a warning when
nginx's rate varied by more than 20% between rounds (the machine was
busy: the ratios of that case are not to be trusted), and issue 20's
limits beside this run's figures.  --json writes the same for
bench/report.py.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import median, spread  # noqa: E402

NGINX_SPREAD_WARN = 0.20


def load(path):
    runs = {}
    order = []
    with open(path) as f:
        for ln in f:
            p = ln.split()
            if len(p) == 8:
                p.append("0")
            if len(p) != 9:
                continue
            key = (int(p[0]), p[1])
            if key not in runs:
                runs[key] = {"bytes": int(p[2])}
                order.append(key)
            kind = p[4] if p[4] in ("c1", "cold") else "cN"
            runs[key].setdefault((p[3], kind), []).append(
                (float(p[6]), float(p[7]), float(p[8])))
    return order, runs


def summarise(order, runs):
    cases = []
    for key in order:
        r = runs[key]
        c = {"providers": key[0], "case": key[1], "bytes": r["bytes"]}
        for s in ("api", "plain", "nginx", "id"):
            if (s, "cN") not in r and s == "id":
                continue
            v = [x[0] for x in r.get((s, "cN"), [])]
            c[s] = {"rps": median(v), "spread": spread(v), "runs": v,
                    "p99_ms": median([x[1] for x in r.get((s, "cN"), [])]),
                    "cpu_us": median([x[2] for x in r.get((s, "cN"), [])])}
            c1 = [x[1] for x in r.get((s, "c1"), [])]
            if c1:
                c[s]["p99_c1_ms"] = median(c1)
                c[s]["p99_c1_runs"] = c1
            cold = [x[1] for x in r.get((s, "cold"), [])]
            if cold:
                c[s]["cold_ms"] = median(cold)
                c[s]["cold_max_ms"] = max(cold)
        c["api_plain"] = c["api"]["rps"] / c["plain"]["rps"] \
            if c["plain"]["rps"] else 0.0
        c["api_nginx"] = c["api"]["rps"] / c["nginx"]["rps"] \
            if c["nginx"]["rps"] else 0.0
        # The same ratios from CPU time per request: what the rates would
        # say if nothing else had run on the server's CPU.
        c["cpu_plain"] = c["plain"]["cpu_us"] / c["api"]["cpu_us"] \
            if c["api"]["cpu_us"] else 0.0
        c["cpu_nginx"] = c["nginx"]["cpu_us"] / c["api"]["cpu_us"] \
            if c["api"]["cpu_us"] else 0.0
        cases.append(c)
    return cases


def find(cases, n, case):
    for c in cases:
        if c["providers"] == n and c["case"] == case:
            return c
    return None


def acceptance(cases):
    """(limit, this run, met) of issue 20's acceptance."""
    rows = []

    def row(what, got, limit, met):
        rows.append({"limit": what, "got": got, "bound": limit,
                     "met": bool(met)})
    for n in (6, 1000):
        for p in ("/health/integration", "/metrics"):
            c = find(cases, n, p)
            if c is None:
                continue
            row("%s, %d providers: req/s vs plain evhttp" % (p, n),
                "%.2fx (by CPU per request %.2fx)" % (c["api_plain"],
                                                      c["cpu_plain"]),
                ">= 0.95x", c["api_plain"] >= 0.95)
            if n == 6:
                row("%s, 6 providers: req/s vs nginx" % p,
                    "%.2fx (by CPU per request %.2fx)" % (
                        c["api_nginx"], c["cpu_nginx"]), ">= 0.6x",
                    c["api_nginx"] >= 0.6)
            g = find(cases, n, p + "+gzip")
            if g is not None:
                base = g["id"] if "id" in g else c["api"]
                x = g["api"]["rps"] / base["rps"] if base["rps"] else 0.0
                row("%s, %d providers: gzip req/s vs its own plain req/s"
                    % (p, n), "%.1fx" % x, ">= 3x", x >= 3)
    c = find(cases, 1000, "/metrics")
    g = find(cases, 1000, "/metrics+gzip")
    if c and g:
        f = g["bytes"] / float(c["bytes"])
        row("/metrics, 1,000 providers, gzip: bytes on the wire",
            "%d of %d (%.3f)" % (g["bytes"], c["bytes"], f), "<= 0.1",
            f <= 0.1)
        p = g["api"].get("p99_c1_ms")
        if p is not None:
            row("/metrics, 1,000 providers, gzip: p99 over one kept-alive "
                "connection", "%.2f ms (nginx, same bytes: %.2f ms)" % (
                    p, g["nginx"].get("p99_c1_ms", float("nan"))),
                "<= 3 ms", p <= 3)
    return rows


def warnings(cases):
    """nginx serves a file the same way every time: when its own rate
    varies, the machine did.  The other two servers' spreads are named
    too, as notes, since noise can land on their turns alone."""
    out = []
    for c in cases:
        for s, what in (("nginx", "WARNING: nginx's"), ("api", "note: "
                        "vigil-api's"), ("plain", "note: plain evhttp's"),
                        ("id", "note: vigil-api's (without gzip)")):
            if s not in c or c[s]["spread"] <= NGINX_SPREAD_WARN:
                continue
            out.append("%s rate varied by %.0f%% between rounds for %d %s "
                       "(%s req/s)%s" % (
                           what, 100 * c[s]["spread"], c["providers"],
                           c["case"], " ".join("%.0f" % v for v in
                                               c[s]["runs"]),
                           ": the machine was not quiet, this case's "
                           "ratios are not to be trusted" if s == "nginx"
                           else ""))
    return out


def pct(x):
    return "%3.0f%%" % (100 * x)


def show(cases, rows, warn):
    print("median req/s of the rounds (spread = (max - min) / median); "
          "plain = bench_plainhttp, the same response from memory")
    print("%-5s %-25s %8s %9s %5s %9s %5s %9s %5s %9s %9s" % (
        "prov", "case", "bytes", "vigil-api", "", "plain", "", "nginx", "",
        "api/plain", "api/nginx"))
    for c in cases:
        print("%-5d %-25s %8d %9.0f %5s %9.0f %5s %9.0f %5s %9.2f %9.2f" % (
            c["providers"], c["case"], c["bytes"], c["api"]["rps"],
            pct(c["api"]["spread"]), c["plain"]["rps"],
            pct(c["plain"]["spread"]), c["nginx"]["rps"],
            pct(c["nginx"]["spread"]), c["api_plain"], c["api_nginx"]))
    print()
    print("server CPU time per request, us (median of the rounds): what "
          "the rates would say on a quiet machine; cpu ratio = the other "
          "server's / vigil-api's")
    print("%-5s %-25s %9s %9s %9s %11s %11s" % (
        "prov", "case", "vigil-api", "plain", "nginx", "plain/api",
        "nginx/api"))
    for c in cases:
        print("%-5d %-25s %9.2f %9.2f %9.2f %11.2f %11.2f" % (
            c["providers"], c["case"], c["api"]["cpu_us"],
            c["plain"]["cpu_us"], c["nginx"]["cpu_us"], c["cpu_plain"],
            c["cpu_nginx"]))
    gz = [c for c in cases if "id" in c]
    if gz:
        print()
        print("gzip against vigil-api's own plain answer, in the same "
              "rounds (median req/s)")
        for c in gz:
            print("%-5d %-25s %9.0f gzip %9.0f plain  %5.1fx" % (
                c["providers"], c["case"], c["api"]["rps"],
                c["id"]["rps"], c["api"]["rps"] / c["id"]["rps"]
                if c["id"]["rps"] else 0.0))
    print()
    print("p99 in ms: under %s connections (median of the rounds), and "
          "over one kept-alive connection (wrk -c1, a Prometheus scrape)" %
          "the same")
    print("%-5s %-25s %9s %9s %9s %11s %11s" % (
        "prov", "case", "api", "plain", "nginx", "api c1", "nginx c1"))
    for c in cases:
        print("%-5d %-25s %9.3f %9.3f %9.3f %11.3f %11.3f" % (
            c["providers"], c["case"], c["api"]["p99_ms"],
            c["plain"]["p99_ms"], c["nginx"]["p99_ms"],
            c["api"].get("p99_c1_ms", float("nan")),
            c["nginx"].get("p99_c1_ms", float("nan"))))
    colds = [c for c in cases if "cold_ms" in c["api"]]
    if colds:
        print()
        print("the first request after a change (render, gzip if asked, "
              "transfer; curl on a new connection), ms")
        print("%-5s %-25s %9s %9s" % ("prov", "case", "median", "max"))
        for c in colds:
            print("%-5d %-25s %9.3f %9.3f" % (
                c["providers"], c["case"], c["api"]["cold_ms"],
                c["api"]["cold_max_ms"]))
    print()
    print("issue 20's limits, this run:")
    for r in rows:
        print("  %-70s %-38s %-9s %s" % (r["limit"], r["got"], r["bound"],
                                         "yes" if r["met"] else "NO"))
    for w in warn:
        print(w)
    if not [w for w in warn if w.startswith("WARNING")]:
        print("nginx's rate stayed within %.0f%% between rounds in every "
              "case" % (100 * NGINX_SPREAD_WARN))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--json")
    a = ap.parse_args()
    order, runs = load(a.results)
    cases = summarise(order, runs)
    rows = acceptance(cases)
    warn = warnings(cases)
    show(cases, rows, warn)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cases": cases, "acceptance": rows,
                       "warnings": warn}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
