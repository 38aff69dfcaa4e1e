#!/bin/sh
# Installs the Debian 12 packages scepd needs and are missing.
#   scripts/install-deps.sh build    to build and run scepd
#   scripts/install-deps.sh check    also to run the tests
set -eu

build="gcc make pkg-config libssl-dev libp11-dev libp11-kit-dev
 libmicrohttpd-dev libsqlite3-dev libconfig-dev libcurl4-openssl-dev
 libjansson-dev softhsm2 openssl"
check="$build libcmocka-dev scep opensc sqlite3 curl valgrind util-linux"

case "${1:-build}" in
build) want=$build ;;
check) want=$check ;;
*) echo "usage: $0 build|check" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "not root and no sudo: install these packages:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
