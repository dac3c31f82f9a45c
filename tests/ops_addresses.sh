#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The manual pages, the samples and the clients' documentation give only
# loopback addresses (127.0.0.0/8, ::1) or the unspecified one (0.0.0.0,
# ::) as examples: an address someone could reach by accident must not be
# copied from them.  Each address found elsewhere is listed with its file
# and line.
cd "$GENID_SRCDIR" || exit 1
files=$(ls man/*.[1-8] etc/genid.json etc/init.d/* contrib/python/*.py \
	contrib/haproxy/* contrib/systemd/* contrib/logrotate/* \
	contrib/prometheus/* contrib/clients/CONTRACT.md \
	contrib/clients/*/README.md README.md 2>/dev/null)
[ -n "$files" ] || {
	echo "FAIL: none of the files to scan was found in $GENID_SRCDIR"
	exit 1
}
# shellcheck disable=SC2086 # the list is split on purpose
v4=$(grep -noE '\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b' \
	$files | grep -vE ':(127\.[0-9]+\.[0-9]+\.[0-9]+|0\.0\.0\.0)$')
# shellcheck disable=SC2086
v6=$(grep -noE '\[[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*\]|\b[0-9a-fA-F]{1,4}::[0-9a-fA-F:]*/[0-9]+' \
	$files | grep -vE ':(\[::1?\]|::1/128)$')
if [ -n "$v4$v6" ]; then
	printf '%s\n' "$v4" "$v6" | grep .
	echo "FAIL: the addresses above are neither loopback nor unspecified;" \
	    "use 127.0.0.x or [::1] in examples"
	exit 1
fi
echo "ok: $(echo "$files" | wc -l) files give only loopback addresses"
