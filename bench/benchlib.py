"""benchlib.py - small helpers the Python benches share: durations,
percentiles, medians and spreads, and what /proc says of a process (CPU
time, PSS)."""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_dur(s):
    """"250ms", "10s", "2m" or a bare number of seconds -> seconds."""
    s = s.strip()
    for suf, mul in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if s.endswith(suf):
            return float(s[:-len(suf)]) * mul
    return float(s)


def pct(vals, p):
    """The p-th percentile (nearest rank) of vals; NaN if empty."""
    v = sorted(vals)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def mean(vals):
    return sum(vals) / len(vals) if vals else float("nan")


def median(vals):
    """The median of vals (the mean of the middle two for an even count);
    0.0 if empty."""
    v = sorted(vals)
    if not v:
        return 0.0
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2.0


def spread(vals):
    """(max - min) / median of vals: how far apart the rounds of one
    measurement landed; 0.0 if empty or the median is 0."""
    m = median(vals)
    return (max(vals) - min(vals)) / m if vals and m else 0.0


def cpu_s(pid):
    """CPU time of pid in seconds: /proc/PID/schedstat (ns, exact), else
    utime+stime of /proc/PID/stat (clock ticks); None if it is gone."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().split(")")[-1].split()
        return (int(st[11]) + int(st[12])) / float(CLK_TCK)
    except (OSError, IndexError, ValueError):
        return None


def rollup_kb(pid):
    """(PSS, private) kB of pid from /proc/PID/smaps_rollup; 0s if gone."""
    pss = priv = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Private_"):
                    priv += int(line.split()[1])
    except OSError:
        pass
    return pss, priv
