#!/bin/sh
# test_install.sh - the Debian packages on this machine: install, run,
# upgrade, purge.
#
# Builds the .debs from this tree (`make deb` into a temporary directory,
# without the unit tests, which `make test` runs; a build/vigil_*.deb newer
# than every source file is reused instead), runs lintian on them, and
# builds a second pair with the Debian version VERSION-2 for the upgrade.  Then, as root on this machine:
#
#   dpkg -i          the vigil user, the directories with their owners and
#                    modes, the conffile
#   vigild           started as the installed unit's ExecStart= line (with
#                    its UMask= and a NOTIFY_SOCKET, as Type=notify has
#                    it; there is no systemd here), against vigil-sim from
#                    the build tree on loopback, with a key in
#                    /etc/vigil/keys; children run as the vigil user;
#                    /health/integration and `vigilctl status` answer; a
#                    consumer of examples/vigil-status.c built with
#                    nothing but `pkg-config vigil` reads the segment
#   dpkg -i (-2)     the edited conffile is kept, the history persisted in
#                    /var/lib/vigil comes back after the restart
#   dpkg --purge     nothing is left but the vigil user and group, which
#                    Debian policy keeps
#
# Needs root (it installs packages): not root is a failure, not a skip.
# Refuses to run where vigil is already installed or running.  Every
# process it starts is stopped by pid, and the packages are purged, even
# on failure.  Environment: VIGIL_BUILD (default build), for vigil-sim.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
B=${VIGIL_BUILD:-build}
case $B in /*) ;; *) B=$top/$B ;; esac

fails=0
ok() { echo "ok - install: $1"; }
nok() { echo "not ok - install: $1"; fails=$((fails + 1)); }
# fatal NAME [FILE]: a step the rest depends on failed.
fatal() {
	nok "$1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -40 "$2" | sed 's/^/# /'
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	echo "not ok - install (needs root)"
	exit 1
fi

status_of() { # package: dpkg's status word, "" when unknown
	dpkg-query -W -f '${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '
}
for p in vigil libvigil-dev; do
	if [ -n "$(status_of $p)" ] && [ "$(status_of $p)" != un ]; then
		echo "not ok - install: $p is already on this machine" \
		    "($(status_of $p)); this test installs and purges it"
		exit 1
	fi
done
if [ -e /run/vigil/control.sock ] || [ -e /dev/shm/vigil ] ||
    [ -e /etc/vigil ] || [ -e /var/lib/vigil ]; then
	echo "not ok - install: a vigil is already here (/run/vigil," \
	    "/dev/shm/vigil, /etc/vigil or /var/lib/vigil exists)"
	exit 1
fi
for t in vigil-sim; do
	[ -x "$B/$t" ] || fatal "$B/$t is not built (make first)"
done

version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)
arch=$(dpkg --print-architecture)
tmp=$(mktemp -d /tmp/vigil-install.XXXXXX)
chmod 0755 "$tmp"
sim=""
vigild=""
notify=""
installed=no

# dpkg_w LOG ARGS...: dpkg, waiting up to 3 minutes for the dpkg lock
# while another apt or dpkg runs on this machine.
dpkg_w() {
	log=$1
	shift
	w=0
	while :; do
		dpkg "$@" </dev/null >"$log" 2>&1 && return 0
		grep -q 'lock' "$log" && [ $w -lt 360 ] || return 1
		sleep 0.5
		w=$((w + 1))
	done
}
stop_pid() { # pid: SIGTERM, then SIGKILL after 10 s
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	# vigild stops its children; any left after it are killed by pid.
	kids=""
	[ -n "$vigild" ] && kids=$(children "$vigild")
	stop_pid "$vigild"
	for k in $kids; do kill -KILL "$k" 2>/dev/null; done
	stop_pid "$sim"
	stop_pid "$notify"
	if [ "$installed" = yes ]; then
		dpkg_w "$tmp/purge-trap.log" --purge vigil libvigil-dev ||
		    { echo "# purge in cleanup failed:"; sed 's/^/# /' "$tmp/purge-trap.log"; }
	fi
	if [ "$fails" -eq 0 ]; then
		rm -rf "$tmp"
	else
		echo "# logs kept in $tmp"
	fi
}
trap 'cleanup' EXIT
trap 'nok "interrupted"; exit 1' INT TERM HUP

children() { # pid: its child pids
	for s in /proc/[0-9]*/stat; do
		sed -n 's/^\([0-9]*\) ([^)]*) [A-Za-z] \([0-9]*\) .*/\1 \2/p' \
		    "$s" 2>/dev/null
	done | awk -v p="$1" '$2 == p { print $1 }'
}
uid_of() { # pid
	awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
get() { # URL PATH_AND_QUERY -> stdout, status in $tmp/http.status
	curl -s -o - -w '%{stderr}%{http_code}' --max-time 5 "$1" \
	    2>"$tmp/http.status"
}
# json EXPR FILE: print a Python expression of the JSON document j.
json() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "$2" 2>/dev/null
}

