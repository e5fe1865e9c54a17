#!/bin/sh
# Install missing Debian build (and, with "test", test) dependencies.
# Called by make; a no-op when everything is already there.
set -eu
what=${1:-build}

need=""
pkg() { # pkg-config name, Debian package
	pkg-config --exists "$1" 2>/dev/null || need="$need $2"
}
cmd() { # command, Debian package
	command -v "$1" >/dev/null 2>&1 || need="$need $2"
}

cmd pkg-config pkg-config
cmd cc gcc
cmd make make
if command -v pkg-config >/dev/null 2>&1; then
	pkg libcurl libcurl4-openssl-dev
	pkg libevent libevent-dev
	pkg libevent_openssl libevent-dev
	pkg msgpack libmsgpack-dev
	pkg libcjson libcjson-dev
	pkg inih libinih-dev
	pkg libssl libssl-dev
	pkg libcrypto libssl-dev
	pkg zlib zlib1g-dev
else
	need="$need libcurl4-openssl-dev libevent-dev libmsgpack-dev libcjson-dev libinih-dev libssl-dev zlib1g-dev"
fi
# libwslay has no pkg-config file in Debian.
[ -e /usr/include/wslay/wslay.h ] || need="$need libwslay-dev"
if [ "$what" = test ]; then
	cmd clang clang
	[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] ||
	    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 ||
	    need="$need libclang-rt-14-dev"
	/usr/bin/python3 -c 'import msgpack' 2>/dev/null || need="$need python3-msgpack"
	cmd valgrind valgrind
	cmd promtool prometheus
	cmd prometheus-alertmanager prometheus-alertmanager	# test_alertmanager.py
	cmd curl curl
	cmd chromium chromium
	cmd wrk wrk
	cmd openssl openssl	# test certificates for HTTPS probes
fi
if [ "$what" = bench ]; then
	cmd wrk wrk
	[ -x /usr/sbin/nginx ] || need="$need nginx-light"
	cmd gnuplot gnuplot-nox
	cmd openssl openssl
fi

[ -z "$need" ] && exit 0
echo "deps: installing:$need"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; install these yourself: apt-get install$need" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need
