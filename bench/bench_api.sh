#!/bin/sh
# bench_api.sh - vigil-api under wrk beside two baselines, pinned to
# cores and alternated over rounds, so that a busy moment of the machine
# cannot pass for a property of one server.
#
#	BUILD=build sh bench/bench_api.sh
#
# For 6 and 1,000 providers (a segment filled by segfill, its beat every
# 50 ms like the aggregator's tick, so that vigil-api renders as often as
# it would in production): /health/integration and /metrics, and at
# 1,000 providers both again with Accept-Encoding: gzip.  Each case is
# served by
#   vigil-api            the server under test;
#   plain evhttp         build/bench/bench_plainhttp: the same response
#                        (vigil-api's headers and body, captured once)
#                        from memory by evbuffer reference, nothing else:
#                        the ceiling of the libevent front;
#   nginx                Debian's, one worker, sendfile, the same bytes
#                        from a file.
# Every server runs on CPU $BENCH_SERVER_CPU (default 0), wrk (-t1) and
# nothing else on CPU $BENCH_CLIENT_CPU (default 1).  Each round measures
# each server once, the order rotating from round to round; the figures
# are the medians of $BENCH_ROUNDS rounds (default 3, at least 3) with
# their spread, (max - min) / median.  When nginx's own rate varies by
# more than 20% between rounds the machine was not quiet, and a warning
# says so.  Then the p99 over one kept-alive connection (wrk -c1) of
# vigil-api and nginx, the bytes on the wire with and without gzip, and
# for /metrics the first request after a change (cold: render and gzip
# included), median of $BENCH_COLD (default 15).
# bench/api_table.py prints the tables (and, with BENCH_API_JSON=FILE,
# writes them for bench/report.py).
#
# BENCH_SECONDS (default 3) per measurement, BENCH_CONNS (default 32).
# Needs wrk, nginx and taskset (apt-get install wrk nginx-light
# util-linux); without wrk or nginx it says so and exits 0.  Everything
# started here is stopped by pid on exit.
set -eu

BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
COLD=${BENCH_COLD:-15}
SCPU=${BENCH_SERVER_CPU:-0}
CCPU=${BENCH_CLIENT_CPU:-1}
SEGFILL=$BUILD/tests/tools/segfill
API=$BUILD/vigil-api
PLAIN=$BUILD/bench/bench_plainhttp
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
TOP=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v wrk >/dev/null 2>&1 || [ ! -x "$NGINX" ]; then
	echo "bench_api: SKIP (needs wrk and nginx: apt-get install wrk" \
	    "nginx-light)"
	exit 0
fi
for f in "$SEGFILL" "$API" "$PLAIN"; do
	[ -x "$f" ] || { echo "bench_api: $f missing (make)" >&2; exit 1; }
done
[ "$ROUNDS" -ge 3 ] || { echo "bench_api: BENCH_ROUNDS >= 3" >&2; exit 2; }
# Pinned when the machine has the two cores; said when it cannot be.
if command -v taskset >/dev/null 2>&1 &&
    taskset -c "$SCPU" true 2>/dev/null &&
    taskset -c "$CCPU" true 2>/dev/null && [ "$SCPU" != "$CCPU" ]; then
	ON_S="taskset -c $SCPU"
	ON_C="taskset -c $CCPU"
	pinning="servers on CPU $SCPU, wrk on CPU $CCPU"
else
	ON_S=""
	ON_C=""
	pinning="NOT pinned (taskset or two CPUs missing): figures are noisy"
fi

tmp=$(mktemp -d /tmp/vigil-bench-api.XXXXXX)
chmod 755 "$tmp"	# nginx workers run as nobody
pids=""
cleanup() {
	exec 3>&- 2>/dev/null || true
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait for FILE to be non-empty (a port file), or give up naming WHAT.
wait_file() {
	tries=0
	until [ -s "$1" ]; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "$2 did not start" >&2; exit 1; }
		sleep 0.1
	done
}

# How busy each CPU was over a second, from /proc/stat: the quiet the
# figures were taken in, printed before and after the run.
cpu_busy() {
	/usr/bin/python3 - <<'EOF'
import time
def snap():
    out = {}
    with open("/proc/stat") as f:
        for ln in f:
            if ln.startswith("cpu") and ln[3].isdigit():
                v = [int(x) for x in ln.split()[1:]]
                out[ln.split()[0]] = (sum(v), v[3] + v[4])
    return out
a = snap()
time.sleep(1)
b = snap()
print(", ".join("%s %.0f%% busy" % (c, 100.0 * (1 - (b[c][1] - a[c][1]) /
                                           max(1, b[c][0] - a[c][0])))
                for c in sorted(b)))
EOF
}

