#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh CORPUS_DIR TARGET... - runs each libFuzzer target for FUZZ_SECONDS
# (default 30) from its checked-in seeds, prints the executions of each and
# fails when any target found a crash, a leak, a sanitizer report or a
# broken property (the input is kept in FUZZ_WORK, default a temp dir).
# FUZZ_JOBS=N runs N processes per target (libFuzzer -jobs).
set -u
seeds=$1
shift
secs=${FUZZ_SECONDS:-30}
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/genid-fuzz.XXXXXX")}
mkdir -p "$work"
# A broken property aborts; ASan and UBSan reports are fatal.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=1"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS UBSAN_OPTIONS
failed=0
summary=""
for t in "$@"; do
	name=$(basename "$t")
	extra=
	case $name in
	fuzz_client) maxlen=16384 ;;
	fuzz_state) maxlen=8192 ;;
	# genidctl's warnings would fill the log: drop its stderr.
	fuzz_decode) maxlen=512 extra=-close_fd_mask=2 ;;
	*) maxlen=4096 ;;
	esac
	corpus=$work/corpus-$name
	mkdir -p "$corpus"
	log=$work/$name.log
	"$t" -max_total_time="$secs" -print_final_stats=1 -max_len=$maxlen \
	    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/$name-" \
	    $extra "$corpus" "$seeds/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ] || grep -q -e 'ERROR: AddressSanitizer' \
	    -e 'ERROR: LeakSanitizer' -e 'runtime error:' \
	    -e 'PROPERTY BROKEN' "$log"; then
		failed=$((failed + 1))
		verdict="FAILED (exit $rc, see $log)"
		grep -m 5 -e 'ERROR:' -e 'runtime error:' -e 'PROPERTY BROKEN' \
		    -e 'Test unit written' "$log" >&2
	else
		verdict=ok
	fi
	line=$(printf '%-14s %12s executions in %ss  %s' "$name" \
	    "${execs:-?}" "$secs" "$verdict")
	echo "$line"
	summary="$summary$line
"
done
printf '\nfuzz summary (work dir %s):\n%s' "$work" "$summary"
echo "$(($# - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
