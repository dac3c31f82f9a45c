#!/bin/sh
# Installs what genid needs to build and test on Debian 12 (run as root,
# or as a user who may sudo).  Prints nothing when all is there already.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config libev-dev
libjansson-dev libbsd-dev check python3 mandoc faketime procps iproute2
strace util-linux"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
