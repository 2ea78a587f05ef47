#!/bin/sh
# install-deps.sh - install what emofilter needs to build, test and run.
#
# Idempotent; works as root with no terminal (CI). Only Debian 12 packages.
# Packages already present are not reinstalled; apt-get update runs only
# when something is missing.
# chromium (and a Japanese font for its screenshots) is for the browser
# test of emofilter-web (tests/web/web.sh): about 125 MB to download,
# 415 MB installed, 27 s to install here.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libmilter-dev libgmime-3.0-dev libglib2.0-dev libzip-dev libyara-dev yara
libconfig-dev check libpsl-dev libssl-dev zlib1g-dev libjson-glib-dev
zip unzip p7zip-full python3 valgrind clang time bc
postfix swaks miltertest libsasl2-modules
debhelper lintian
libmicrohttpd-dev libcrypt-dev chromium fonts-ipafont-gothic
libsqlite3-dev libpq-dev postgresql"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks where mail goes; answer "No configuration" so that nothing
# listens on port 25 behind the admin's back. The tests run a private
# instance on loopback.
echo "postfix postfix/main_mailer_type select No configuration" |
    $SUDO debconf-set-selections
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
