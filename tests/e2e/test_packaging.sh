#!/bin/sh
# test_packaging.sh - the install layout, the systemd files, the pkg-config
# file, the Prometheus rules and the Grafana dashboard.
#
# Installs into a temporary DESTDIR with PREFIX=/usr, as the packages do,
# and checks what landed where with which mode; builds a consumer with
# nothing but `pkg-config --cflags --libs vigil`; checks the unit with
# systemd-analyze (verify, and an exposure of 2.5 or lower); runs promtool
# on the rules; checks that every metric the rules and the dashboard name
# is one vigil-api exports.  `make deb` / `make rpm` are not run here (too
# slow for `make test`): see docs/packaging.md.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
d=$tmp/root
fails=0

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { # name, command...
	name=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else nok "$name"; sed 's/^/# /' "$tmp/out"; fi
}
# mode_is PATH MODE: PATH exists with that octal mode.
mode_is() {
	[ -e "$1" ] && [ "$(stat -c %a "$1")" = "$2" ]
}

version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)

# ---- make install ------------------------------------------------------------

if make -s install DESTDIR="$d" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	nok "make install DESTDIR=... PREFIX=/usr"
	sed 's/^/# /' "$tmp/install.log"
	exit 1
fi

# What must be there (path, mode), whatever else has landed in the tree.
expected="usr/include/vigil/vigil.h:644
usr/share/pkgconfig/vigil.pc:644
usr/lib/systemd/system/vigil.service:644
usr/lib/sysusers.d/vigil.conf:644
usr/lib/tmpfiles.d/vigil.conf:644
usr/share/doc/vigil/vigil.rules.yml:644
usr/share/doc/vigil/alertmanager.yml:644
usr/share/doc/vigil/vigil-dashboard.json:644
etc/vigil/keys:750
var/lib/vigil:750
usr/libexec/vigil:755"
# The binaries, the default config and the man pages: where they exist in
# the tree, they must be installed (the others are noted, not failed: they
# have not been written yet).
for b in sbin/vigild bin/vigilctl libexec/vigil/vigil-prober \
    libexec/vigil/vigil-aggregator libexec/vigil/vigil-api \
    libexec/vigil/vigil-statuspage; do
	if [ -f "build/${b##*/}" ]; then
		expected="$expected
usr/$b:755"
	else
		echo "# note: build/${b##*/} not built yet, not expected in the layout"
	fi
done
if [ -f packaging/vigil.conf ]; then
	expected="$expected
etc/vigil/vigil.conf:644"
else
	echo "# note: packaging/vigil.conf not written yet"
fi
for m in docs/*.1 docs/*.5 docs/*.7 docs/*.8; do
	[ -f "$m" ] || continue
	expected="$expected
usr/share/man/man${m##*.}/${m##*/}:644"
done

bad=""
echo "$expected" >"$tmp/expected"
while IFS=: read -r p m; do
	mode_is "$d/$p" "$m" || bad="$bad $p($m)"
done <"$tmp/expected"
if [ -z "$bad" ]; then ok "layout: every file in place with its mode"
else nok "layout: missing or wrong mode:$bad"; fi

# Nothing else: every installed file is one of the expected ones (no test
# tool, no simulator, no build leftovers).
(cd "$d" && find . -type f | sed 's|^\./||' | sort) >"$tmp/files"
cut -d: -f1 "$tmp/expected" | sort >"$tmp/want"
extra=$(comm -23 "$tmp/files" "$tmp/want" | tr '\n' ' ')
if [ -z "$extra" ]; then ok "layout: nothing installed beyond the layout"
else nok "layout: unexpected files: $extra"; fi

check "vigil-sim is not installed" sh -c "! find '$d' -name 'vigil-sim*' | grep -q ."
check "the unit starts /usr/sbin/vigild with /etc/vigil/vigil.conf" \
    grep -qx 'ExecStart=/usr/sbin/vigild -c /etc/vigil/vigil.conf' \
    "$d/usr/lib/systemd/system/vigil.service"

# ---- pkg-config and the header ---------------------------------------------

pc() {
	PKG_CONFIG_PATH="$d/usr/share/pkgconfig" PKG_CONFIG_LIBDIR=/nonexistent \
	    PKG_CONFIG_SYSROOT_DIR="$d" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 \
	    pkg-config "$@" vigil
}
if [ "$(pc --modversion 2>&1)" = "$version" ]; then
	ok "pkg-config --modversion vigil is $version"
