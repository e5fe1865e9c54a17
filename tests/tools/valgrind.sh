#!/bin/sh
# tests/tools/valgrind.sh [BUILDDIR] [TEST...] - the unit suite under
# valgrind memcheck: no memory error and no definite leak, in any process.
#
# Every BUILDDIR/tests/test_* (default build/, which must be a build
# without sanitizers) runs under memcheck with --error-exitcode=1
# --leak-check=full --errors-for-leak-kinds=definite.  t.h forks one
# child per test case: memcheck follows forks by itself and checks each
# child at its exit (a child with an error exits 1, which t.h reports as
# "not ok"); --trace-children=yes also follows the programs a test
# executes (vigil-prober, vigil-aggregator ...).  One log per process goes
# to $VG_LOGDIR (default a temporary directory, kept on failure).
#
# Prints "ok - valgrind NAME" / "not ok - valgrind NAME: why" per binary
# and "N passed, N failed"; exits non-zero if any failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
bdir=${1:-build}
[ $# -gt 0 ] && shift
command -v valgrind >/dev/null 2>&1 || {
	echo "not ok - valgrind is not installed (apt-get install valgrind)"
	exit 1
}
case $bdir in
*asan*|*tsan*|*fuzz*)
	echo "not ok - $bdir is a sanitizer build; valgrind needs build/"
	exit 1 ;;
esac
logdir=${VG_LOGDIR:-$(mktemp -d /tmp/vigil-valgrind.XXXXXX)}
mkdir -p "$logdir"
if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do tests="$tests $bdir/tests/$t"; done
else
	tests=$(ls "$bdir"/tests/test_* 2>/dev/null)
fi
passed=0
failed=0
for t in $tests; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	rm -f "$logdir/$name".*
	timeout -k 10 1200 valgrind -q --tool=memcheck --error-exitcode=1 \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite --trace-children=yes \
	    --child-silent-after-fork=no --track-fds=no \
	    --log-file="$logdir/$name.%p.log" \
	    "$t" >"$logdir/$name.out" 2>&1
	rc=$?
	nok=$(grep -c '^ok ' "$logdir/$name.out")
	nbad=$(grep -c '^not ok ' "$logdir/$name.out")
	# Any process with an error or a definite leak.
	errs=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' \
	    "$logdir/$name".*.log 2>/dev/null | wc -l)
	# -q logs nothing for a clean process; anything else is a finding.
	noisy=$(find "$logdir" -name "$name.*.log" -size +0 | wc -l)
	if [ "$rc" -eq 0 ] && [ "$nbad" -eq 0 ] && [ "$errs" -eq 0 ] &&
	    [ "$noisy" -eq 0 ] && [ "$nok" -gt 0 ]; then
		echo "ok - valgrind $name ($nok cases)"
		passed=$((passed + 1))
	else
		echo "not ok - valgrind $name: status $rc, $nbad of" \
		    "$((nok + nbad)) cases failed, $noisy process logs with" \
		    "findings (in $logdir)"
		grep -h '^not ok' "$logdir/$name.out" | sed 's/^/#   /' |
		    head -10
		find "$logdir" -name "$name.*.log" -size +0 -exec \
		    grep -h -m 12 -E '^==[0-9]+== ' {} + | sed 's/^/#   /' |
		    head -40
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "${VG_LOGDIR:-}" ] && rm -rf "$logdir"
[ "$failed" -eq 0 ]
