#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-bench.sh - the target table in one command: genid against
# a redis-server started by the same run, on loopback.
#
# usage: run-bench.sh [BUILDDIR | path/to/genid]
#
# Environment:
#   GENID          the daemon (default BUILDDIR/src/genid)
#   BENCH          genid-bench (default next to the daemon's build tree)
#   BENCH_SECONDS  measured seconds per run (10; 3 for a quick look)
#   BENCH_WARMUP   warm-up seconds before each run (1); the runs capped by
#                  the format warm up for max_ahead_s + 2 s at least, then
#                  until the buckets stop borrowing ahead of the clock
#   BENCH_THREADS  client threads (1)
#   BENCH_CHECK    1: keep every ID and check for duplicates (memory!)
#   BENCH_WORKERS  genid's "workers" (default: genid's, the number of CPUs)
#   BENCH_REPS     repetitions of every run (3); each figure is printed as
#                  min/median/max, and the verdicts use the medians
#   BENCH_RATE     requests/s of the open-loop one-in-flight runs (default:
#                  half the lower of the two servers' median requests/s
#                  in the closed-loop runs)
#   REDIS_SERVER   the peer (default redis-server from PATH)
#
# Both servers run in a temporary directory, genid on a port the kernel
# picks, and are stopped by PID when the script ends.  The order of genid
# and Redis alternates from one repetition to the next, so that neither
# always runs first on a machine whose load changes.  Exit status: 0 when
# every run worked (whether or not the targets were met), 1 otherwise.

# The g_* and r_* runs are called by name: unreachable to shellcheck.
# shellcheck disable=SC2317
set -u

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-1}
threads=${BENCH_THREADS:-1}
reps=${BENCH_REPS:-3}
redis=${REDIS_SERVER:-redis-server}
cap=2097152	# 2^21 IDs/s, the format's rate for one node (genid(7))
max_ahead=5	# borrowing limit written in the config below

die() {
	echo "run-bench: $*" >&2
	exit 1
}

arg=${1:-}
if [ -d "$arg" ]; then
	GENID=$arg/src/genid
	BENCH=${BENCH:-$arg/contrib/bench/genid-bench}
elif [ -n "$arg" ]; then
	GENID=$arg
fi
[ -n "${GENID:-}" ] || die "usage: run-bench.sh [BUILDDIR | path/to/genid] (or set GENID)"
[ -x "$GENID" ] || die "$GENID: not an executable"
BENCH=${BENCH:-$(dirname "$GENID")/../contrib/bench/genid-bench}
[ -x "$BENCH" ] || die "$BENCH: not an executable (set BENCH)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-bench.XXXXXX") || die "mktemp failed"
gpid=
rpid=

# lib.sh sits beside this script, wherever shellcheck runs from.
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	stop "$gpid"
	stop "$rpid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Waits up to 10 s for a line matching $2 in file $1 while process $3 lives.
wait_log() {
	i=0
	while [ $i -lt 100 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A TCP port free on 127.0.0.1 right now.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
	else
		echo $((20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 40000))
	fi
}

# The value of "key" in the flat JSON object of file $1.
jget() {
	sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}[,}].*/\1/p" "$1"
}

