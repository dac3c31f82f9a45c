#!/bin/sh
# run-bench.sh - the SPEC 11 benchmark table in one command: genid against
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
#   REDIS_SERVER   the peer (default redis-server from PATH)
#
# Both servers run in a temporary directory, genid on a port the kernel
# picks, and are stopped by PID when the script ends.  Exit status: 0 when
# every run worked (whether or not the targets were met), 1 otherwise.

set -u

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-1}
threads=${BENCH_THREADS:-1}
redis=${REDIS_SERVER:-redis-server}
cap=2097152	# 2^21 IDs/s, the format's rate for one node (SPEC 1)
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

# Stops one server by PID: TERM, then KILL after 5 s.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

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
"$GENID" -c "$tmp/genid.json" --new-node 2>"$tmp/genid.log" &
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
	    "(apt-get install redis-server)" >&2
fi

# --- runs ----------------------------------------------------------------
failed=0
check=
[ "${BENCH_CHECK:-0}" = 1 ] && check=--check

# run NAME WARMUP ARGS...: one genid-bench run, its JSON kept as
# $tmp/NAME.json.
run() {
	name=$1
	w=$2
	shift 2
	set -- --json -t "$threads" -s "$seconds" -w "$w" "$@"
	echo "== $name: genid-bench $*" >&2
	if ! "$BENCH" "$@" >"$tmp/$name.json"; then
		echo "run-bench: run $name failed" >&2
		failed=1
	fi
	cat "$tmp/$name.json" >&2
}

# The format caps bulk and pipelined runs: their IDs/s only mean something
# once borrowing ahead of the clock has run its course (genid-bench also
# reports the sustained rate, less what was borrowed during the window).
capwarm=$((max_ahead + 2))
[ "${warmup%.*}" -gt $capwarm ] 2>/dev/null && capwarm=$warmup
# Each genid run is followed by its Redis peer, so that a pair sees the
# same machine (other load, frequency) as nearly as a sequence can.
run bulk "$capwarm" -p "$gport" --server-pid "$gpid" --settle 20 $check \
    -c 32 bulk
run pipe "$capwarm" -p "$gport" --server-pid "$gpid" --settle 20 $check \
    -c 50 -d 16 pipe
[ -n "$rport" ] && run redis_pipe "$warmup" -p "$rport" \
    --server-pid "$rpid" -c 50 -d 16 redis-incr
run single "$warmup" -p "$gport" --server-pid "$gpid" $check -c 50 single
[ -n "$rport" ] && run redis_single "$warmup" -p "$rport" \
    --server-pid "$rpid" -c 50 redis-incr

# --- table ---------------------------------------------------------------
f() {
	[ -s "$tmp/$1.json" ] && jget "$tmp/$1.json" "$2"
}
gversion=$("$GENID" -V 2>&1 | head -n 1)
nworkers=$(grep -c 'worker [0-9]* started' "$tmp/genid.log")

awk -v seconds="$seconds" -v threads="$threads" -v cap="$cap" \
    -v gv="$gversion" -v nw="$nworkers" -v rv="${rversion:-none}" \
    -v b_ids="$(f bulk ids_per_s)" -v b_sus="$(f bulk sustained_ids_per_s)" \
    -v b_cpu="$(f bulk server_cpu_s_per_m_ids)" \
    -v b_bk="$(f bulk buckets_used)" -v b_p99="$(f bulk p99_us)" \
    -v p_ids="$(f pipe ids_per_s)" -v p_sus="$(f pipe sustained_ids_per_s)" \
    -v p_cpu="$(f pipe server_cpu_s_per_m_ids)" \
    -v p_p99="$(f pipe p99_us)" -v p_bk="$(f pipe buckets_used)" \
    -v s_req="$(f single requests_per_s)" -v s_p50="$(f single p50_us)" \
    -v s_p99="$(f single p99_us)" -v s_p999="$(f single p999_us)" \
    -v s_cpu="$(f single server_cpu_s_per_m_ids)" \
    -v rp_req="$(f redis_pipe requests_per_s)" \
    -v rp_cpu="$(f redis_pipe server_cpu_s_per_m_ids)" \
    -v rp_p99="$(f redis_pipe p99_us)" \
    -v rs_req="$(f redis_single requests_per_s)" \
    -v rs_p50="$(f redis_single p50_us)" -v rs_p99="$(f redis_single p99_us)" \
    -v rs_p999="$(f redis_single p999_us)" \
    -v rs_cpu="$(f redis_single server_cpu_s_per_m_ids)" '
