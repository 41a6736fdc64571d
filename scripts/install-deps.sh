#!/bin/sh
# Installs the Debian packages Keystile needs to build, run and test, but only
# those that are missing, so it is quick when everything is there.
# Runs as root on Debian 12 (uses apt-get); elsewhere it only reports.
# libcurl comes as libcurl4-gnutls-dev: libiddawc-dev (the OIDC client) needs
# that flavour, and the two -dev flavours cannot be installed together.
set -eu
PACKAGES="gcc make pkg-config libc6-dev libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libpq-dev postgresql-15 zlib1g-dev libcurl4-gnutls-dev libxlsxwriter-dev libcsv-dev liboath-dev libiddawc-dev librhonabwy-dev python3 curl openssl libssl-dev nginx-light caddy valgrind chromium glewlwyd"
# `install-deps.sh bench` also installs what make bench needs (wrk).
[ "${1:-}" = bench ] && PACKAGES="$PACKAGES wrk"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The browser tests need Node.js (any >= 18) and Debian's Chromium.
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
echo "keystile: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "keystile: run as root, or install them yourself: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx must not start services: tests start their own.
cleanup=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    cleanup=/usr/sbin/policy-rc.d
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -n "$cleanup" ] && rm -f "$cleanup"
true
