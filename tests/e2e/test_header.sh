#!/bin/sh
# test_header.sh - include/vigil/vigil.h compiles standalone as C99, C11
# and C++ (gcc, clang, g++, clang++ when present) with -Wall -Wextra
# -Werror, and a program using every client function on a segment image
# built in memory runs and reads back what was put there.
#
# Then, when VIGIL_BUILD holds them, the example client
# (examples/vigil-status) against a missing segment and against one
# populated by tests/tools/segfill.  Prints ok/not ok lines.
# Built without -fno-strict-aliasing, as a client would be: the header
# must not depend on vigil's own build flags.  (-pedantic with -std=c99
# is not tried: the shared words are C11 _Atomic, which C99 compilers
# accept as an extension.)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ran=0

cat >"$tmp/prog.c" <<'PROG'
#include <vigil/vigil.h>

#include <stdlib.h>

#define CHECK(c) do { if (!(c)) { \
	printf("check failed line %d: %s\n", __LINE__, #c); return 1; } \
} while (0)

/* ABI 2: stats 1152 bytes (stride 1216), samples 144 (entry 152). */
#define SAMPLES	2176
#define ROUTE	3008
static uint64_t seg[4096 / 8];

static void
put(uint64_t off, const void *p, size_t n)
{
	memcpy((unsigned char *)seg + off, p, n);
}

static void
put64(uint64_t off, uint64_t v)
{
	put(off, &v, 8);
}

