#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# contrib/deps.sh [PACKAGE...]: installs from Debian 12 the packages named,
# or with none what genid needs to build and test (etcd-server: the real
# etcd of tests/integ_etcd.py; haproxy: the balancer in front of the
# fleet of tests/integ_fleet.py, whose clients reach every node only
# through it; stress-ng: the CPU hog of contrib/test.sh's part busy),
# skipping those already installed (run as root, or as a user who may
# sudo).  Prints nothing when all is there already.  contrib/deps-bench.sh
# and contrib/clients/deps.sh name their packages through it.
set -eu
[ $# -gt 0 ] || set -- build-essential autoconf automake libtool \
	pkg-config libev-dev libjansson-dev libbsd-dev libcurl4-openssl-dev check \
	python3 mandoc \
	faketime procps iproute2 strace util-linux etcd-server haproxy \
	stress-ng
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
# Other sessions on the machine may hold the dpkg lock for a while.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 \
	install -y -q $missing