# ---- the packages ------------------------------------------------------------

# make deb for Debian version $1 into directory $2 (quietly; log $2.log).
build_deb() {
	mkdir -p "$2"
	make -s deb DEB_VERSION="$1" DEB_TOP="$2/top" DEB_OUT="$2" LINTIAN=no \
	    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" >"$2.log" 2>&1
}
d1=$tmp/deb1
deb=build/vigil_${version}-1_${arch}.deb
dev=build/libvigil-dev_${version}-1_all.deb
newer=""
if [ -f "$deb" ] && [ -f "$dev" ]; then
	newer=$(find . \( -path ./build -o -path ./.git \) -prune -o \
	    -type f -newer "$deb" -print | head -1)
fi
if [ -f "$deb" ] && [ -f "$dev" ] && [ -z "$newer" ]; then
	mkdir -p "$d1"
	cp "$deb" "$dev" "$d1/"
	ok "reusing $deb (newer than every source file)"
	lint="$d1/vigil_${version}-1_${arch}.deb $d1/libvigil-dev_${version}-1_all.deb"
elif build_deb "" "$d1"; then
	ok "make deb builds vigil and libvigil-dev $version-1"
	lint=$(echo "$d1"/top/*.changes)
else
	fatal "make deb" "$d1.log"
fi
# The source package too when built here, else the two binary packages.
# shellcheck disable=SC2086
if lintian --fail-on error,warning $lint >"$tmp/lintian.log" 2>&1; then
	ok "lintian: no errors, no warnings"
else
	nok "lintian: errors or warnings"
	grep -v '^running with root' "$tmp/lintian.log" | sed 's/^/# /'
fi
d2=$tmp/deb2
if build_deb "${version}-2" "$d2" &&
    [ -f "$d2/vigil_${version}-2_${arch}.deb" ]; then
	ok "make deb DEB_VERSION=${version}-2 builds the upgrade"
else
	fatal "make deb DEB_VERSION=${version}-2" "$d2.log"
fi

# ---- install -----------------------------------------------------------------

installed=yes
if dpkg_w "$tmp/dpkg1.log" -i "$d1/vigil_${version}-1_${arch}.deb" \
    "$d1/libvigil-dev_${version}-1_all.deb" &&
    [ "$(status_of vigil)" = ii ] && [ "$(status_of libvigil-dev)" = ii ]; then
	ok "dpkg -i vigil libvigil-dev"
else
	fatal "dpkg -i vigil libvigil-dev" "$tmp/dpkg1.log"
fi

if getent passwd vigil >/dev/null && getent group vigil >/dev/null; then
	ok "the vigil user and group exist"
else
	nok "the vigil user and group exist"
fi
got=$(stat -c '%n %a %U:%G' /etc/vigil/keys /var/lib/vigil /run/vigil \
    2>&1 | tr '\n' ';')
want="/etc/vigil/keys 750 root:vigil;/var/lib/vigil 750 vigil:vigil;/run/vigil 755 root:root;"
if [ "$got" = "$want" ]; then ok "directories with their owners and modes"
else nok "directories: got '$got', want '$want'"; fi
if dpkg-query -W -f '${Conffiles}\n' vigil | grep -q '^ /etc/vigil/vigil.conf '; then
	ok "/etc/vigil/vigil.conf is a conffile"
else
	nok "/etc/vigil/vigil.conf is a conffile"
fi
missing=""
for f in /usr/sbin/vigild /usr/bin/vigilctl /usr/libexec/vigil/vigil-prober \
    /usr/libexec/vigil/vigil-aggregator /usr/libexec/vigil/vigil-api \
    /usr/include/vigil/vigil.h /usr/share/pkgconfig/vigil.pc \
    /lib/systemd/system/vigil.service /usr/lib/sysusers.d/vigil.conf \
    /usr/lib/tmpfiles.d/vigil.conf /usr/share/man/man8/vigild.8.gz \
    /usr/share/man/man1/vigilctl.1.gz /usr/share/man/man5/vigil.conf.5.gz \
    /usr/share/man/man7/vigil.7.gz /usr/share/doc/vigil/vigil.rules.yml \
    /usr/share/doc/vigil/vigil-dashboard.json; do
	[ -f "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "every file of the layout is installed"
else nok "not installed:$missing"; fi

# ---- configure: a provider on vigil-sim, its key in /etc/vigil/keys ----------

key=sk-install-test-$$
"$B/vigil-sim" -p 0 --port-file "$tmp/sim.json" -P "simone:openai:$key" \
    >/dev/null 2>"$tmp/sim.log" &
sim=$!
wait_for 10 test -s "$tmp/sim.json" || fatal "vigil-sim starts" "$tmp/sim.log"
simport=$(json 'j["port"]' "$tmp/sim.json")
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

if /usr/sbin/vigild --check-config >"$tmp/check0.log" 2>&1; then
	ok "vigild --check-config accepts the packaged default configuration"
else
	nok "vigild --check-config: the packaged default configuration"
	sed 's/^/# /' "$tmp/check0.log"
fi
(umask 077 && printf '%s\n' "$key" >/etc/vigil/keys/simone)
# The operator's edit: settings under [vigil], a provider at the end.
sed -i "/^\[vigil\]\$/a\\
; install test: probe vigil-sim fast, listen on a free port\\
interval = 500ms\\
timeout = 400ms\\
allow_fast_probes = yes\\
listen = 127.0.0.1:$port" /etc/vigil/vigil.conf
cat >>/etc/vigil/vigil.conf <<EOF

[provider "simone"]
kind = openai
base_url = http://127.0.0.1:$simport/simone
api_key_file = /etc/vigil/keys/simone
EOF
cp /etc/vigil/vigil.conf "$tmp/vigil.conf.edited"
if /usr/sbin/vigild --check-config -c /etc/vigil/vigil.conf \
    >"$tmp/check.log" 2>&1; then
	ok "vigild --check-config accepts the edited /etc/vigil/vigil.conf"
else
	nok "vigild --check-config -c /etc/vigil/vigil.conf"
	sed 's/^/# /' "$tmp/check.log"
fi

# ---- run it as the unit would -------------------------------------------------

# A notify socket for Type=notify: every datagram vigild sends, one a line.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
        f.flush()' "$tmp/notify.sock" "$tmp/notify.log" 2>/dev/null &
notify=$!
wait_for 5 test -S "$tmp/notify.sock" || fatal "notify socket"

unit=/lib/systemd/system/vigil.service
# start_unit LOG: run ExecStart= (systemd's prefixes -@:+! dropped) with
# the unit's UMask= and LimitNOFILE=, in an environment as bare as
# systemd's; sets $vigild and waits for READY=1.
start_unit() {
	cmd=$(sed -n 's/^ExecStart=[-@:+!]*//p' "$unit")
	um=$(sed -n 's/^UMask=//p' "$unit")
	nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
	: >"$tmp/notify.log"
	# shellcheck disable=SC2086
	(umask "${um:-0022}"; ulimit -n "${nofile:-1024}"
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 NOTIFY_SOCKET="$tmp/notify.sock" $cmd) \
	    >>"$1" 2>&1 </dev/null &
	vigild=$!
	wait_for 15 grep -q 'READY=1' "$tmp/notify.log"
}
healthy() { # provider: /health/integration says it is healthy
	get "http://127.0.0.1:$port/health/integration" >"$tmp/hi.json" &&
	    [ "$(cat "$tmp/http.status")" = 200 ] &&
	    [ "$(json '[p["status"] for p in j["providers"] if p["name"] == "'"$1"'"]' \
	    "$tmp/hi.json")" = "['healthy']" ]
}

