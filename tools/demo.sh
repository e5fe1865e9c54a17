#!/bin/sh
# tools/demo.sh - the demo behind `make run` (which builds first).
#
# Starts vigil-sim on 127.0.0.1:9480 with six fake providers (google slow
# with a latency tail, qwen flaky with 20% 503s, the rest healthy), each
# with its fake public status page, and a canary for the vantage
# self-check; writes their fake keys under /tmp/vigil-demo (mode 0600),
# then runs vigild with examples/demo.conf in the foreground.  Ctrl-C stops vigild (orderly:
# children, segment, socket) and then the simulator, by pid.
#
# Environment: VIGIL_BUILD (default build).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${VIGIL_BUILD:-$top/build}
case $B in /*) ;; *) B=$top/$B ;; esac
RUN=/tmp/vigil-demo
SIM_PORT=9480

for b in vigild vigil-sim vigil-prober; do
	if [ ! -x "$B/$b" ]; then
		echo "demo: $B/$b is missing; run make first" >&2
		exit 1
	fi
done

mkdir -p "$RUN/keys" "$RUN/state"
chmod 755 "$RUN"
chmod 700 "$RUN/keys"
# As root, vigild runs its children as the user vigil (demo.conf leaves
# the default); a missing user is a configuration error, not a fallback
# to nobody.  Create it as the package would, and give it the state
# directory so that the aggregator can save history across runs.
if [ "$(id -u)" = 0 ]; then
	if ! id vigil >/dev/null 2>&1; then
		echo "demo: creating the system user vigil (children run as it)"
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin vigil
	fi
	chown vigil:vigil "$RUN/state"
	chmod 750 "$RUN/state"
fi
(
	umask 077
	printf '%s\n' sk-demo-openai >"$RUN/keys/openai"
	printf '%s\n' sk-ant-demo >"$RUN/keys/anthropic"
	printf '%s\n' AIza-demo-google >"$RUN/keys/google"
	printf '%s\n' sk-demo-deepseek >"$RUN/keys/deepseek"
	printf '%s\n' sk-demo-qwen >"$RUN/keys/qwen"
	printf '%s\n' key-demo-cursor >"$RUN/keys/cursor"
)
rm -f "$RUN/sim.json"

"$B/vigil-sim" -p "$SIM_PORT" --port-file "$RUN/sim.json" \
    -P openai:openai:sk-demo-openai \
    -P anthropic:anthropic:sk-ant-demo \
    -P google:google:AIza-demo-google \
    -P deepseek:deepseek:sk-demo-deepseek \
    -P qwen:qwen:sk-demo-qwen \
    -P cursor:cursor:key-demo-cursor \
    -P canary:http \
    -f 'google={"latency_ms":600,"latency_jitter_ms":200,"latency_tail_ms":1500,"tail_prob":0.1}' \
    -f 'qwen={"error_rate":0.2,"error_status":503}' \
    >/dev/null 2>"$RUN/sim.log" &
sim=$!
# Ctrl-C reaches the simulator too (same process group): it may be gone
# already, so its kill and wait may fail, which set -e must not turn into
# make's "Error 1".  Ctrl-C is a normal end (status 0); any other exit
# keeps its status.
stop_sim() {
	kill "$sim" 2>/dev/null || true
	wait "$sim" 2>/dev/null || true
}
trap 'rc=$?; stop_sim; exit $rc' EXIT
trap 'exit 0' INT TERM

i=0
while [ ! -s "$RUN/sim.json" ]; do
	if ! kill -0 "$sim" 2>/dev/null || [ $i -ge 50 ]; then
		echo "demo: vigil-sim did not start (port $SIM_PORT busy?):" >&2
		cat "$RUN/sim.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done

S=http://127.0.0.1:$SIM_PORT
cat <<MSG
vigil demo (vantage "demo"): six simulated providers on 127.0.0.1:$SIM_PORT
(google slow, qwen flaky), each with a fake status page, and a canary
  dashboard     http://127.0.0.1:9470/
  JSON          curl -s http://127.0.0.1:9470/health/integration
  metrics       curl -s http://127.0.0.1:9470/metrics
  control       $RUN/control.sock (vigilctl --socket $RUN/control.sock status)
Try:
  an outage     curl -s -XPOST $S/_sim/openai -d '{"status":500}'
                its status page admits it ~30 s later (indicator, incident,
                agrees, vigil's lead); curl -s -XDELETE $S/_sim/openai ends it
  its page      curl -s $S/_status/openai/api/v2/summary.json
  an incident   a second provider down within 2 minutes: one incident alert
                names both, their alerts carry its number
  ours          for n in canary openai anthropic google deepseek qwen cursor; do
                  curl -s -XPOST $S/_sim/\$n -d '{"hang":true}'; done
                all time out: the vantage says the failures are ours, the
                providers unknown/network, no outage alert; XDELETE ends it
  traffic       $B/examples/router -s /vigil-demo -n 600 -r 10 \\
                  deepseek=$S/deepseek=sk-demo-deepseek
                a minute of requests, each reported: probe/traffic samples,
                and the probes step aside while traffic flows
Ctrl-C stops everything.
MSG
"$B/vigild" -c "$top/examples/demo.conf" || true
