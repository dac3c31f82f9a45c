#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make install links every function libgenid(3) names in its NAME section
# to the page (man genid_next finds it), and make uninstall removes the
# links.  Installs only the manual pages, into a temporary DESTDIR.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-manlinks.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
make=${MAKE:-make}
funcs=$(sed -n 's/^\.Nm \(genid_[a-z_]*\).*/\1/p' "$GENID_SRCDIR/man/libgenid.3")
[ -n "$funcs" ] || {
	echo "FAIL: libgenid(3) names no function in its NAME section"
	exit 1
}
if ! "$make" -s -C "$GENID_BUILDDIR" install-man install-data-hook \
	DESTDIR="$tmp" >"$tmp.out" 2>&1; then
	cat "$tmp.out"
	rm -f "$tmp.out"
	echo "FAIL: make install-man install-data-hook"
	exit 1
fi
rm -f "$tmp.out"
page=$(find "$tmp" -name libgenid.3 -type f)
[ -n "$page" ] || {
	echo "FAIL: make install-man installed no libgenid.3 under $tmp"
	exit 1
}
dir=$(dirname "$page")
status=0
n=0
for f in $funcs; do
	n=$((n + 1))
	if [ -L "$dir/$f.3" ] && [ "$(readlink "$dir/$f.3")" = libgenid.3 ] &&
		cmp -s "$dir/$f.3" "$page"; then
		echo "ok: $f.3 -> libgenid.3"
	else
		echo "FAIL: $dir/$f.3 is no link to libgenid.3"
		status=1
	fi
done
if command -v man >/dev/null 2>&1; then
	found=$(MANPATH="$(dirname "$dir")" man -w genid_next 2>/dev/null)
	# man-db names the page a link leads to.
	if [ "$found" = "$dir/genid_next.3" ] || [ "$found" = "$page" ]; then
		echo "ok: man -w genid_next finds $found"
	else
		echo "FAIL: man -w genid_next found \"$found\""
		status=1
	fi
fi
"$make" -s -C "$GENID_BUILDDIR" uninstall-man uninstall-hook \
	DESTDIR="$tmp" >/dev/null 2>&1
left=$(find "$tmp" -name 'genid_*.3')
if [ -n "$left" ]; then
	echo "FAIL: make uninstall left $left"
	status=1
else
	echo "ok: make uninstall removed the $n links"
fi
exit $status
