#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The LSB init script, as built (etc/init.d/genid), drives a real genid in
# a temporary directory: a start refused without a state file (the script
# never makes one, genid(8) "The first start"), genid --init, start,
# status, a restart refused for a broken configuration, restart, reload
# (the log file is reopened), stop, status.
# Every wait polls for its condition with a deadline.

script=$GENID_BUILDDIR/etc/init.d/genid
if [ ! -x "$GENID" ]; then
	echo "SKIP: $GENID is not built"
	exit 77
fi
if [ ! -x "$script" ]; then
	echo "FAIL: $script is not built"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-initd.XXXXXX") || exit 1
conf=$tmp/genid.json
bad=$tmp/bad.json
pidfile=$tmp/genid.pid
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

# Whether process $1 exists and is not a zombie (nobody may reap a daemon
# here).
alive() {
	[ -d "/proc/$1" ] || {
		kill -0 "$1" 2>/dev/null
		return
	}
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

dead() {
	! alive "$1"
}

all_dead() {
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}

title() {
	tr '\000' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

children() {
	ps -o pid= --ppid "$1" 2>/dev/null || pgrep -P "$1"
}

cleanup() {
	for p in $master $workers; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $master $workers; do
		poll 10 dead "$p" || kill -KILL "$p" 2>/dev/null
	done
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

# The init script with everything pointed into the temporary directory.
initd() {
	env DAEMON="$GENID" CONFIG="${config:-$conf}" PIDFILE="$pidfile" RUN_AS= \
	    STATEDIR="$tmp" DAEMON_OPTS= START_TIMEOUT=20 STOP_TIMEOUT=20 \
	    "$script" "$@"
}

# Runs the init script with action $2 and checks its exit status is $1.
expect() {
	want=$1
	shift
	echo "+ init.d/genid $*"
	initd "$@"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "init.d/genid $* exited $rc, not $want"
}

# Whether the log holds at least $2 (default 1) lines matching $1.
logged() {
	[ "$(grep -c "$1" "$log" 2>/dev/null)" -ge "${2:-1}" ]
}

# Whether process $1 is titled as a worker.
titled_worker() {
	case $(title "$1") in
	*"genid: worker"*) return 0 ;;
	esac
	return 1
}

# Checks the master in the pid file is running with its workers, once the
# log has $1 "ready:" lines, and sets master and workers.
check_running() {
	[ -s "$pidfile" ] || fail "no pid file after start"
	master=$(cat "$pidfile")
	alive "$master" || fail "pid $master from $pidfile is not running"
	case $(title "$master") in
	*"genid: master"*) ;;
	*) fail "pid $master is titled '$(title "$master")', not genid: master" ;;
	esac
	poll 20 logged "ready:" "$1" || fail "no 'ready:' line number $1 in the log"
	workers=$(children "$master")
	[ -n "$workers" ] || fail "master $master has no workers"
	for w in $workers; do
		# A worker names itself just after the fork: wait for it.
		poll 20 titled_worker "$w" || true
		case $(title "$w") in
		*"genid: worker"*) ;;
		*) fail "child $w of the master is titled '$(title "$w")'" ;;
		esac
	done
}

cat >"$conf" <<EOF
{
  "port": 0,
  "listen": ["127.0.0.1"],
  "workers": 2,
  "state_file": "$tmp/genid.state",
  "pid_file": "$pidfile",
  "log_file": "$log",
  "log_level": "info"
}
EOF
sed 's/"workers": 2/"workers": 2, "machine_id": 9/' "$conf" >"$bad"

expect 3 status
# No state file: genid exits 66 naming --init and --init-lost, and the
# script makes none.
expect 1 start
[ ! -e "$tmp/genid.state" ] || fail "a refused start made $tmp/genid.state"
logged "genid -c .* --init-lost" || fail "the refused start does not name --init-lost"
"$GENID" -c "$conf" --init || fail "genid --init exited $?"
expect 0 start
check_running 1
poll 20 logged "listening on 127.0.0.1:[1-9]" ||
	fail "no 'listening on 127.0.0.1:PORT' line in the log"
first=$master

expect 0 start
[ "$(cat "$pidfile")" = "$first" ] || fail "a second start replaced $first"
expect 0 status

echo "+ init.d/genid status, PIDFILE from the configuration"
env DAEMON="$GENID" CONFIG="$conf" STATEDIR="$tmp" RUN_AS= "$script" status ||
	fail "status with the pid file taken from $conf exited $?"

# A restart with a configuration that does not load leaves genid running.
config=$bad
echo "+ init.d/genid restart, machine_id 9"
initd restart && fail "restart with a broken configuration succeeded"
config=
expect 0 status
[ "$(cat "$pidfile")" = "$first" ] || fail "a refused restart replaced $first"

old_workers=$workers
expect 0 restart
# shellcheck disable=SC2086 # one argument per worker
poll 20 all_dead "$first" $old_workers ||
	fail "the old master $first or its workers outlived the restart"
check_running 2
[ "$master" != "$first" ] || fail "restart kept pid $first"

# Rotation: genid writes to the moved file until SIGHUP makes it reopen.
mv "$log" "$log.1"
expect 0 reload
poll 20 test -e "$log" || fail "no new $log after reload"

expect 0 stop
# shellcheck disable=SC2086 # one argument per worker
poll 20 all_dead "$master" $workers ||
	fail "master $master or workers $workers still running after stop"
[ ! -e "$pidfile" ] || fail "$pidfile still exists after stop"
expect 3 status
expect 0 stop
expect 7 reload

master=
workers=
echo "PASS"