# --- genid ---------------------------------------------------------------
cat >"$tmp/genid.json" <<EOF
{
  "listen": ["127.0.0.1"],
  "port": 0,
  "state_file": "$tmp/genid.state",
  "pid_file": "",
  "log_file": "",
  "log_level": "info",${BENCH_WORKERS:+
  \"workers\": $BENCH_WORKERS,}
  "max_ahead_s": $max_ahead
}
EOF
"$GENID" -c "$tmp/genid.json" --init >/dev/null ||
	die "genid --init failed"
"$GENID" -c "$tmp/genid.json" 2>"$tmp/genid.log" &
gpid=$!
wait_log "$tmp/genid.log" 'ready: ' "$gpid" ||
	{ cat "$tmp/genid.log" >&2; die "genid did not start"; }
gport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/genid.log" | head -n 1)
[ -n "$gport" ] || die "no \"listening on\" line in the genid log"

# --- redis ---------------------------------------------------------------
rport=
if command -v "$redis" >/dev/null 2>&1; then
	for _ in 1 2 3 4 5; do
		rport=$(free_port)
		: >"$tmp/redis.log"
		"$redis" --port "$rport" --bind 127.0.0.1 --save '' \
		    --appendonly no --daemonize no --dir "$tmp" \
		    --logfile "$tmp/redis.log" &
		rpid=$!
		wait_log "$tmp/redis.log" 'Ready to accept connections' "$rpid" &&
			break
		stop "$rpid"
		rpid=
		rport=
	done
	[ -n "$rport" ] || { cat "$tmp/redis.log" >&2; die "redis-server did not start"; }
	rversion=$("$redis" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
else
	echo "run-bench: $redis not found: the Redis rows are skipped" \
	    "(sh contrib/deps-bench.sh, or apt-get install redis-server)" >&2
fi

# --- runs ----------------------------------------------------------------
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
failed=0
check=
[ "${BENCH_CHECK:-0}" = 1 ] && check=--check
case $reps in
'' | *[!0-9]* | 0) die "BENCH_REPS=$reps: want a whole number above 0" ;;
esac

# run NAME REP WARMUP ARGS...: one genid-bench run, its JSON kept as
# $tmp/NAME.REP.json.
run() {
	name=$1
	rep=$2
	w=$3
	shift 3
	set -- --json -t "$threads" -s "$seconds" -w "$w" "$@"
	echo "== $name ($rep of $reps): genid-bench $*" >&2
	if ! "$BENCH" "$@" >"$tmp/$name.$rep.json"; then
		echo "run-bench: run $name failed" >&2
		failed=1
	fi
	cat "$tmp/$name.$rep.json" >&2
}

# The format caps bulk and pipelined runs: their IDs/s only mean something
# once borrowing ahead of the clock has run its course (genid-bench also
# reports the sustained rate, less what was borrowed during the window).
capwarm=$((max_ahead + 2))
[ "${warmup%.*}" -gt $capwarm ] 2>/dev/null && capwarm=$warmup

# The runs of one pattern for genid (g_*) and for Redis (r_*).  Redis' bulk
# peer is like for like: 255 INCR written at once make one request of 255
# IDs; INCRBY 255 is a kinder second baseline (one command hands out a
# block of 255, the client makes up the IDs).
g_bulk() {
	run bulk "$1" "$capwarm" -p "$gport" --server-pid "$gpid" --settle 20 \
	    ${check:+"$check"} -c 32 bulk
}
r_bulk() {
	[ -n "$rport" ] || return 0
	run redis_bulk "$1" "$warmup" -p "$rport" --server-pid "$rpid" \
	    -c 32 --batch 255 redis-incr
	run redis_incrby "$1" "$warmup" -p "$rport" --server-pid "$rpid" \
	    -c 32 redis-incrby
}
g_pipe() {
	run pipe "$1" "$capwarm" -p "$gport" --server-pid "$gpid" --settle 20 \
	    ${check:+"$check"} -c 50 -d 16 pipe
}
r_pipe() {
	[ -n "$rport" ] || return 0
	run redis_pipe "$1" "$warmup" -p "$rport" --server-pid "$rpid" \
	    -c 50 -d 16 redis-incr
}
# --rx-timestamps: the latency to the kernel's receive time as well, which
# leaves out the time a reply waited for the client's own thread.
g_single() {
	run single "$1" "$warmup" -p "$gport" --server-pid "$gpid" ${check:+"$check"} \
	    --rx-timestamps -c 50 single
}
r_single() {
	[ -n "$rport" ] || return 0
	run redis_single "$1" "$warmup" -p "$rport" --server-pid "$rpid" \
	    --rx-timestamps -c 50 redis-incr
}

# Each genid run is next to its Redis peer, so that a pair sees the same
# machine (other load, frequency) as nearly as a sequence can; odd
# repetitions run genid first, even ones Redis.
rep=1
while [ $rep -le "$reps" ]; do
	for pattern in bulk pipe single; do
		if [ $((rep % 2)) -eq 1 ]; then
			"g_$pattern" $rep
			"r_$pattern" $rep
		else
			"r_$pattern" $rep
			"g_$pattern" $rep
		fi
	done
	rep=$((rep + 1))
done

# The same one-in-flight load at one fixed rate for both servers, open
# loop: each connection sends on a schedule, and a request's latency counts
# from when it was due, so a stall of the server (or of the client) is
# charged to every request it delays.  The closed-loop runs above compare
# tails at different throughputs (the faster server also drives the
# client harder); these compare them at the same one.
med_req() {
	for f in "$tmp/$1".*.json; do
		[ -s "$f" ] && jget "$f" requests_per_s
	done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
rate=${BENCH_RATE:-}
if [ -z "$rate" ]; then
	gr=$(med_req single)
	rr=$(med_req redis_single)
	rate=$(awk -v g="${gr:-0}" -v r="${rr:-0}" 'BEGIN {
	    m = g; if (r > 0 && (m == 0 || r < m)) m = r; printf "%.0f", m / 2 }')
fi
if [ "${rate:-0}" -gt 0 ] 2>/dev/null; then
	rep=1
	while [ $rep -le "$reps" ]; do
		if [ $((rep % 2)) -eq 1 ] || [ -z "$rport" ]; then
			run single_rate "$rep" "$warmup" -p "$gport" \
			    --server-pid "$gpid" --rx-timestamps --rate "$rate" \
			    -c 50 single
		fi
		[ -n "$rport" ] && run redis_single_rate "$rep" "$warmup" \
		    -p "$rport" --server-pid "$rpid" --rx-timestamps \
		    --rate "$rate" -c 50 redis-incr
		if [ $((rep % 2)) -eq 0 ] && [ -n "$rport" ]; then
			run single_rate "$rep" "$warmup" -p "$gport" \
			    --server-pid "$gpid" --rx-timestamps --rate "$rate" \
			    -c 50 single
		fi
		rep=$((rep + 1))
	done
fi

# --- table ---------------------------------------------------------------
# stats NAME KEY: "min median max" of KEY over the repetitions of NAME
# (the median of an even count is the lower middle one), or nothing.
stats() {
	for f in "$tmp/$1".*.json; do
		[ -s "$f" ] && jget "$f" "$2"
	done | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR) print v[1], v[int((NR + 1) / 2)], v[NR] }'
}
gversion=$("$GENID" -V 2>&1 | head -n 1)
nworkers=$(grep -c 'worker [0-9]* started' "$tmp/genid.log")

