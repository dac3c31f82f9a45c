#!/bin/sh
# contrib/clients/deps.sh [LANG...]: installs from Debian 12 what the
# clients' tests need, for the languages named (all when none): python,
# node, go, java.  Run as root, or as a user who may sudo.  Prints nothing
# when all is there already.
set -eu

pkgs_python="python3 python3-venv python3-setuptools python3-wheel python3-pip mypy"
pkgs_node="nodejs"
pkgs_go="golang-go"
pkgs_java="openjdk-17-jdk-headless junit5"

[ $# -gt 0 ] || set -- python node go java
want=""
for lang in "$@"; do
	eval "list=\${pkgs_$lang:-}"
	if [ -z "$list" ]; then
		echo "deps.sh: no packages known for \"$lang\" (python, node, go, java)" >&2
		exit 64
	fi
	want="$want $list"
done
missing=""
for p in $want; do
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