# nginx with its own prefix, config and pid file: not the system service.
mkdir -p "$tmp/www" "$tmp/nginx/logs"
nport=$(free_port)
cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	types { application/json json; text/plain txt; application/gzip gz; }
	server {
		listen 127.0.0.1:$nport;
		root $tmp/www;
	}
}
EOF
$ON_S "$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e \
    "$tmp/nginx/logs/error.log" &
ngxpid=$!
pids="$pids $ngxpid"

# CPU time of PID in ns (/proc/PID/schedstat: time on a CPU, exact).
cpu_ns() {
	cut -d' ' -f1 "/proc/$1/schedstat"
}

# "Requests/sec", the 99% latency (ms) of one wrk run on the client CPU,
# and the server's CPU time per request (us), which another process on
# the machine hardly moves: the figure to trust when the rates are
# noisy.  measure URL CONNECTIONS SECONDS HEADER PID.
measure() {
	c0=$(cpu_ns "$5")
	if [ -n "$4" ]; then
		$ON_C wrk -t1 -c"$2" -d"$3s" --latency -H "$4" "$1" \
		    > "$tmp/wrk.out" 2>&1
	else
		$ON_C wrk -t1 -c"$2" -d"$3s" --latency "$1" > "$tmp/wrk.out" 2>&1
	fi
	c1=$(cpu_ns "$5")
	awk -v cpu=$((c1 - c0)) '
	function ms(v) {
		if (v ~ /us$/) return v * 0.001;
		if (v ~ /ms$/) return v + 0;
		if (v ~ /s$/) return v * 1000;
		return v;
	}
	/^Requests\/sec:/ { rps = $2 }
	/ requests in / { n = $1 }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END {
		if (bad != "") { print "error: non-2xx " bad; exit 1 }
		per = n > 0 ? cpu / 1000 / n : 0
		printf "%.0f %.3f %.3f\n", rps, p99, per
	}' "$tmp/wrk.out"
}

# The words of list $2 rotated left by $1: each round starts with
# another server.
rotate() {
	k=$1
	shift
	set -- $*
	while [ "$k" -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k - 1))
	done
	echo "$@"
}

# A server's URL, request header and pid into u, h and p: api (with
# the case's Accept-Encoding), id (vigil-api without it, in the gzip
# cases: the rate gzip is set against, in the same rounds), plain and
# nginx (its worker).
server() {
	case $1 in
	api)	u=$u_api; h=$hdr; p=$apipid ;;
	id)	u=$u_api; h=""; p=$apipid ;;
	plain)	u=$u_plain; h=""; p=$plainpid ;;
	nginx)	u=$u_nginx; h=""; p=$ngxworker ;;
	esac
}

# The first request after a change: what a Prometheus scrape pays when
# the aggregator has published since the last one (at 1,000 providers
# with samples every tick, that is every scrape): render, gzip when
# asked, and the transfer, on a fresh connection from curl (its
# time_total).  A status flip through segfill makes each change; its
# "ok" comes after its publish.  cold N CASE BYTES URL [HEADER]
cold() {
	k=0
	while [ $k -lt "$COLD" ]; do
		k=$((k + 1))
		oks=$(grep -c '^ok' "$tmp/seg.out" || true)
		[ $((k % 2)) = 0 ] && st=degraded || st=unhealthy
		echo "status anthropic $st" >&3
		tries=0
		until [ "$(grep -c '^ok' "$tmp/seg.out" || true)" -gt "$oks" ]
		do
			tries=$((tries + 1))
			[ $tries -lt 200 ] || { echo "segfill: no ok" >&2; exit 1; }
			sleep 0.01
		done
		t=$($ON_C curl -fsS -o /dev/null -w '%{time_total}' \
		    ${5:+-H "$5"} "$4")
		echo "$1 $2 $3 api cold $k 0 $(awk -v t="$t" \
		    'BEGIN { printf "%.3f", t * 1000 }') 0" >> "$res"
	done
}

ngxworker=""
tries=0
until [ -n "$ngxworker" ]; do	# the worker does the serving
	ngxworker=$(pgrep -P "$ngxpid" | head -1 || true)
	tries=$((tries + 1))
	[ $tries -lt 100 ] || { echo "nginx did not start" >&2; exit 1; }
	[ -n "$ngxworker" ] || sleep 0.1