if start_unit "$tmp/vigild1.log"; then
	ok "vigild started by ExecStart= ($cmd) says READY=1"
else
	fatal "vigild started by ExecStart= ($cmd) says READY=1" "$tmp/vigild1.log"
fi
if wait_for 20 healthy simone; then
	ok "/health/integration: simone is healthy"
else
	nok "/health/integration: simone is healthy"
	sed 's/^/# /' "$tmp/hi.json"; tail -20 "$tmp/vigild1.log" | sed 's/^/# /'
fi

vuid=$(id -u vigil)
kids=$(children "$vigild")
n=0
bad=""
for k in $kids; do
	n=$((n + 1))
	[ "$(uid_of "$k")" = "$vuid" ] || bad="$bad $k($(uid_of "$k"))"
done
if [ "$n" -ge 3 ] && [ -z "$bad" ]; then
	ok "vigild runs as root, its $n children as the vigil user"
else
	nok "children of vigild as the vigil user: $n children, not vigil:$bad"
fi

if vigilctl status >"$tmp/ctl.out" 2>&1 &&
    grep -Eq '^simone +healthy +yes +[^ ]+ +closed' "$tmp/ctl.out"; then
	ok "vigilctl status (default socket) shows simone healthy"
else
	nok "vigilctl status (default socket) shows simone healthy"
	sed 's/^/# /' "$tmp/ctl.out"
