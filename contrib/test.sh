#!/bin/sh
# One command from a fresh Debian 12 machine to the whole test suite:
# installs the dependencies, builds in build-test/, and runs make distcheck
# (unit tests, tests of the real binaries, man-page lint, install and
# uninstall, the tarball).  Ends with one line "N passed, M failed".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/contrib/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
rm -rf build-test
mkdir build-test
cd build-test
../configure --quiet
make -j"$(nproc)" --quiet
log=$(mktemp)
status=0
make -j"$(nproc)" distcheck >"$log" 2>&1 || status=$?
# Show the test results of the distcheck run, and every failing log.
grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' "$log" || true
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 80 "$log"
	find . -name 'test-suite.log' -exec cat {} + 2>/dev/null | tail -n 200
fi
count() {
	v=$(sed -n "s/^# $1: *\([0-9]*\).*/\1/p" "$log" | tail -n 1)
	echo "${v:-0}"
}
pass=$(count PASS)
fail=$(($(count FAIL) + $(count ERROR) + $(count XPASS)))
rm -f "$log"
echo "$pass passed, $fail failed"
exit "$status"
