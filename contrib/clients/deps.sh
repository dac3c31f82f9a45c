#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# contrib/clients/deps.sh [LANG...]: installs from Debian 12 what the
# clients' tests need, for the languages named (all when none): python,
# node, go, java.  Run as root, or as a user who may sudo.  Prints nothing
# when all is there already.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)

[ $# -gt 0 ] || set -- python node go java
want=""
for lang in "$@"; do
	case $lang in
	python) want="$want python3 python3-venv python3-setuptools python3-wheel python3-pip mypy" ;;
	node) want="$want nodejs" ;;
	go) want="$want golang-go" ;;
	java) want="$want openjdk-17-jdk-headless junit5" ;;
	*)
		echo "deps.sh: no packages known for \"$lang\" (python, node, go, java)" >&2
		exit 64
		;;
	esac
done
# shellcheck disable=SC2086
exec sh "$top/contrib/deps.sh" $want
