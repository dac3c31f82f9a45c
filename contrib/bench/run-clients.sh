#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-clients.sh - "what does an ID cost my application?": starts genid, a
# redis-server and a PostgreSQL server in a temporary directory (loopback
# TCP ports the kernel picks), runs genid-clients against all three from
# one application thread, and stops them.  A server that is not installed
# is left out and its rows say so (sh contrib/deps-bench.sh installs them).
#
# usage: run-clients.sh [BUILDDIR | path/to/genid]
#
# Environment:
#   GENID          the daemon (default BUILDDIR/src/genid)
#   CLIENTS        genid-clients (default next to the daemon's build tree)
#   BENCH_SECONDS  measured seconds per row (2)
#   REDIS_SERVER   redis-server (from PATH)
#   PG_BINDIR      PostgreSQL's initdb, pg_ctl (the newest
#                  /usr/lib/postgresql/*/bin)
set -u

seconds=${BENCH_SECONDS:-2}
redis=${REDIS_SERVER:-redis-server}

die() {
	echo "run-clients: $*" >&2
	exit 1
}

arg=${1:-}
if [ -d "$arg" ]; then
	GENID=$arg/src/genid
	CLIENTS=${CLIENTS:-$arg/contrib/bench/genid-clients}
elif [ -n "$arg" ]; then
	GENID=$arg
fi
[ -n "${GENID:-}" ] || die "usage: run-clients.sh [BUILDDIR | path/to/genid] (or set GENID)"
[ -x "$GENID" ] || die "$GENID: not an executable"
CLIENTS=${CLIENTS:-$(dirname "$GENID")/../contrib/bench/genid-clients}
[ -x "$CLIENTS" ] || die "$CLIENTS: not an executable (set CLIENTS)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-clients.XXXXXX") || die "mktemp failed"
chmod 755 "$tmp"
gpid=
rpid=
pgdata=
pgctl=
asuser=

# lib.sh sits beside this script, wherever shellcheck runs from.
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"
cleanup() {
	stop "$gpid"
	stop "$rpid"
	if [ -n "$pgdata" ]; then
		$asuser "$pgctl" -D "$pgdata" -m fast -w -t 20 stop >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

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
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# --- genid: one connection is one bucket, 65,536 IDs/s sustained (genid(7));
# borrowing up to an hour ahead lets the rows show the cost of an ID,
# not the format's cap.
cat >"$tmp/genid.json" <<EOF2
{
  "listen": ["127.0.0.1"],
  "port": 0,
  "state_file": "$tmp/genid.state",
  "pid_file": "",
  "log_file": "",
  "log_level": "info",
  "max_ahead_s": 3600
}
EOF2
"$GENID" -c "$tmp/genid.json" --init >/dev/null ||
	die "genid --init failed"
"$GENID" -c "$tmp/genid.json" 2>"$tmp/genid.log" &
gpid=$!
wait_log "$tmp/genid.log" 'ready: ' "$gpid" ||
	{ cat "$tmp/genid.log" >&2; die "genid did not start"; }
gport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/genid.log" | head -n 1)
[ -n "$gport" ] || die "no \"listening on\" line in the genid log"
set -- --genid "127.0.0.1:$gport"

# --- redis
if command -v "$redis" >/dev/null 2>&1; then
	rport=$(free_port)
	"$redis" --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
	    --daemonize no --dir "$tmp" --logfile "$tmp/redis.log" &
	rpid=$!
	if wait_log "$tmp/redis.log" 'Ready to accept connections' "$rpid"; then
		set -- "$@" --redis "127.0.0.1:$rport"
	else
		echo "run-clients: redis-server did not start:" >&2
		cat "$tmp/redis.log" >&2
		stop "$rpid"
		rpid=
	fi
else
	echo "run-clients: $redis not found: no redis rows" \
	    "(sh contrib/deps-bench.sh)" >&2
fi

# --- postgresql: its own cluster in the temporary directory, TCP on
# 127.0.0.1 like the others, trust authentication, default durability
# settings.  PostgreSQL refuses to run as root: as root, the cluster
# belongs to the postgres user of the Debian package.
if [ -z "${PG_BINDIR:-}" ]; then
	PG_BINDIR=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 \
	    -name bin -type d 2>/dev/null | sort -V | tail -n 1)
fi
if [ -n "$PG_BINDIR" ] && [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ]; then
	pgctl=$PG_BINDIR/pg_ctl
	pguser=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 ||
			die "running as root, and no postgres user to run PostgreSQL as"
		pguser=postgres
		asuser="runuser -u postgres --"
	fi
	mkdir "$tmp/pg"
	[ "$(id -u)" -eq 0 ] && chown postgres "$tmp/pg"
	pport=$(free_port)
	if $asuser "$PG_BINDIR/initdb" -D "$tmp/pg/data" -A trust -U "$pguser" \
	    >"$tmp/pg/initdb.log" 2>&1; then
		pgdata=$tmp/pg/data
		if $asuser "$pgctl" -D "$pgdata" -l "$tmp/pg/server.log" -w -t 30 \
		    -o "-c listen_addresses=127.0.0.1 -p $pport -k $tmp/pg" \
		    start >/dev/null 2>&1; then
			set -- "$@" --pg "host=127.0.0.1 port=$pport user=$pguser dbname=postgres"
		else
			echo "run-clients: PostgreSQL did not start:" >&2
			cat "$tmp/pg/server.log" >&2
		fi
	else
		echo "run-clients: initdb failed:" >&2
		cat "$tmp/pg/initdb.log" >&2
	fi
else
	echo "run-clients: PostgreSQL's initdb and pg_ctl not found: no" \
	    "postgresql rows (sh contrib/deps-bench.sh, or set PG_BINDIR)" >&2
fi

echo "$("$GENID" -V 2>&1 | head -n 1), ${rpid:+redis $("$redis" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), }${pgdata:+postgresql $("$PG_BINDIR/postgres" -V | sed -n 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/p'), }on $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$CLIENTS" -s "$seconds" "$@"