int
main(void)
{
	struct vigil_header h;
	struct vigil_client c, c2;
	struct vigil_provider_info pi;
	struct vigil_stats st;
	struct vigil_sample sm, sout[4];
	struct vigil_history hout[4];
	struct vigil_alert aout[4];
	struct vigil_provider p, all[2];
	struct vigil_route_head rh;
	struct vigil_cursor cur = { 0, 0 };
	uint32_t idx = 9, order[2];
	size_t n = 9;
	char err[128];
	const char *missing = "/vigil-header-test-no-such-segment";

	/* A one-provider segment image: header, slot, stats, rings, route. */
	memset(&h, 0, sizeof(h));
	h.abi_major = VIGIL_ABI_MAJOR;
	h.size = sizeof(seg);
	h.provider_cap = 1;
	h.sample_cap = 2;
	h.history_cap = 2;
	h.alert_cap = 2;
	h.sample_entry = 8 + sizeof(struct vigil_sample);
	h.history_entry = 64;
	h.alert_entry = 96;	/* 8 + an 88-byte alert (incident_id) */
	h.dir_off = 768;
	h.dir_stride = 192;
	h.stats_off = 960;
	h.stats_stride = 1216;
	h.samples_off = SAMPLES;
	h.samples_stride = 384;
	h.history_off = 2560;
	h.history_stride = 192;
	h.alerts_off = 2752;
	h.route_off = ROUTE;
	h.history_keep = 2;
	h.alert_keep = 2;
	h.model_cap = 1;
	h.models_off = 3072;
	h.models_stride = 128;
	h.model_stats_off = 3200;
	h.model_stats_stride = 320;
	h.statuspage_off = 3520;	/* 8 + a 248-byte status page */
	h.statuspage_stride = 256;
	put(0, &h, offsetof(struct vigil_header, dir_gen));
	put64(0, VIGIL_MAGIC);
	CHECK(vigil_validate(seg, sizeof(seg), err, sizeof(err)) == VIGIL_OK);

	memset(&pi, 0, sizeof(pi));
	strcpy(pi.name, "p0");
	pi.flags = VIGIL_PF_IN_USE;
	pi.generation = 1;
	put(768 + 8, &pi, sizeof(pi));
	memset(&st, 0, sizeof(st));
	st.status = VIGIL_ST_HEALTHY;
	st.win[VIGIL_WIN_1M].p95_ms = 12.5;
	put(960 + 8, &st, sizeof(st));
	memset(&sm, 0, sizeof(sm));
	sm.latency_us = 123;
	put64(SAMPLES + 64, 2);			/* record 0 published */
	put(SAMPLES + 64 + 8, &sm, sizeof(sm));
	put64(SAMPLES, 1);			/* head */
	memset(&rh, 0, sizeof(rh));
	rh.count = 1;
	put(ROUTE + 8, &rh, sizeof(rh));		/* idx[0] = 0 already */

	CHECK(vigil_attach(&c, seg, sizeof(seg)) == VIGIL_OK);
	CHECK(vigil_capacity(&c) == 1);
	CHECK(vigil_dir_gen(&c) == 0);
	CHECK(vigil_aggregator_age_ns(&c) == UINT64_MAX);
	CHECK(vigil_prober_age_ns(&c, 0) == UINT64_MAX);
	CHECK(vigil_find(&c, "p0", &idx) == VIGIL_OK && idx == 0);
	CHECK(vigil_find(&c, "p1", &idx) == VIGIL_ENOENT);
	CHECK(vigil_provider_info(&c, 0, &pi) == VIGIL_OK);
	CHECK(vigil_provider_stats(&c, 0, &st) == VIGIL_OK);
	CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_OK);
	CHECK(strcmp(vigil_status_name(p.stats.status), "healthy") == 0);
	CHECK(p.stats.win[VIGIL_WIN_1M].p95_ms == 12.5);
	CHECK(vigil_snapshot_all(&c, all, 2, &n) == VIGIL_OK && n == 1);
	CHECK(vigil_route_order(&c, order, 2, &n) == VIGIL_OK && n == 1);
	CHECK(order[0] == 0);
	CHECK(vigil_read_samples(&c, 0, &cur, sout, 4) == 1);
	CHECK(sout[0].latency_us == 123);
	vigil_samples_tail(&c, 0, &cur, 1);
	CHECK(cur.next == 0);
	cur.next = cur.lost = 0;
	CHECK(vigil_read_history(&c, 0, &cur, hout, 4) == 0);
	CHECK(vigil_read_alerts(&c, &cur, aout, 4) == 0);
	CHECK(strcmp(vigil_outcome_name(VIGIL_OUT_TLS), "tls") == 0);
	CHECK(strcmp(vigil_circuit_name(VIGIL_CB_OPEN), "open") == 0);
	CHECK(strcmp(vigil_trend_name(VIGIL_TR_STABLE), "stable") == 0);
	CHECK(strcmp(vigil_kind_name(VIGIL_KIND_QWEN), "qwen") == 0);
	CHECK(strcmp(vigil_alert_kind_name(VIGIL_AK_DOWN), "down") == 0);
	CHECK(strcmp(vigil_alert_level_name(VIGIL_AL_WARNING), "warning")
	    == 0);
	CHECK(vigil_prom_bounds[0] == 0.025);

	/* The header rewritten after attach: reported, never followed;
	 * reads keep the layout validated at attach. */
	CHECK(vigil_layout_changed(&c, err, sizeof(err)) == 0);
	put64(offsetof(struct vigil_header, samples_off), UINT64_MAX - 7);
	put64(offsetof(struct vigil_header, dir_off), 1u << 30);
	CHECK(vigil_layout_changed(&c, err, sizeof(err)) == 1);
	CHECK(strstr(err, "dir_off") != NULL);
	cur.next = cur.lost = 0;
	CHECK(vigil_read_samples(&c, 0, &cur, sout, 4) == 1);
	CHECK(sout[0].latency_us == 123);
	CHECK(vigil_find(&c, "p0", &idx) == VIGIL_OK && idx == 0);
	CHECK(vigil_attach(&c2, seg, sizeof(seg)) == VIGIL_ECORRUPT);
	CHECK(vigil_capacity(&c2) == 0);
	CHECK(vigil_find(&c2, "p0", &idx) == VIGIL_ENOENT);
	put64(offsetof(struct vigil_header, samples_off), SAMPLES);
	put64(offsetof(struct vigil_header, dir_off), 768);
	CHECK(vigil_layout_changed(&c, NULL, 0) == 0);
	cur.next = cur.lost = 0;

	/* ABI check with a clear error. */
	put(8, "\004\0\0\0\001\0\0\0", 8);	/* ABI 4.1 */
	CHECK(vigil_validate(seg, sizeof(seg), err, sizeof(err)) ==
	    VIGIL_EABI);
	CHECK(strcmp(err, "segment ABI 4.1, this client reads ABI 3") == 0);

	CHECK(vigil_open(&c, missing) == VIGIL_ESYS);
	CHECK(strstr(c.err, missing) != NULL);
	CHECK(strcmp(vigil_strerror(VIGIL_EMAGIC),
	    "not a vigil segment (bad magic)") == 0);
	vigil_close(&c);
	printf("header program ok\n");
	return 0;
}
PROG

