"""pings.py - what bench_latency.sh and bench_relay_fair.sh read from
ping(8)'s output: the round-trip times, and a percentile of them."""
import re


def pings(path):
    """Round-trip times (ms) of every reply in one ping(8) output file."""
    with open(path) as f:
        return [float(m) for m in re.findall(r"time=([0-9.]+) ms", f.read())]


def pct(v, q):
    """The q-quantile (0..1) of v by rank, nan when there is none."""
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]
