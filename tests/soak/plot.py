#!/usr/bin/python3
"""plot.py CSV PNG - the soak's RSS and descriptors over time, with
gnuplot (Debian package gnuplot-nox: its png terminal, libgd).

Two panels: resident set (MiB) of vigild, the aggregator, vigil-api, the
largest prober and vigil-sim; open descriptors of the same.
"""
import os
import shutil
import subprocess
import sys
import tempfile

SERIES = [("vigild", "vigild"), ("aggregator", "vigil-aggregator"),
          ("api", "vigil-api"), ("prober_max", "largest prober"),
          ("sim", "vigil-sim")]


def main():
    if len(sys.argv) != 3:
        print("usage: plot.py CSV PNG", file=sys.stderr)
        return 2
    csv, png = sys.argv[1], sys.argv[2]
    if shutil.which("gnuplot") is None:
        print("plot.py: gnuplot is not installed "
              "(apt-get install gnuplot-nox)", file=sys.stderr)
        return 1
    with open(csv) as f:
        cols = f.readline().strip().split(",")

    def col(name):
        return cols.index(name) + 1 if name in cols else None

    t = col("t_s")
    rss, fds = [], []
    for key, title in SERIES:
        c = col(key + "_rss_kb")
        if c:
            rss.append("'%s' using ($%d/60):($%d/1024) with linespoints "
                       "title '%s'" % (csv, t, c, title))
        c = col(key + "_fds")
        if c:
            fds.append("'%s' using ($%d/60):%d with linespoints "
                       "title '%s'" % (csv, t, c, title))
    script = "\n".join([
        "set terminal png size 1000,800",
        "set output '%s'" % png,
        "set datafile separator ','",
        "set datafile missing ''",
        "set key autotitle columnhead",
        "set key outside right",
        "set grid",
        "set multiplot layout 2,1 title 'vigil soak: %s'" %
        os.path.basename(csv),
        "set ylabel 'RSS (MiB)'",
        "set yrange [0:*]",
        "plot " + ", ".join(rss),
        "set xlabel 'minutes'",
        "set ylabel 'open descriptors'",
        "plot " + ", ".join(fds),
        "unset multiplot",
    ]) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".gp", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        r = subprocess.run(["gnuplot", path], capture_output=True,
                           text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        print("plot.py: gnuplot failed: %s" % r.stderr.strip(),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
