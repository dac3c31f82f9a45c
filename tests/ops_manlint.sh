#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Every manual page in man/ passes mandoc's lint at warning level.
mandoc=$(command -v mandoc) || {
	echo "SKIP: mandoc not found"
	exit 77
}
status=0
n=0
for page in "$GENID_SRCDIR"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$("$mandoc" -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out"
		echo "FAIL: $page (mandoc exit $rc)"
		status=1
	else
		echo "ok: $page"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "FAIL: no manual page in $GENID_SRCDIR/man"
	exit 1
fi
exit $status
