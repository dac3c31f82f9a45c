#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-conns.sh - the idle-connections target, in one command: starts a
# genid sized for N connections in a temporary directory, holds N idle
# connections to it with genid-conns, and stops it.
#
# usage: run-conns.sh [BUILDDIR | path/to/genid]
#
# Environment:
#   GENID        the daemon (default BUILDDIR/src/genid)
#   CONNS        genid-conns (default next to the daemon's build tree)
#   BENCH_CONNS  connections to hold (100000)
#   BENCH_PER_WORKER  connections per genid worker (15000): a worker is one
#                process and needs a descriptor for each, so "workers" is
#                BENCH_CONNS / BENCH_PER_WORKER rounded up (2 at least)
#   BENCH_FD_LIMIT  descriptors per process (ulimit -n): max_connections is
#                set so that each worker may take up to this less 1,000
#                (genid spreads connections over its workers evenly, but not
#                exactly: a worker at its share would refuse the rest)
#
# Exit status: 0 when every connection was opened, served and closed
# (whether or not the target was met), 1 otherwise.
set -u

n=${BENCH_CONNS:-100000}
per=${BENCH_PER_WORKER:-15000}
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n
fdlimit=${BENCH_FD_LIMIT:-$(ulimit -n)}

die() {
	echo "run-conns: $*" >&2
	exit 1
}

case "$n$per$fdlimit" in
*[!0-9]*) die "BENCH_CONNS=$n, BENCH_PER_WORKER=$per, BENCH_FD_LIMIT=$fdlimit: want whole numbers" ;;
esac
arg=${1:-}
if [ -d "$arg" ]; then
	GENID=$arg/src/genid
	CONNS=${CONNS:-$arg/contrib/bench/genid-conns}
elif [ -n "$arg" ]; then
	GENID=$arg
fi
[ -n "${GENID:-}" ] || die "usage: run-conns.sh [BUILDDIR | path/to/genid] (or set GENID)"
[ -x "$GENID" ] || die "$GENID: not an executable"
CONNS=${CONNS:-$(dirname "$GENID")/../contrib/bench/genid-conns}
[ -x "$CONNS" ] || die "$CONNS: not an executable (set CONNS)"

workers=$(((n + per - 1) / per))
[ $workers -lt 2 ] && workers=2
[ $workers -gt 32 ] && die "$n connections need $workers workers, genid runs 32 at most: raise BENCH_PER_WORKER"
[ "$fdlimit" -gt $((per + 2000)) ] ||
	die "descriptor limit $fdlimit: too low for $per connections per worker (lower BENCH_PER_WORKER)"
# genid gives each worker max_connections / workers.
maxc=$((workers * (fdlimit - 1000)))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-conns.XXXXXX") || die "mktemp failed"
gpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$gpid" ] && kill -TERM "$gpid" 2>/dev/null; then
		i=0
		while kill -0 "$gpid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$gpid" 2>/dev/null
		wait "$gpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

cat >"$tmp/genid.json" <<EOF2
{
  "listen": ["127.0.0.1"],
  "port": 0,
  "state_file": "$tmp/genid.state",
  "pid_file": "",
  "log_file": "",
  "log_level": "info",
  "workers": $workers,
  "max_connections": $maxc,
  "idle_timeout_s": 0
}
EOF2
"$GENID" -c "$tmp/genid.json" --init >/dev/null ||
	die "genid --init failed"
"$GENID" -c "$tmp/genid.json" 2>"$tmp/genid.log" &
gpid=$!
i=0
until grep -q 'ready: ' "$tmp/genid.log" 2>/dev/null; do
	if ! kill -0 "$gpid" 2>/dev/null || [ "$i" -ge 100 ]; then
		cat "$tmp/genid.log" >&2
		die "genid did not start"
	fi
	sleep 0.1
	i=$((i + 1))
done
gport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/genid.log" | head -n 1)
[ -n "$gport" ] || die "no \"listening on\" line in the genid log"

echo "genid: $workers workers, max_connections $maxc, port $gport" \
    "($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
# shellcheck disable=SC2086 # CONNS_ARGS is a list of options
"$CONNS" -p "$gport" --server-pid "$gpid" -n "$n" ${CONNS_ARGS:-}
status=$?
if grep -E 'warning|error' "$tmp/genid.log" >/dev/null; then
	echo "genid's log:" >&2
	grep -E 'warning|error' "$tmp/genid.log" | sort | uniq -c | head -n 20 >&2
fi
exit $status