fi

# A consumer built against the installed header, with pkg-config alone: a
# copy of the example outside the tree, no -I of ours.
cp examples/vigil-status.c "$tmp/consumer.c"
# shellcheck disable=SC2046
if [ "$(pkg-config --modversion vigil 2>&1)" = "$version" ] &&
    cc -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags vigil) \
    -o "$tmp/consumer" "$tmp/consumer.c" $(pkg-config --libs vigil) \
    >"$tmp/cc.log" 2>&1; then
	ok "examples/vigil-status.c builds with pkg-config vigil ($version)"
else
	nok "examples/vigil-status.c builds with pkg-config vigil"
	sed 's/^/# /' "$tmp/cc.log"
fi
if [ -x "$tmp/consumer" ] && "$tmp/consumer" >"$tmp/consumer.out" 2>&1 &&
    grep -Eq '^simone +healthy +closed' "$tmp/consumer.out"; then
	ok "the consumer reads simone healthy from the daemon's segment"
else
	nok "the consumer reads simone healthy from the daemon's segment"
	sed 's/^/# /' "$tmp/consumer.out"
fi

# ---- stop, upgrade, restart ---------------------------------------------------

# history_count TO: simone's history records up to Unix time TO.
history_count() {
	get "http://127.0.0.1:$port/health/integration/history?provider=simone&to=$1" \
	    >"$tmp/history.json" &&
	    [ "$(cat "$tmp/http.status")" = 200 ] &&
	    json 'len(j["providers"][0]["points"])' "$tmp/history.json"
}
sleep 1
before=$(date +%s)
n1=$(history_count "$before")
if [ -n "$n1" ] && [ "$n1" -gt 0 ]; then
	ok "simone has $n1 history records before the upgrade"
else
	nok "simone has history records before the upgrade ('$n1')"
	sed 's/^/# /' "$tmp/history.json" | head -20
fi

kill -TERM "$vigild"
wait_for 30 sh -c "! kill -0 $vigild 2>/dev/null"
wait "$vigild"
rc=$?
vigild=""
if [ "$rc" -eq 0 ] && [ ! -e /dev/shm/vigil ] &&
    [ "$(stat -c %U /var/lib/vigil/state.msgpack 2>&1)" = vigil ]; then
	ok "SIGTERM: vigild exits 0, removes the segment, history saved in /var/lib/vigil"