function has(v) { return v != "" }
function ratio(a, b) { return has(a) && has(b) && b + 0 > 0 ? sprintf("%.2fx", a / b) : "n/a" }
function pct(a) { return has(a) ? sprintf("%.1f%% of 2^21", 100 * a / cap) : "n/a" }
function num(v) { return has(v) ? sprintf("%.0f", v) : "n/a" }
function us(v) { return has(v) ? sprintf("%.1f us", v) : "n/a" }
function cpu(v) { return has(v) ? sprintf("%.3f s", v) : "n/a" }
function verdict(ok) { total++; if (ok == "") return "n/a"; if (ok) { met++; return "MET" } return "MISSED" }
function row(what, g, r, rat, target, v) {
	printf "%-34s %-16s %-16s %-18s %-22s %s\n", what, g, r, rat, target, v
}
BEGIN {
	printf "SPEC 11 targets: %s (%s workers) vs redis-server %s; %s s per run, %s client thread(s)\n\n",
	    gv, nw, rv, seconds, threads
	row("what", "genid", "redis", "ratio", "target", "")
	row("bulk CMD 1 n=255, 32 conns, IDs/s", num(b_ids), "-", pct(b_ids),
	    "", "")
	row("  sustained (less borrowing)", num(b_sus), "-", pct(b_sus),
	    ">= 95% of 2^21", verdict(has(b_sus) ? b_sus >= 0.95 * cap : ""))
	row("  server CPU s per million IDs", cpu(b_cpu), cpu(rp_cpu),
	    ratio(b_cpu, rp_cpu), "<= 0.33x redis",
	    verdict(has(b_cpu) && has(rp_cpu) ? b_cpu <= rp_cpu / 3 : ""))
	row("  buckets used", has(b_bk) ? b_bk " of 32" : "n/a", "", "", "", "")
	row("pipelined CMD 0 50x16, IDs/s", num(p_ids), num(rp_req), pct(p_ids),
	    "", "")
	row("  sustained (less borrowing)", num(p_sus), "-", pct(p_sus),
	    ">= 95% of 2^21", verdict(has(p_sus) ? p_sus >= 0.95 * cap : ""))
	row("  vs redis INCR 50x16", "", "", ratio(p_ids, rp_req), "", "")
	row("  server CPU s per million IDs", cpu(p_cpu), cpu(rp_cpu),
	    ratio(p_cpu, rp_cpu), "", "")
	row("  p99", us(p_p99), us(rp_p99), ratio(p_p99, rp_p99), "", "")
	row("  buckets used", has(p_bk) ? p_bk " of 32" : "n/a", "", "", "", "")
	row("one in flight CMD 0 50x1, req/s", num(s_req), num(rs_req),
	    ratio(s_req, rs_req), ">= 1.5x redis",
	    verdict(has(s_req) && has(rs_req) ? s_req >= 1.5 * rs_req : ""))
	row("  p50", us(s_p50), us(rs_p50), ratio(s_p50, rs_p50), "", "")
	row("  p99", us(s_p99), us(rs_p99), ratio(s_p99, rs_p99), "<= redis",
	    verdict(has(s_p99) && has(rs_p99) ? s_p99 <= rs_p99 : ""))
	row("  p999", us(s_p999), us(rs_p999), ratio(s_p999, rs_p999), "", "")
	row("  server CPU s per million IDs", cpu(s_cpu), cpu(rs_cpu),
	    ratio(s_cpu, rs_cpu), "", "")
	printf "\ntargets met: %d of %d\n", met, total
}'

[ $failed -eq 0 ] || die "some runs failed (see above)"
exit 0