# One line per figure: "KEY min med max" for awk.
for name in bulk redis_bulk redis_incrby pipe redis_pipe single redis_single \
    single_rate redis_single_rate; do
	for key in ids_per_s sustained_ids_per_s requests_per_s p50_us p99_us \
	    p999_us krx_p99_us server_cpu_s_per_m_ids server_cpu_us_per_req \
	    buckets_used client_cpu_s; do
		v=$(stats "$name" "$key")
		[ -n "$v" ] && echo "$name.$key $v"
	done
done >"$tmp/figures"

awk -v seconds="$seconds" -v threads="$threads" -v cap="$cap" \
    -v gv="$gversion" -v nw="$nworkers" -v rv="${rversion:-none}" \
    -v reps="$reps" -v rate="${rate:-0}" -v load0="$load0" \
    -v load1="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" -v ncpu="$(nproc)" '
{ lo[$1] = $2; med[$1] = $3; hi[$1] = $4 }
function has(k) { return k in med }
function m(k) { return med[k] }
function fmt(k, kind,   a, b, c) {
	if (!has(k)) return "n/a"
	if (kind == "num") { a = sprintf("%.0f", lo[k]); b = sprintf("%.0f", med[k]); c = sprintf("%.0f", hi[k]) }
	else if (kind == "k") { a = sprintf("%.0fk", lo[k] / 1e3); b = sprintf("%.0fk", med[k] / 1e3); c = sprintf("%.0fk", hi[k] / 1e3) }
	else if (kind == "us") { a = sprintf("%.0f", lo[k]); b = sprintf("%.0f", med[k]); c = sprintf("%.0f us", hi[k]) }
	else if (kind == "cpu") { a = sprintf("%.3f", lo[k]); b = sprintf("%.3f", med[k]); c = sprintf("%.3f s", hi[k]) }
	else if (kind == "cpr") { a = sprintf("%.1f", lo[k]); b = sprintf("%.1f", med[k]); c = sprintf("%.1f us", hi[k]) }
	else { a = lo[k]; b = med[k]; c = hi[k] }
	return a "/" b "/" c
}
function ratio(a, b) { return has(a) && has(b) && m(b) + 0 > 0 ? sprintf("%.2fx", m(a) / m(b)) : "n/a" }
function pct(a) { return has(a) ? sprintf("%.1f%% of 2^21", 100 * m(a) / cap) : "n/a" }
# le(a, b, f): a <= f * b over the medians ("" when either is missing)
function le(a, b, f) { return has(a) && has(b) ? m(a) <= f * m(b) : "" }
function ge(a, b, f) { return has(a) && has(b) ? m(a) >= f * m(b) : "" }
function atleast(a, v) { return has(a) ? m(a) >= v : "" }
function verdict(ok) { total++; if (ok == "") return "n/a"; if (ok) { met++; return "MET" } return "MISSED" }
function row(what, g, r, rat, target, v) {
	printf "%-36s %-26s %-26s %-15s %-16s %s\n", what, g, r, rat, target, v
}
END {
	printf "targets: %s (%s workers) vs redis-server %s\n", gv, nw, rv
	printf "%s s per run, %s client thread(s), %s repetitions (order alternating);\n", seconds, threads, reps
	printf "figures are min/median/max; ratios and verdicts use the medians\n"
	printf "%s CPUs, load average %s at the start, %s at the end\n\n", ncpu, load0, load1
	row("what", "genid", "redis", "ratio", "target", "")
	print "bulk: genid CMD 1 n=255, 32 conns; redis A = 255 INCR pipelined per request, B = INCRBY 255"
	row("  IDs/s", fmt("bulk.ids_per_s", "k"), "A " fmt("redis_bulk.ids_per_s", "k"),
	    pct("bulk.ids_per_s"), "", "")
	row("", "", "B " fmt("redis_incrby.ids_per_s", "k"), "", "", "")
	row("  sustained IDs/s (less borrowing)", fmt("bulk.sustained_ids_per_s", "k"), "-",
	    pct("bulk.sustained_ids_per_s"), ">= 95% of 2^21",
	    verdict(atleast("bulk.sustained_ids_per_s", 0.95 * cap)))
	row("  server CPU s per million IDs", fmt("bulk.server_cpu_s_per_m_ids", "cpu"),
	    "A " fmt("redis_bulk.server_cpu_s_per_m_ids", "cpu"),
	    "A " ratio("bulk.server_cpu_s_per_m_ids", "redis_bulk.server_cpu_s_per_m_ids"),
	    "<= 0.33x A",
	    verdict(le("bulk.server_cpu_s_per_m_ids", "redis_bulk.server_cpu_s_per_m_ids", 1 / 3)))
	row("", "", "B " fmt("redis_incrby.server_cpu_s_per_m_ids", "cpu"),
	    "B " ratio("bulk.server_cpu_s_per_m_ids", "redis_incrby.server_cpu_s_per_m_ids"), "", "")
	row("  server CPU per request", fmt("bulk.server_cpu_us_per_req", "cpr"),
	    "A " fmt("redis_bulk.server_cpu_us_per_req", "cpr"),
	    "A " ratio("bulk.server_cpu_us_per_req", "redis_bulk.server_cpu_us_per_req"), "", "")
	row("", "", "B " fmt("redis_incrby.server_cpu_us_per_req", "cpr"),
	    "B " ratio("bulk.server_cpu_us_per_req", "redis_incrby.server_cpu_us_per_req"), "", "")
	row("  buckets used of 32", fmt("bulk.buckets_used"), "", "", "", "")
	print "pipelined: CMD 0 vs INCR, 50 conns x 16 in flight"
	row("  IDs/s", fmt("pipe.ids_per_s", "k"), fmt("redis_pipe.ids_per_s", "k"),
	    ratio("pipe.ids_per_s", "redis_pipe.ids_per_s"), "", "")
	row("  sustained IDs/s (less borrowing)", fmt("pipe.sustained_ids_per_s", "k"), "-",
	    pct("pipe.sustained_ids_per_s"), ">= 95% of 2^21",
	    verdict(atleast("pipe.sustained_ids_per_s", 0.95 * cap)))
	row("  server CPU per request", fmt("pipe.server_cpu_us_per_req", "cpr"),
	    fmt("redis_pipe.server_cpu_us_per_req", "cpr"),
	    ratio("pipe.server_cpu_us_per_req", "redis_pipe.server_cpu_us_per_req"), "", "")
	row("  p99", fmt("pipe.p99_us", "us"), fmt("redis_pipe.p99_us", "us"),
	    ratio("pipe.p99_us", "redis_pipe.p99_us"), "", "")
	row("  buckets used of 32", fmt("pipe.buckets_used"), "", "", "", "")
	print "one in flight: CMD 0 vs INCR, 50 conns x 1"
	row("  requests/s", fmt("single.requests_per_s", "k"), fmt("redis_single.requests_per_s", "k"),
	    ratio("single.requests_per_s", "redis_single.requests_per_s"), ">= 1.0x redis",
	    verdict(ge("single.requests_per_s", "redis_single.requests_per_s", 1)))
	row("  p50", fmt("single.p50_us", "us"), fmt("redis_single.p50_us", "us"),
	    ratio("single.p50_us", "redis_single.p50_us"), "", "")
	row("  p99", fmt("single.p99_us", "us"), fmt("redis_single.p99_us", "us"),
	    ratio("single.p99_us", "redis_single.p99_us"), "<= 1.0x redis",
	    verdict(le("single.p99_us", "redis_single.p99_us", 1)))
	row("  p99 to kernel receive time", fmt("single.krx_p99_us", "us"), fmt("redis_single.krx_p99_us", "us"),
	    ratio("single.krx_p99_us", "redis_single.krx_p99_us"), "", "")
	row("  p999", fmt("single.p999_us", "us"), fmt("redis_single.p999_us", "us"),
	    ratio("single.p999_us", "redis_single.p999_us"), "", "")
	row("  server CPU per request", fmt("single.server_cpu_us_per_req", "cpr"),
	    fmt("redis_single.server_cpu_us_per_req", "cpr"),
	    ratio("single.server_cpu_us_per_req", "redis_single.server_cpu_us_per_req"), "<= 0.8x redis",
	    verdict(le("single.server_cpu_us_per_req", "redis_single.server_cpu_us_per_req", 0.8)))
	row("  client CPU s", fmt("single.client_cpu_s", "cpu"), fmt("redis_single.client_cpu_s", "cpu"),
	    ratio("single.client_cpu_s", "redis_single.client_cpu_s"), "", "")
	printf "one in flight at the same rate, %s requests/s for both: CMD 0 vs INCR, 50 conns, open loop\n", rate
	row("  requests/s", fmt("single_rate.requests_per_s", "k"), fmt("redis_single_rate.requests_per_s", "k"),
	    ratio("single_rate.requests_per_s", "redis_single_rate.requests_per_s"), "", "")
	row("  p50 (from when due)", fmt("single_rate.p50_us", "us"), fmt("redis_single_rate.p50_us", "us"),
	    ratio("single_rate.p50_us", "redis_single_rate.p50_us"), "", "")
	row("  p99 (from when due)", fmt("single_rate.p99_us", "us"), fmt("redis_single_rate.p99_us", "us"),
	    ratio("single_rate.p99_us", "redis_single_rate.p99_us"), "<= 1.0x redis",
	    verdict(le("single_rate.p99_us", "redis_single_rate.p99_us", 1)))
	row("  p99 to kernel receive time", fmt("single_rate.krx_p99_us", "us"), fmt("redis_single_rate.krx_p99_us", "us"),
	    ratio("single_rate.krx_p99_us", "redis_single_rate.krx_p99_us"), "", "")
	row("  p999 (from when due)", fmt("single_rate.p999_us", "us"), fmt("redis_single_rate.p999_us", "us"),
	    ratio("single_rate.p999_us", "redis_single_rate.p999_us"), "", "")
	row("  server CPU per request", fmt("single_rate.server_cpu_us_per_req", "cpr"),
	    fmt("redis_single_rate.server_cpu_us_per_req", "cpr"),
	    ratio("single_rate.server_cpu_us_per_req", "redis_single_rate.server_cpu_us_per_req"), "", "")
	printf "\ntargets met: %d of %d\n", met, total
}' "$tmp/figures"

[ $failed -eq 0 ] || die "some runs failed (see above)"
exit 0
