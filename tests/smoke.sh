#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A short smoke test of the built genid and genidctl, the one
# dpkg-buildpackage runs (make check-smoke, debian/rules): genid -c --init
# makes the state file in a temporary directory, genid -t accepts the
# configuration, genid serves on an ephemeral loopback port, genidctl get
# fetches IDs and genidctl decode and INFO agree on the node, SIGTERM stops
# it cleanly, and a restart on the same state file serves IDs above the
# ones before.  Seconds, not minutes: the integration tests are make check.
# Every wait polls for its condition with a deadline, and genid is stopped
# whatever happens.

if [ ! -x "${GENID:-}" ] || [ ! -x "${GENIDCTL:-}" ]; then
	echo "FAIL: GENID and GENIDCTL must name the built genid and genidctl"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-smoke.XXXXXX") || exit 1
conf=$tmp/genid.json
log=$tmp/genid.log
master=
workers=

now() {
	date +%s
}

# Runs "$@" until it succeeds, for at most $1 seconds.
poll() {
	deadline=$(($(now) + $1))
	shift
	until "$@"; do
		[ "$(now)" -lt "$deadline" ] || return 1
		sleep 0.1 2>/dev/null || sleep 1
	done
}

alive() {
	kill -0 "$1" 2>/dev/null
}

dead() {
	! alive "$1"
}

# Stops the genid this test started, and its workers should the master
# not take them along.
stop_all() {
	[ -n "$master" ] || return 0
	kill -TERM "$master" 2>/dev/null
	poll 20 dead "$master" || kill -KILL "$master" 2>/dev/null
	for w in $workers; do
		poll 10 dead "$w" || kill -KILL "$w" 2>/dev/null
	done
	master=
}

cleanup() {
	stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "FAIL: $*"
	if [ -f "$log" ]; then
		echo "--- $log"
		cat "$log"
	fi
	exit 1
}

# Prints the command, to stderr so that $(run ...) captures its output
# alone, and runs it.
run() {
	echo "+ $*" >&2
	"$@"
}

# The port genid logged for its $1-th start.
port_of() {
	sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" |
	    sed -n "$1p"
}

ready() {
	[ -f "$log" ] && [ "$(grep -c 'ready:' "$log")" -ge "$1" ] &&
	    [ -n "$(port_of "$1")" ]
}

# Starts genid in the foreground, in the background of this shell, and
# waits for its $1-th "ready:" line; sets master, workers and port.
start() {
	echo "+ $GENID -c $conf &"
	"$GENID" -c "$conf" &
	master=$!
	poll 30 ready "$1" || fail "genid logged no 'ready:' line number $1 within 30 s"
	alive "$master" || fail "genid $master exited after it was ready"
	workers=$(ps -o pid= --ppid "$master" 2>/dev/null || pgrep -P "$master")
	port=$(port_of "$1")
}

# Stops genid with SIGTERM and checks it exits 0 with its workers.
stop() {
	echo "+ kill -TERM $master"
	kill -TERM "$master"
	poll 30 dead "$master" || fail "genid $master still runs 30 s after SIGTERM"
	wait "$master"
	rc=$?
	[ "$rc" -eq 0 ] || fail "genid exited $rc after SIGTERM, not 0"
	for w in $workers; do
		poll 10 dead "$w" || fail "worker $w outlived its master"
	done
	master=
}

# Whether the decimal IDs $1 and $2 compare $1 > $2 as unsigned 64-bit
# numbers: same length then string order, as sh arithmetic is signed.
above() {
	[ "${#1}" -gt "${#2}" ] ||
	    { [ "${#1}" -eq "${#2}" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | LC_ALL=C sort | tail -n 1)" = "$1" ] &&
	    [ "$1" != "$2" ]; }
}

# The shipped identity (zone, dc, machine 0) and epoch; an ephemeral
# loopback port so that parallel runs and an installed genid do not
# collide; two workers, enough to see several on two cores.
cat >"$conf" <<EOF
{
  "port": 0,
  "listen": ["127.0.0.1"],
  "workers": 2,
  "state_file": "$tmp/genid.state",
  "pid_file": "$tmp/genid.pid",
  "log_file": "$log",
  "log_level": "info"
}
EOF

run "$GENID" -c "$conf" --init || fail "genid --init exited $?"
[ -f "$tmp/genid.state" ] || fail "genid --init made no $tmp/genid.state"
run "$GENID" -c "$conf" -t || fail "genid -t exited $?"

start 1
ids=$(run "$GENIDCTL" get -n 5 -T 5000 "127.0.0.1:$port") ||
	fail "genidctl get exited $?"
echo "$ids"
[ "$(echo "$ids" | grep -c '^[0-9][0-9]*$')" -eq 5 ] ||
	fail "genidctl get -n 5 printed no five IDs"
[ "$(echo "$ids" | sort -u | wc -l)" -eq 5 ] || fail "genidctl get printed an ID twice"
last=$(echo "$ids" | tail -n 1)

decoded=$(run "$GENIDCTL" decode --json "$last") || fail "genidctl decode exited $?"
echo "$decoded"
ts=$(echo "$decoded" | sed -n 's/.*"unix":\([0-9]*\).*/\1/p')
case $decoded in
*'"zone":0,"dc":0,"machine":0,'*) ;;
*) fail "genidctl decode: not zone 0, dc 0, machine 0" ;;
esac
# A first start issues IDs from the current second (genid(8)).
near_clock() {
	[ -n "$1" ] && [ "$1" -ge $(($(now) - 60)) ] && [ "$1" -le $(($(now) + 60)) ]
}
near_clock "$ts" ||
	fail "genidctl decode: the ID's second $ts is not within a minute of the clock"

info=$(run "$GENIDCTL" info --json -T 5000 "127.0.0.1:$port") || fail "genidctl info exited $?"
echo "$info"
case $info in
*'"zone":0,"dc":0,"machine":0,'*'"pid":'"$master"','*'"state":"serving"'*) ;;
*) fail "INFO does not say zone 0, dc 0, machine 0, pid $master, serving" ;;
esac

stop

# The state file carries the node over a restart: the next ID is above.
start 2
next=$(run "$GENIDCTL" get -T 5000 "127.0.0.1:$port") || fail "genidctl get exited $?"
echo "$next"
above "$next" "$last" || fail "after the restart $next is not above $last"
stop
echo "PASS"