else
	nok "SIGTERM: vigild exit $rc; segment: $(ls /dev/shm/vigil 2>&1);" \
	    "state: $(ls -l /var/lib/vigil 2>&1 | tr '\n' ' ')"
fi

if dpkg_w "$tmp/dpkg2.log" -i "$d2/vigil_${version}-2_${arch}.deb" \
    "$d2/libvigil-dev_${version}-2_all.deb" &&
    [ "$(dpkg-query -W -f '${Version}' vigil)" = "${version}-2" ] &&
    [ "$(dpkg-query -W -f '${Version}' libvigil-dev)" = "${version}-2" ]; then
	ok "dpkg -i upgrades both packages to ${version}-2"
else
	nok "dpkg -i upgrades both packages to ${version}-2"
	sed 's/^/# /' "$tmp/dpkg2.log"
fi
if cmp -s "$tmp/vigil.conf.edited" /etc/vigil/vigil.conf &&
    ! ls /etc/vigil/vigil.conf.dpkg-* >/dev/null 2>&1 &&
    [ -f /etc/vigil/keys/simone ]; then
	ok "the edited conffile and the key are kept"
else
	nok "the edited conffile and the key are kept"
	ls -l /etc/vigil /etc/vigil/keys 2>&1 | sed 's/^/# /'
fi

if start_unit "$tmp/vigild2.log"; then
	ok "the upgraded vigild says READY=1"
else
	fatal "the upgraded vigild says READY=1" "$tmp/vigild2.log"
fi
n2=""
if wait_for 10 healthy simone; then
	n2=$(history_count "$before")
fi
if [ -n "$n2" ] && [ -n "$n1" ] && [ "$n2" -ge "$n1" ] && [ "$n1" -gt 0 ]; then
	ok "history survives: $n2 records up to the stop (had $n1)"
else
	nok "history survives: '$n2' records up to the stop, had '$n1'"
	tail -20 "$tmp/vigild2.log" | sed 's/^/# /'
fi
if vigilctl status >"$tmp/ctl2.out" 2>&1 &&
    grep -Eq '^simone +healthy' "$tmp/ctl2.out"; then
	ok "vigilctl status answers after the upgrade"
else
	nok "vigilctl status answers after the upgrade"
	sed 's/^/# /' "$tmp/ctl2.out"
fi

kill -TERM "$vigild"
wait_for 30 sh -c "! kill -0 $vigild 2>/dev/null"
wait "$vigild"
vigild=""

# ---- purge ---------------------------------------------------------------------

if dpkg_w "$tmp/purge.log" --purge vigil libvigil-dev &&
    [ -z "$(status_of vigil | grep -v '^un$')" ] &&
    [ -z "$(status_of libvigil-dev | grep -v '^un$')" ]; then
	installed=no
	ok "dpkg --purge vigil libvigil-dev"
else
	nok "dpkg --purge vigil libvigil-dev"
	sed 's/^/# /' "$tmp/purge.log"
fi
left=""
for f in /etc/vigil /var/lib/vigil /run/vigil /dev/shm/vigil \
    /usr/sbin/vigild /usr/bin/vigilctl /usr/libexec/vigil \
    /usr/include/vigil /usr/share/pkgconfig/vigil.pc \
    /lib/systemd/system/vigil.service /usr/lib/sysusers.d/vigil.conf \
    /usr/lib/tmpfiles.d/vigil.conf /usr/share/doc/vigil \
    /usr/share/doc/libvigil-dev /usr/share/man/man8/vigild.8.gz \
    /usr/share/man/man7/vigil.7.gz \
    /etc/systemd/system/multi-user.target.wants/vigil.service \
    /var/lib/systemd/deb-systemd-helper-enabled/vigil.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/vigil.service; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
if [ -z "$left" ]; then
	ok "nothing left after the purge but the vigil user and group (policy)"
else
	nok "left after the purge:$left"
fi

[ "$fails" -eq 0 ]
