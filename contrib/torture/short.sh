#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# short.sh BUILD_DIR - CI: the short fault campaign against the genid of
# BUILD_DIR (built here if needed): about a minute of load with every
# fault kind at least once and at least 10^7 IDs checked, then
# POWERLOSS_ROUNDS (100) power losses under load.  Fails on any duplicate,
# order or identity violation, or a missing fault kind.  Root is needed
# for the tmpfs faults (the table says when they were skipped).
set -u
build=$(cd "${1:?usage: short.sh BUILD_DIR}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
make -C "$build" src/genid tests/powerloss/powerloss.la >/dev/null || exit 1
GENID=$build/src/genid
POWERLOSS_SO=$build/tests/powerloss/.libs/powerloss.so
export GENID POWERLOSS_SO
py=${PYTHON3:-python3}
pass=0
failed=0
if "$py" "$here/torture.py" --seconds "${TORTURE_SECONDS:-60}" \
    --min-ids 10000000 --require-all --gap 2.5 ${TORTURE_STRICT:+--strict}; then
	pass=$((pass + 1))
else
	failed=$((failed + 1))
fi
if "$py" "$here/torture.py" --powerloss-rounds "${POWERLOSS_ROUNDS:-100}" \
    --gap 0.6 --no-tmpfs ${TORTURE_STRICT:+--strict}; then
	pass=$((pass + 1))
else
	failed=$((failed + 1))
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
