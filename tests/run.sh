#!/bin/sh
# tests/run.sh GROUP... - run test groups, print one closing line.
#
# A GROUP is LABEL:BUILDDIR:SUITES, SUITES a comma list of "unit", "e2e",
# "pkg" (tests/pkg/test_*.sh: install the packages; once, not per build),
# "soak" (tests/soak/test_*.sh: the short soak; once), a unit test's
# name, or an end-to-end test's file name (test_foo.py).  Unit tests are
# BUILDDIR/tests/test_*; end-to-end tests are tests/e2e/test_*.py (run
# with /usr/bin/python3) and tests/e2e/test_*.sh, given
# VIGIL_BUILD=BUILDDIR.  Every test prints "ok - NAME" / "not ok - NAME"
# lines; a test that exits non-zero without a "not ok" line counts as one
# failure.  Ends with "N passed, N failed".
#
# tests/run.sh --lanes "GROUP..." "GROUP..." runs each quoted list of
# groups as its own lane, the lanes at the same time (the CI machine has
# two cores and most end-to-end tests wait on probe intervals), prints
# each lane's log when all are done, then one closing line for all.
# Tests in different lanes must not share anything fixed: ports, shm
# names, users, files (each picks its own).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
passed=0
failed=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "${1:-}" = "--lanes" ]; then
	shift
	dir=$(mktemp -d)
	trap 'rm -rf "$dir" "$log"' EXIT
	n=0
	pids=""
	for lane in "$@"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # a lane is a list of groups
		sh "$0" $lane >"$dir/$n" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p"
	done
	passed=0
	failed=0
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		echo "==== lane $i"
		sed '$d' "$dir/$i"
		last=$(tail -n 1 "$dir/$i")
		case $last in
		*" passed, "*" failed")
			set -- $last
			passed=$((passed + $1))
			failed=$((failed + $3)) ;;
		*)	echo "not ok - lane $i ended without its closing line"
			failed=$((failed + 1)) ;;
		esac
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

run_one() { # label, name, command...
	label=$1; name=$2; shift 2
	printf '== %s %s\n' "$label" "$name"
	t0=$(date +%s)
	timeout -k 10 900 "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	echo "# $label/$name took $(($(date +%s) - t0)) s"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name ran no tests"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures="$failures $label/$name"
}

for group in "$@"; do
	label=${group%%:*}
	rest=${group#*:}
	bdir=${rest%%:*}
	suites=$(echo "${rest#*:}" | tr ',' ' ')
	for s in $suites; do
		case $s in
		unit)
			for t in "$bdir"/tests/test_*; do
				[ -x "$t" ] || continue
				run_one "$label" "$(basename "$t")" "$t"
			done ;;
		e2e)
			for t in tests/e2e/test_*.py tests/e2e/test_*.sh; do
				[ -f "$t" ] || continue
				case $t in
				*.py) run_one "$label" "$(basename "$t")" env \
				    VIGIL_BUILD="$bdir" /usr/bin/python3 "$t" ;;
				*.sh) run_one "$label" "$(basename "$t")" env \
				    VIGIL_BUILD="$bdir" sh "$t" ;;
				esac
			done ;;
		pkg|soak)
			for t in tests/$s/test_*.sh; do
				[ -f "$t" ] || continue
				run_one "$label" "$(basename "$t")" env \
				    VIGIL_BUILD="$bdir" sh "$t"
			done ;;
		*.py)	# one end-to-end test: test_foo.py
			run_one "$label" "$s" env VIGIL_BUILD="$bdir" \
			    /usr/bin/python3 "tests/e2e/$s" ;;
		*.sh)
			run_one "$label" "$s" env VIGIL_BUILD="$bdir" \
			    sh "tests/e2e/$s" ;;
		*)
			run_one "$label" "$s" "$bdir/tests/$s" ;;
		esac
	done
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
