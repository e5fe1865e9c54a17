#!/bin/sh
# test_soak_short.sh - the soak of docs/reliability.md, shortened for
# make test (tests/run.sh suite "soak", once, in the default build):
# 90 s, 10 providers at 1 s with changing faults, prober kills, SSE
# clients and wrk load on vigil-api.  It fails when a sample is lost
# outside an injected fault, a process the soak did not kill restarts, or
# a process's memory or descriptors grow over the second half.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
B=${VIGIL_BUILD:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
VIGIL_BUILD=$B /usr/bin/python3 tests/soak/soak.py --minutes 1.5 \
    --providers 10 --every 5 --csv "$out/soak.csv" >"$out/log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"result": "pass"' "$out/log"; then
	echo "ok - soak (90 s, 10 providers): $(grep -o \
	    '"samples_lost_outside_faults": [0-9]*' "$out/log"), $(grep -o \
	    '"prober_kills": [0-9]*' "$out/log")"
else
	sed 's/^/# /' "$out/log" | tail -40
	echo "not ok - soak (90 s, 10 providers): status $rc"
	exit 1
fi