done
echo "bench_api: $pinning; $ROUNDS rounds of ${SECS}s, $CONNS connections"
echo "bench_api: before the run: $(cpu_busy); load $(cut -d' ' -f1-3 \
    /proc/loadavg)"
res=$tmp/results
: > "$res"
for n in 6 1000; do
	shm=/vigil-bench-api-$$-$n
	rm -f "$tmp/in" "$tmp/port"
	mkfifo "$tmp/in"
	$ON_S "$SEGFILL" --shm "$shm" --providers "$n" --beat-ms 50 \
	    < "$tmp/in" > "$tmp/seg.out" &
	segpid=$!
	exec 3> "$tmp/in"
	tries=0
	until grep -q '^ready' "$tmp/seg.out" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "segfill did not start" >&2; exit 1; }
		sleep 0.1
	done
	$ON_S "$API" --shm "$shm" --listen 127.0.0.1:0 --port-file \
	    "$tmp/port" 2> "$tmp/api.log" &
	apipid=$!
	pids="$pids $apipid $segpid"
	wait_file "$tmp/port" vigil-api
	aport=$(cat "$tmp/port")
	cases="/health/integration /metrics"
	[ "$n" = 1000 ] && cases="$cases /health/integration+gzip /metrics+gzip"
	for c in $cases; do
		path=${c%+gzip}
		hdr=""
		ext=json
		[ "$path" = /metrics ] && ext=txt
		[ "$c" != "$path" ] && { hdr="Accept-Encoding: gzip"; ext=gz; }
		name=$n$(echo "$path" | tr / _).$ext
		# The response once, for the baselines: body and headers.
		curl -fsS -D "$tmp/head" -o "$tmp/www/$name" \
		    ${hdr:+-H "$hdr"} "http://127.0.0.1:$aport$path"
		bytes=$(wc -c < "$tmp/www/$name")
		set --
		while IFS= read -r line; do
			line=$(printf '%s' "$line" | tr -d '\r')
			case $line in
			HTTP/*|Date:*|Content-Length:*|Content-Encoding:*|"")
				;;
			*)	set -- "$@" -H "$line" ;;
			esac
		done < "$tmp/head"
		[ -n "$hdr" ] && set -- "$@" -Z
		rm -f "$tmp/pport"
		$ON_S "$PLAIN" --listen 127.0.0.1:0 --port-file "$tmp/pport" \
		    "$@" "/$name=$tmp/www/$name" &
		plainpid=$!
		pids="$pids $plainpid"
		wait_file "$tmp/pport" bench_plainhttp
		pport=$(cat "$tmp/pport")
		u_api="http://127.0.0.1:$aport$path"
		u_plain="http://127.0.0.1:$pport/$name"
		u_nginx="http://127.0.0.1:$nport/$name"
		servers="api plain nginx"
		[ -n "$hdr" ] && servers="$servers id"
		for s in $servers; do	# warm each up
			server "$s"
			measure "$u" "$CONNS" 1 "$h" "$p" > /dev/null ||
			    { echo "$s $c: warm-up failed" >&2; exit 1; }
		done
		r=1
		while [ $r -le "$ROUNDS" ]; do
			for s in $(rotate $((r - 1)) $servers); do
				server "$s"
				m=$(measure "$u" "$CONNS" "$SECS" "$h" "$p") ||
				    { echo "$s $c: $m" >&2; exit 1; }
				echo "$n $c $bytes $s c$CONNS $r $m" >> "$res"
			done
			# One kept-alive connection: a Prometheus scrape.
			for s in $(rotate $((r % 2)) api nginx); do
				server "$s"
				m=$(measure "$u" 1 "$SECS" "$h" "$p") ||
				    { echo "$s $c: $m" >&2; exit 1; }
				echo "$n $c $bytes $s c1 $r $m" >> "$res"
			done
			r=$((r + 1))
		done
		kill "$plainpid"
		wait "$plainpid" 2>/dev/null || true
		pids=$(echo "$pids" | sed "s/ $plainpid//")
		[ "$path" = /metrics ] && cold "$n" "$c" "$bytes" "$u_api" "$hdr"
	done
	kill "$apipid"
	wait "$apipid" 2>/dev/null || true
	exec 3>&-
	wait "$segpid" 2>/dev/null || true
	pids=$(echo "$pids" | sed "s/ $apipid $segpid//")
done
echo "bench_api: after the run: $(cpu_busy); load $(cut -d' ' -f1-3 \
    /proc/loadavg)"
/usr/bin/python3 "$TOP/bench/api_table.py" "$res" \
    ${BENCH_API_JSON:+--json "$BENCH_API_JSON"}
