#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# contrib/clients/test.sh [GENID]: runs the conformance suite of every
# client in the tree (tests/clients/cases.json) against the built genid
# (the argument, or $GENID) and the fake server: libgenid (C, through
# ctypes), then each folder of contrib/clients/ that has a test_LANG
# function below; checks that each client's LICENSE is the tree's.
# Installs missing Debian toolchains through deps.sh.
# Shows the output of a suite that fails, and ends with one line
# "N passed, M failed".  Exit 0 when nothing failed.
#
# To add a language: a test_LANG function that runs its suite in
# contrib/clients/LANG and calls "tally PASSED FAILED" (output goes to
# the log), its name in LANGS, its packages in deps.sh, and a copy of
# LICENSE in its folder.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here="$top/contrib/clients"
LANGS="python node go java"
# Debian's Python and setuptools, not another one earlier in PATH.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi

GENID=${1:-${GENID:-}}
if [ -z "$GENID" ] || [ ! -x "$GENID" ]; then
	echo "usage: $0 PATH/TO/BUILD/src/genid (or set GENID): no genid binary at \"$GENID\"" >&2
	exit 64
fi
GENID=$(cd "$(dirname "$GENID")" && pwd)/$(basename "$GENID")
export GENID PYTHON

work=$(mktemp -d "${TMPDIR:-/tmp}/genid-clients.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

langs=""
for lang in $LANGS; do
	[ -d "$here/$lang" ] && langs="$langs $lang"
done
# shellcheck disable=SC2086
sh "$here/deps.sh" $langs || exit 1

passed=0
failed=0
# tally PASSED FAILED: the counts of the suite that just ran.
tally() {
	suite_pass=$1
	suite_fail=$2
}

# libgenid, the reference: the cases through ctypes.
test_c() {
	"$PYTHON" "$top/tests/clients/libgenid_cases.py" --genid "$GENID"
	rc=$?
	tally "$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$log")" \
	    "$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$log")"
	return $rc
}

# Each client's folder is what its package holds, so each has a copy of
# the tree's LICENSE (a link would not survive a copy, npm pack or a Go
# module zip): the copies say the same.
test_licence() {
	same=0
	differ=0
	for l in $langs; do
		if cmp "$top/LICENSE" "$here/$l/LICENSE"; then
			same=$((same + 1))
		else
			differ=$((differ + 1))
		fi
	done
	tally $same $differ
	[ $differ -eq 0 ]
}

# Python: install the package into a virtual environment as a user would
# (pip, Debian's setuptools, no network), then its unittest suite.
test_python() {
	if ! { cp -r "$here/python" "$work/python" &&
		"$PYTHON" -m venv --system-site-packages "$work/venv" &&
		"$work/venv/bin/pip" install -q --no-build-isolation \
		    --no-index "$work/python"; }; then
		tally 0 1
		return 1
	fi
	(cd "$work" && "$work/venv/bin/python" -m unittest discover -v \
	    -s "$here/python/tests")
	rc=$?
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in.*/\1/p' "$log")
	bad=0
	for k in failures errors unexpected\ successes; do
		n=$(sed -n "s/^\(OK\|FAILED\) (.*$k=\([0-9]*\).*/\2/p" "$log")
		bad=$((bad + ${n:-0}))
	done
	skip=$(sed -n 's/^\(OK\|FAILED\) (.*skipped=\([0-9]*\).*/\2/p' "$log")
	# The type hints hold: one more test.
	if "$PYTHON" -m mypy --strict --cache-dir "$work/mypy" \
	    "$here/python/src/genid64"; then
		tally $((${ran:-0} - bad - ${skip:-0} + 1)) $bad
	else
		tally $((${ran:-0} - bad - ${skip:-0})) $((bad + 1))
		rc=1
	fi
	return $rc
}

# Node.js: node --test on the package's tests.
test_node() {
	(cd "$here/node" && node --test test/)
	rc=$?
	tally "$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log")" \
	    "$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log")"
	return $rc
}

# Go: go vet, then go test (the conformance cases, the Go-specific tests,
# the README example) with no module proxy: the module has no
# dependencies.  Counts the PASS/FAIL lines of tests and subtests.
test_go() {
	(cd "$here/go" && export GOPROXY=off GOFLAGS=-mod=mod &&
	    go vet ./... && go test -count=1 -v ./...)
	rc=$?
	tally "$(grep -c -- '--- PASS' "$log")" "$(grep -c -- '--- FAIL' "$log")"
	return $rc
}

# Java: build.sh compiles with javac, makes the jar and runs the JUnit 5
# console launcher; the build goes to the work folder.
test_java() {
	BUILD_DIR="$work/java" sh "$here/java/build.sh"
	rc=$?
	tally "$(sed -n 's/^\[ *\([0-9]*\) tests successful *\]$/\1/p' "$log")" \
	    "$(sed -n 's/^\[ *\([0-9]*\) tests failed *\]$/\1/p' "$log")"
	return $rc
}

for lang in c licence $langs; do
	log="$work/$lang.log"
	suite_pass=0
	suite_fail=0
	start=$(date +%s)
	if command -v "test_$lang" >/dev/null 2>&1; then
		"test_$lang" >"$log" 2>&1
		rc=$?
	else
		echo "no test_$lang function in $0" >"$log"
		rc=1
	fi
	suite_pass=${suite_pass:-0}
	suite_fail=${suite_fail:-0}
	# A suite that fails without a failed test (it did not run) counts.
	if [ "$rc" -ne 0 ] && [ "$suite_fail" -eq 0 ]; then
		suite_fail=1
	fi
	echo "$lang: $suite_pass passed, $suite_fail failed ($(($(date +%s) - start)) s)"
	if [ "$suite_fail" -ne 0 ]; then
		sed 's/^/    /' "$log" | tail -n 150
	fi
	passed=$((passed + suite_pass))
	failed=$((failed + suite_fail))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
