#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test-sanitizers.sh [BUILD_DIR] - builds genid with ASan and UBSan
# (--enable-sanitizers --enable-werror) in a folder of its own (default: a
# new temp dir), runs the whole `make check` and fails on a failing test
# or on any sanitizer report, also from a daemon a test started: every
# sanitized process writes its reports to files under BUILD_DIR/sanitizer,
# read at the end.  Ends with "N passed, M failed" (M counts the failed
# tests and the reports).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$(mktemp -d "${TMPDIR:-/tmp}/genid-sanitizers.XXXXXX")}
logs=$build/sanitizer
mkdir -p "$build" || exit 1
build=$(cd "$build" && pwd)
logs=$build/sanitizer
rm -rf "$logs"
mkdir -p "$logs"

fail() {
	echo "test-sanitizers: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

if [ ! -x "$src/configure" ]; then
	(cd "$src" && autoreconf -fi) || fail "autoreconf failed in $src"
fi
cd "$build" || exit 1
"$src/configure" --quiet --enable-sanitizers --enable-werror \
    >"$build/configure.out" 2>&1 ||
	fail "configure failed: see $build/configure.out"
make -j2 >"$build/make.out" 2>&1 ||
	fail "build failed: see $build/make.out"

# log_path: each process writes its ASan and LeakSanitizer reports to its
# own file (suffix .PID), which a test that only reads a daemon's exit
# status would never show.  GCC's UBSan, built in with ASan, still writes
# to stderr: the tests keep their temp dirs (daemons' stderr.log and
# genid.log) under BUILD_DIR/tmp, searched below.  halt_on_error: a
# report also fails the process itself.
ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
LSAN_OPTIONS="log_path=$logs/lsan"
TMPDIR=$build/tmp
GENID_TEST_KEEP=1
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
# Tests that run genid as another user (nobody) need to pass through.
chmod 755 "$build" "$TMPDIR"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TMPDIR GENID_TEST_KEEP
make -j2 check >"$build/check.out" 2>&1
rc=$?

passed=$(sed -n 's/^# PASS: *//p' "$build/check.out" | awk '{s+=$1} END {print s+0}')
failed=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$build/check.out" |
    awk '{s+=$1} END {print s+0}')
reports=0
for f in "$logs"/*; do
	[ -s "$f" ] || continue
	reports=$((reports + 1))
	echo "--- sanitizer report $f:" >&2
	head -n 40 "$f" >&2
done
# UBSan, and a process whose environment was replaced, print to stderr:
# the test logs and the daemons' files in the kept temp dirs.
hits=$({ find "$build" -name '*.log' -type f -not -path "$TMPDIR/*"
    find "$TMPDIR" -type f -size -64M; } | xargs -r grep -l -a \
    -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' \
    -e 'runtime error:' 2>/dev/null)
inlogs=0
for f in $hits; do
	inlogs=$((inlogs + 1))
	echo "--- sanitizer output in test log $f" >&2
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "make check exited $rc: see $build/check.out" >&2
	failed=1
fi
echo "sanitizer reports: $reports in $logs, $inlogs log files with one"
echo "$passed passed, $((failed + reports + inlogs)) failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$reports" -eq 0 ] &&
    [ "$inlogs" -eq 0 ]
