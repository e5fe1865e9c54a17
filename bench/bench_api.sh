#!/bin/sh
# bench_api.sh - vigil-api under wrk beside nginx, in the same run.
#
#	BUILD=build sh bench/bench_api.sh
#
# For 6 and 1,000 providers (a segment filled by segfill): requests/s and
# p99 latency of /health/integration and /metrics from vigil-api, and of
# nginx (Debian's, started here with a temporary config on a free port)
# serving a static file of the same size, on loopback with the same wrk
# settings; then the ratio vigil-api/nginx.  Both servers get one worker
# (vigil-api is one event loop).  Everything started here is stopped by
# pid on exit.  Needs wrk and nginx (apt-get install wrk nginx-light);
# without them it says so and exits 0.
#
# BENCH_SECONDS (default 3) per measurement, BENCH_CONNS (default 32);
# then the p99 of each over one kept-alive connection (wrk -c1).
set -eu

BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-32}
SEGFILL=$BUILD/tests/tools/segfill
API=$BUILD/vigil-api
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if ! command -v wrk >/dev/null 2>&1 || [ ! -x "$NGINX" ]; then
	echo "bench_api: SKIP (needs wrk and nginx: apt-get install wrk" \
	    "nginx-light)"
	exit 0
fi
for f in "$SEGFILL" "$API"; do
	[ -x "$f" ] || { echo "bench_api: $f missing (make)" >&2; exit 1; }
done

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
	types { application/json json; text/plain txt; }
	server {
		listen 127.0.0.1:$nport;
		root $tmp/www;
	}
}
EOF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e \
    "$tmp/nginx/logs/error.log" &
pids="$pids $!"

# "Requests/sec" and the 99% latency (in ms) of one wrk run: measure URL
# [CONNECTIONS].
measure() {
	wrk -t1 -c"${2:-$CONNS}" -d"${SECS}s" --latency "$1" > "$tmp/wrk.out" \
	    2>&1
	awk '
	function ms(v) {
		if (v ~ /us$/) return v * 0.001;
		if (v ~ /ms$/) return v + 0;
		if (v ~ /s$/) return v * 1000;
		return v;
	}
	/^Requests\/sec:/ { rps = $2 }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END {
		if (bad != "") { print "error: non-2xx " bad; exit 1 }
		printf "%.0f %.3f\n", rps, p99
	}' "$tmp/wrk.out"
}

printf "%-9s %-20s %9s %10s %9s %10s %9s %7s %10s %10s\n" providers path \
    bytes "api req/s" "api p99" "nginx r/s" "nginx p99" ratio \
    "api p99 c1" "ngx p99 c1"
for n in 6 1000; do
	shm=/vigil-bench-api-$$-$n
	rm -f "$tmp/in" "$tmp/port"
	mkfifo "$tmp/in"
	"$SEGFILL" --shm "$shm" --providers "$n" < "$tmp/in" > "$tmp/seg.out" &
	segpid=$!
	exec 3> "$tmp/in"
	tries=0
	until grep -q '^ready' "$tmp/seg.out" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "segfill did not start" >&2; exit 1; }
		sleep 0.1
	done
	"$API" --shm "$shm" --listen 127.0.0.1:0 --port-file "$tmp/port" \
	    2> "$tmp/api.log" &
	apipid=$!
	pids="$pids $apipid $segpid"
	tries=0
	until [ -s "$tmp/port" ]; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "vigil-api did not start" >&2; exit 1; }
		sleep 0.1
	done
	aport=$(cat "$tmp/port")
	for path in /health/integration /metrics; do
		static=$tmp/www/static-$n-$(echo "$path" | tr / _).txt
		curl -fsS -o "$static" "http://127.0.0.1:$aport$path"
		bytes=$(wc -c < "$static")
		set -- $(measure "http://127.0.0.1:$aport$path")
		arps=$1 ap99=$2
		set -- $(measure "http://127.0.0.1:$nport/${static##*/}")
		nrps=$1 np99=$2
		ratio=$(awk -v a="$arps" -v b="$nrps" \
		    'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')
		# One kept-alive connection: a Prometheus scrape.
		set -- $(measure "http://127.0.0.1:$aport$path" 1)
		a1=$2
		set -- $(measure "http://127.0.0.1:$nport/${static##*/}" 1)
		n1=$2
		printf "%-9s %-20s %9s %10s %7sms %10s %7sms %7s %8sms %8sms\n" \
		    "$n" "$path" "$bytes" "$arps" "$ap99" "$nrps" "$np99" \
		    "$ratio" "$a1" "$n1"
	done
	kill "$apipid"
	wait "$apipid" 2>/dev/null || true
	exec 3>&-
	wait "$segpid" 2>/dev/null || true
	pids=$(echo "$pids" | sed "s/ $apipid $segpid//")
done
echo "ratio = vigil-api req/s / nginx req/s for a static file of the same" \
    "size (higher is better; 1.00 = as fast as nginx), $CONNS connections;"
echo "p99 c1 = p99 over one kept-alive connection (wrk -c1), as a" \
    "Prometheus scrape"
