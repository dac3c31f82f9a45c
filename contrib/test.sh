#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# One command from a fresh Debian 12 machine to the whole test suite.
# Installs the dependencies, builds in build-test/, and runs, each with its
# own log in build-test/logs/:
#   distcheck   make distcheck: unit tests, tests of the real binaries,
#               man-page lint, install and uninstall, the tarball
#   sanitizers  the same suite built with ASan and UBSan; any report fails
#   fuzz        every libFuzzer target for FUZZ_SECONDS (default 10)
#   torture     the short fault campaign (contrib/torture/short.sh)
#   ops         shellcheck, logrotate, haproxy, systemd-analyze, promtool
#   clients     the conformance suite of every client (C, Python, Node.js,
#               Go, Java) against the built genid
#   package     the Debian packages built, installed, upgraded, purged
#               (as root only: it installs packages)
#   busy        the integration tests once more, beside a CPU hog
#               (stress-ng, one per CPU): a suite that holds only on an
#               idle machine tests the machine, not genid
# GENID_TESTS="distcheck ops" runs a part.  Every part ends with its own
# "N passed, M failed"; this script adds them up and ends with one such
# line.  Exit status 0 when nothing failed.
# The parts are called as part_$name: unreachable to shellcheck.
# shellcheck disable=SC2317
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-test"
logs="$build/logs"
parts=${GENID_TESTS:-distcheck sanitizers fuzz torture ops clients package busy}
pass=0
fail=0
status=0
summary=""

sh "$top/contrib/deps.sh" || exit 1
cd "$top" || exit 1
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || exit 1
rm -rf "$build"
mkdir -p "$logs"
cd "$build" || exit 1
if ! { ../configure --quiet && make -j"$(nproc)"; } >"$logs/build.log" 2>&1; then
	tail -n 60 "$logs/build.log"
	echo "the build failed (log $logs/build.log)"
	echo "0 passed, 1 failed"
	exit 1
fi

# The Automake test summary of a log as "N passed, M failed".
automake_counts() {
	p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$1" | tail -n 1)
	f=0
	for k in FAIL ERROR XPASS; do
		v=$(sed -n "s/^# $k: *\([0-9]*\).*/\1/p" "$1" | tail -n 1)
		f=$((f + ${v:-0}))
	done
	echo "${p:-0} passed, $f failed"
}

part_distcheck() {
	out="$build/distcheck.out"
	make -j"$(nproc)" distcheck >"$out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' "$out"
	if [ "$rc" -ne 0 ]; then
		tail -n 80 "$out"
		find "$build" -name 'test-suite.log' -exec cat {} + 2>/dev/null |
			tail -n 200
	fi
	automake_counts "$out"
	return "$rc"
}

part_sanitizers() {
	sh "$top/contrib/test-sanitizers.sh"
}

part_fuzz() {
	sh "$top/contrib/test-fuzz.sh"
}

part_torture() {
	sh "$top/contrib/torture/short.sh" "$build"
}

part_ops() {
	sh "$top/contrib/test-ops.sh" "$build"
}

part_clients() {
	sh "$top/contrib/clients/test.sh" "$build/src/genid"
}

part_package() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: the package test installs packages: run it as root"
		echo "0 passed, 0 failed"
		return 0
	fi
	# Where a policy-rc.d forbids services (containers), let it allow
	# genid alone for the run, so that postinst's start and prerm's stop
	# are tested too.
	GENID_TEST_POLICY=${GENID_TEST_POLICY:-allow-genid} \
		sh "$top/contrib/test-package.sh"
}

# The integration tests of the plain build again (the unit tests do not
# wait on anything), with stress-ng keeping every CPU busy throughout.  A
# subshell, so that its trap stops the hog however the part ends and
# leaves the script's own signals alone.
part_busy() (
	hog=""
	stop_hog() {
		[ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog"
		hog=""
	}
	trap stop_hog EXIT
	trap 'exit 1' INT TERM HUP
	# One hog per CPU, as many as make runs tests at once: two on the
	# two-core machine CI runs on.  --timeout: should the trap never run
	# (SIGKILL), the hog still ends.
	stress-ng --cpu "$(nproc)" --timeout 1200 --quiet &
	hog=$!
	out="$build/busy.out"
	# make, not the shell, expands $(INTEG_TESTS): tests/integration.am.
	# shellcheck disable=SC2016
	make -C "$build" -j"$(nproc)" check TESTS='$(INTEG_TESTS)' >"$out" 2>&1
	rc=$?
	stop_hog
	grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' "$out"
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$out"
		# test-suite.log holds the log of every test that did not pass.
		cat "$build/test-suite.log" 2>/dev/null
	fi
	automake_counts "$out"
	return "$rc"
)

for part in $parts; do
	log="$logs/$part.log"
	started=$(date +%s)
	echo "== $part"
	case $part in
	distcheck | sanitizers | fuzz | torture | ops | clients | package | busy) ;;
	*)
		echo "no such part: $part"
		fail=$((fail + 1))
		status=1
		continue
		;;
	esac
	# Parts whose scripts another change brings are skipped until then.
	case $part in
	sanitizers) script=$top/contrib/test-sanitizers.sh ;;
	fuzz) script=$top/contrib/test-fuzz.sh ;;
	torture) script=$top/contrib/torture/short.sh ;;
	*) script= ;;
	esac
	if [ -n "$script" ] && [ ! -f "$script" ]; then
		echo "SKIP: $script is not in this tree"
		continue
	fi
	# The part's own output goes to its log; its last lines are shown.
	"part_$part" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		# A part that ended before counting counts as one failure.
		line="0 passed, 1 failed"
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		status=1
		tail -n 60 "$log"
	else
		grep -E '^(FAIL|not ok|ERROR)' "$log" | head -n 20
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	took=$(($(date +%s) - started))
	echo "$part: $p passed, $f failed ($took s, log $log)"
	summary="$summary
  $part: $p passed, $f failed, $took s"
done
echo "== summary$summary"
echo "$pass passed, $fail failed"
exit "$status"
