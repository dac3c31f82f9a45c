#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# contrib/test-fuzz.sh [DIR]: builds the libFuzzer targets with clang in
# DIR (default build-fuzz/ at the top of the tree) and runs each from its
# checked-in seeds for FUZZ_SECONDS (default 10), then replays the inputs
# of bugs fixed earlier.  Fails on a crash, a leak, a sanitizer report or
# a broken property; ends with one line "N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-fuzz}
sh "$top/contrib/deps.sh" clang || exit 1
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) || exit 1
mkdir -p "$dir" || exit 1
cd "$dir" || exit 1
if ! { [ -f Makefile ] || CC=clang "$top/configure" --quiet --enable-fuzzing; } ||
	! make -j"$(nproc)" --quiet >build.log 2>&1; then
	tail -n 40 build.log 2>/dev/null
	echo "0 passed, 1 failed"
	exit 1
fi
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
