#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A transcript of a new node's first steps, as an operator takes them: on
# a scratch Debian machine, as root, installs the genid packages given as
# files (or genid and genidctl from the configured archive), gives the
# node machine_id 3 and a recent epoch in /etc/genid.json, restarts it,
# fetches and decodes IDs with genidctl, and shows genidctl info and
# stats.  Every command is printed as "+ command" followed by its output,
# and by its exit status when it is not 0, so that the output reads as a
# transcript.  It goes on after a failed command, as an operator would
# look at the next one, and exits 1 if any failed.
#
# It changes the machine (packages, /etc/genid.json, the state under
# /var/lib/genid) and leaves genid installed and running: run it only on a
# scratch machine, with GENID_LIFECYCLE=yes.
#
#   GENID_LIFECYCLE=yes sh contrib/lifecycle.sh genid_*.deb genidctl_*.deb \
#       libgenid0_*.deb
set -u

conf=/etc/genid.json
addr=127.0.0.1:3778
failures=0

if [ "${GENID_LIFECYCLE:-}" != yes ]; then
	echo "lifecycle.sh installs genid and changes /etc/genid.json and" \
	    "/var/lib/genid: run it on a scratch machine only, as root," \
	    "with GENID_LIFECYCLE=yes." >&2
	exit 64
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "lifecycle.sh installs packages: run it as root." >&2
	exit 77
fi
if dpkg-query -W -f='${Status}' genid 2>/dev/null | grep -q ' installed$' ||
    [ -e /var/lib/genid/genid.state ]; then
	echo "lifecycle.sh shows a new node: genid is installed here already," \
	    "or /var/lib/genid/genid.state exists." >&2
	exit 1
fi

# Prints the command and runs it, with its output and, if it failed, its
# exit status.
run() {
	echo "+ $*"
	"$@" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "(exit $rc)"
		failures=$((failures + 1))
	fi
	return "$rc"
}

# Prints the narration of the next step.
say() {
	echo
	echo "# $*"
}

now() {
	date +%s
}

# Runs "$@" quietly until it succeeds, for at most $1 seconds.
poll() {
	deadline=$(($(now) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

say "Install the packages."
if [ "$#" -gt 0 ]; then
	# apt-get takes a file for a package name unless its path has a /.
	for f; do
		case $f in
		*/*) set -- "$@" "$f" ;;
		*) set -- "$@" "./$f" ;;
		esac
		shift
	done
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
else
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q genid genidctl
fi
run dpkg-query -W genid genidctl
# In a container whose policy-rc.d forbids starting services the package
# could not start genid: start it as an operator would.
if ! poll 10 genidctl get -T 1000 "$addr"; then
	run service genid start
fi
run service genid status
run genidctl get -D "$addr"
run cat "$conf"

say "Give the node its identity: machine 3, and an epoch of this month."
epoch=$(date -u -d "$(date -u +%Y-%m-01)" +%s)
cp "$conf" "$conf.before-lifecycle"
# One key a line, as shipped: the identity keys replaced, or added after
# the opening brace.
sed -i -e '/"machine_id"[[:space:]]*:/d' -e '/"epoch"[[:space:]]*:/d' \
    -e "0,/{/s//{\\n  \"machine_id\": 3,\\n  \"epoch\": $epoch,/" "$conf"
echo "+ diff -u $conf.before-lifecycle $conf"
diff -u "$conf.before-lifecycle" "$conf"
rm -f "$conf.before-lifecycle"
run genid -c "$conf" -t

say "Restart genid with the new identity."
run service genid restart
poll 20 genidctl get -T 1000 "$addr"
run service genid status
run ls -l /var/lib/genid

say "Fetch IDs and decode them."
echo "+ genidctl get -n 3 $addr"
ids=$(genidctl get -n 3 "$addr" 2>&1) || failures=$((failures + 1))
echo "$ids"
if [ -n "$ids" ]; then
	# shellcheck disable=SC2086 # one argument per ID
	run genidctl decode -c "$conf" $ids
fi
run genidctl get -n 2 -D "$addr"
run genidctl info "$addr"

say "The node's counters, from its state file."
run genidctl stats -c "$conf"

echo
if [ "$failures" -gt 0 ]; then
	echo "# $failures commands failed"
	exit 1
fi
echo "# every command succeeded"