else
	nok "pkg-config --modversion vigil: '$(pc --modversion 2>&1)', want '$version'"
fi
cat >"$tmp/consumer.c" <<'EOF'
#include <vigil/vigil.h>

int
main(void)
{
	struct vigil_client c;
	int rc;

	/* No such segment: the call must fail cleanly, with a reason. */
	rc = vigil_open(&c, "/vigil-packaging-test-none");
	if (rc != VIGIL_ESYS || c.err[0] == '\0')
		return 1;
	puts(vigil_strerror(VIGIL_EBUSY));
	return 0;
}
EOF
# shellcheck disable=SC2046
if cc -std=c99 -Wall -Wextra -Werror $(pc --cflags) -o "$tmp/consumer" \
    "$tmp/consumer.c" $(pc --libs) >"$tmp/out" 2>&1 &&
    [ "$(pc --cflags | sed "s/ *$//")" = "-I$d/usr/include" ] &&
    "$tmp/consumer" >/dev/null; then
	ok "a consumer builds with pkg-config vigil alone and runs"
else
	nok "a consumer builds with pkg-config vigil alone and runs"
	sed 's/^/# /' "$tmp/out"
fi

# vigil(7)'s example is real code: it builds against the installed header.
sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' docs/vigil.7 |
    sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed -e '1d' -e '$d' \
    -e 's/\\e/\\/g' -e 's/\\&//g' >"$tmp/example.c"
# shellcheck disable=SC2046
if [ -s "$tmp/example.c" ] && cc -std=c99 -Wall -Wextra -Werror \
    $(pc --cflags) -o "$tmp/example" "$tmp/example.c" $(pc --libs) \
    >"$tmp/out" 2>&1; then
	ok "the example in vigil(7) builds against the installed header"
else
	nok "the example in vigil(7) builds against the installed header"
	sed 's/^/# /' "$tmp/out"
fi

# ---- the configuration is never overwritten ---------------------------------

if [ -f packaging/vigil.conf ]; then
	echo "# edited by the operator" >>"$d/etc/vigil/vigil.conf"
	cp "$d/etc/vigil/vigil.conf" "$tmp/edited"
	make -s install DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
	if cmp -s "$tmp/edited" "$d/etc/vigil/vigil.conf" &&
	    cmp -s packaging/vigil.conf "$d/etc/vigil/vigil.conf.dist"; then
		ok "install keeps an edited vigil.conf, new default as .dist"
	else
		nok "install keeps an edited vigil.conf, new default as .dist"
	fi
fi

# ---- sysusers.d, tmpfiles.d, the unit --------------------------------------

sr=$tmp/sysroot
mkdir -p "$sr/etc"
if systemd-sysusers --root="$sr" "$d/usr/lib/sysusers.d/vigil.conf" \
    >"$tmp/out" 2>&1 && grep -q '^vigil:x:[0-9]*:[0-9]*:vigil health monitor:/var/lib/vigil:' \
    "$sr/etc/passwd"; then
	ok "sysusers.d creates the vigil user"
else
	nok "sysusers.d creates the vigil user"; sed 's/^/# /' "$tmp/out"
fi
if systemd-tmpfiles --root="$sr" --create "$d/usr/lib/tmpfiles.d/vigil.conf" \
    >"$tmp/out" 2>&1; then
	vu=$(sed -n 's/^vigil:x:\([0-9]*\):.*/\1/p' "$sr/etc/passwd")
	vg=$(sed -n 's/^vigil:x:\([0-9]*\):.*/\1/p' "$sr/etc/group")
	got=$(stat -c '%n %a %u %g' "$sr/run/vigil" "$sr/var/lib/vigil" \
	    "$sr/etc/vigil/keys" | sed "s|$sr||" | tr '\n' ';')
	want="/run/vigil 755 0 0;/var/lib/vigil 750 $vu $vg;/etc/vigil/keys 750 0 $vg;"
	if [ "$got" = "$want" ]; then ok "tmpfiles.d creates the directories with owners and modes"
	else nok "tmpfiles.d directories: got '$got', want '$want'"; fi
else
	nok "tmpfiles.d creates the directories"; sed 's/^/# /' "$tmp/out"
fi

# verify checks the executables on this host: point ExecStart at the one
# just installed (a stand-in while vigild is not built; the unit's syntax
# and every other setting are still checked).
mkdir -p "$tmp/unit"
exe=$d/usr/sbin/vigild
if [ ! -x "$exe" ]; then
	exe=$tmp/vigild-stand-in
	printf '#!/bin/sh\nexit 0\n' >"$exe" && chmod 0755 "$exe"
	echo "# note: vigild not built yet, verify uses a stand-in for ExecStart"
fi
sed "s|^ExecStart=/usr/sbin/vigild|ExecStart=$exe|" \
    "$d/usr/lib/systemd/system/vigil.service" >"$tmp/unit/vigil.service"
check "systemd-analyze verify vigil.service" \
    systemd-analyze verify --man=no "$tmp/unit/vigil.service"

exposure=$(systemd-analyze security --offline=true \
    packaging/systemd/vigil.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for vigil.service: \([0-9.]*\).*/\1/p')
if [ -n "$exposure" ] && awk "BEGIN { exit !($exposure <= 2.5) }"; then
	ok "systemd-analyze security: exposure $exposure <= 2.5"
else
	nok "systemd-analyze security: exposure '$exposure', want <= 2.5"
fi
if grep -q "exposure level of $exposure\b" docs/packaging.md 2>/dev/null; then
	ok "docs/packaging.md states the exposure ($exposure)"
else
	nok "docs/packaging.md does not state the measured exposure $exposure"
fi

# ---- man pages ---------------------------------------------------------------

# As lintian reads them: any groff warning is a lintian warning.
for m in docs/*.1 docs/*.5 docs/*.7 docs/*.8; do
	[ -f "$m" ] || continue
	w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 \
	    -l -Tutf8 -Z "$m" 2>&1 >/dev/null)
	if [ -z "$w" ]; then ok "man page $m renders without warnings"
	else nok "man page $m: $w"; fi
done

# ---- Prometheus rules, Grafana dashboard --------------------------------------

check "promtool check rules" promtool check rules packaging/prometheus/vigil.rules.yml
check "promtool test rules" sh -c \
    'cd packaging/prometheus && promtool test rules vigil.rules.test.yml'
check "the Grafana dashboard parses" \
    python3 -m json.tool packaging/grafana/vigil-dashboard.json

# Metric families the rules and the dashboard name; a histogram's series
# (_bucket, _sum, _count) count as its family.
families() {
	grep -o 'vigil_[a-z0-9_]*' "$@" | sed 's/^[^:]*://' |
	    sed -E 's/_(bucket|sum|count)$//' | sort -u
}
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str):
                print(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
' packaging/grafana/vigil-dashboard.json >"$tmp/dash.exprs"
grep 'expr:' packaging/prometheus/vigil.rules.yml >"$tmp/rules.exprs"
families "$tmp/dash.exprs" >"$tmp/dash.fam"
families "$tmp/rules.exprs" >"$tmp/rules.fam"
if [ ! -s "$tmp/dash.fam" ] || [ ! -s "$tmp/rules.fam" ]; then
	nok "the dashboard and the rules name vigil metrics"
fi
# Only vigil_provider_info carries kind (issue 9): an expression that
# names kind without joining it from there would match nothing.
nojoin=$(cat "$tmp/dash.exprs" "$tmp/rules.exprs" | grep -w kind |
    grep -v vigil_provider_info || true)
if [ -z "$nojoin" ]; then ok "the dashboard and the rules join kind from vigil_provider_info"
else nok "kind used without vigil_provider_info: $nojoin"; fi
api_src=$(ls api/*.c 2>/dev/null)
for what in dash rules; do
	if [ -z "$api_src" ]; then
		echo "ok - $what metrics are exported by vigil-api # SKIP api/*.c not written yet"
		continue
	fi
	missing=""
	while read -r f; do
		# shellcheck disable=SC2086
		grep -q "\"$f\b" $api_src || grep -q "\b$f\b" $api_src ||
		    missing="$missing $f"
	done <"$tmp/$what.fam"
	if [ -z "$missing" ]; then ok "$what metrics are exported by vigil-api"
	else nok "$what names metrics vigil-api does not export:$missing"; fi
done

# ---- uninstall -----------------------------------------------------------------

make -s uninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$d" && find . -type f | sed 's|^\./||' | grep -v '^etc/vigil/' | tr '\n' ' ')
if [ -z "$left" ]; then ok "uninstall removes all but the configuration"
else nok "uninstall leaves: $left"; fi

[ "$fails" -eq 0 ]