# try NAME COMPILER ARGS...: compile prog.c with the header, run it.
try() {
	name=$1; shift
	ran=$((ran + 1))
	if ! "$@" -Wall -Wextra -Werror -O2 -I"$top/include" \
	    -o "$tmp/prog" "$tmp/prog.c" -lrt >"$tmp/log" 2>&1; then
		echo "not ok - header compiles: $name"
		sed 's/^/  /' "$tmp/log" | head -30
		fail=1
		return
	fi
	if ! "$tmp/prog" >"$tmp/log" 2>&1 ||
	    ! grep -q '^header program ok$' "$tmp/log"; then
		echo "not ok - header program runs: $name"
		sed 's/^/  /' "$tmp/log" | head -10
		fail=1
		return
	fi
	echo "ok - header compiles and runs: $name"
}

have() { command -v "$1" >/dev/null 2>&1; }

try "cc -std=c99" cc -std=c99
try "cc -std=c11" cc -std=c11
try "cc -std=gnu11 -D_GNU_SOURCE" cc -std=gnu11 -D_GNU_SOURCE
if have clang; then
	try "clang -std=c99" clang -std=c99
	try "clang -std=c11 -pedantic" clang -std=c11 -pedantic
else
	echo "ok - clang absent, skipped # SKIP"
fi
if have g++; then
	try "g++ -std=c++11" g++ -x c++ -std=c++11
	try "g++ -std=c++17" g++ -x c++ -std=c++17
else
	echo "not ok - g++ not found (needed to check the header as C++)"
	fail=1
fi
if have clang++; then
	try "clang++ -std=c++11" clang++ -x c++ -std=c++11
fi

# The example client.
build=${VIGIL_BUILD:-build}
case $build in /*) ;; *) build="$top/$build" ;; esac
status="$build/examples/vigil-status"
segfill="$build/tests/tools/segfill"
if [ ! -x "$status" ]; then
	echo "ok - vigil-status not built in $build, skipped # SKIP"
	exit $fail
fi
shm="/vigil-hdrtest-$$"
"$status" "$shm" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^vigil-status: $shm: No such file or directory\$" \
    "$tmp/err" && [ ! -s "$tmp/out" ]; then
	echo "ok - vigil-status: missing segment, exit 1 with the reason"
else
	echo "not ok - vigil-status: missing segment (rc $rc)"
	sed 's/^/  /' "$tmp/err"
	fail=1
fi
"$status" a b >/dev/null 2>&1
if [ $? -eq 2 ]; then
	echo "ok - vigil-status: usage error exits 2"
else
	echo "not ok - vigil-status: usage error exits 2"
	fail=1
fi
if [ -x "$segfill" ]; then
	mkfifo "$tmp/in"
	"$segfill" --shm "$shm" --providers 3 <"$tmp/in" >"$tmp/fill" 2>&1 &
	fillpid=$!
	exec 3>"$tmp/in"
	trap 'kill $fillpid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
	i=0
	while ! grep -q '^ready' "$tmp/fill" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	"$status" "$shm" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^3 providers' "$tmp/out" &&
	    grep -Eq '^openai +healthy +closed +(yes|no) +[0-9]+ ms' \
	    "$tmp/out" &&
	    grep -q '^anthropic ' "$tmp/out" && grep -q '^google ' "$tmp/out" &&
	    grep -q '^routing order:' "$tmp/out"; then
		echo "ok - vigil-status: prints every provider of a segment"
	else
		echo "not ok - vigil-status: prints every provider (rc $rc)"
		sed 's/^/  /' "$tmp/out" "$tmp/err" "$tmp/fill"
		fail=1
	fi
	exec 3>&-		# EOF: segfill unlinks the segment, exits
	i=0
	while kill -0 $fillpid 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $fillpid 2>/dev/null
	wait $fillpid 2>/dev/null
	if [ -e "/dev/shm$shm" ]; then
		echo "not ok - segfill left /dev/shm$shm behind"
		rm -f "/dev/shm$shm"
		fail=1
	fi
fi
exit $fail
