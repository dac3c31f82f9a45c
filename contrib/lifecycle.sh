#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A transcript of a node's whole life, as an operator lives it, on a
# scratch Debian machine, as root: installs the last release's packages
# (the .debs in OLD_DIR), upgrades to this one's (NEW_DIR) with genid
# running, gives the node machine_id 3 and a recent epoch in
# /etc/genid.json and restarts it, fetches and decodes IDs, moves the node
# to another host (its configuration and state file carried over, the old
# host purged; the "other host" is this machine again), and retires it.
# Every command is printed as "+ command" followed by its output, and by
# its exit status when it is not 0, so that the output reads as a
# transcript.  It goes on after a failed command, as an operator would
# look at the next one, and exits 1 if any failed.
#
# It changes the machine (packages, /etc/genid.json, the state under
# /var/lib/genid): run it only on a scratch machine, with
# GENID_LIFECYCLE=yes.  Where /usr/sbin/policy-rc.d forbids services (a
# container), it allows genid alone for the run and puts it back after.
#
#   GENID_LIFECYCLE=yes sh contrib/lifecycle.sh OLD_DIR NEW_DIR
set -u

conf=/etc/genid.json
addr=127.0.0.1:3778
failures=0
policy=/usr/sbin/policy-rc.d
policy_saved=$policy.genid-lifecycle-orig
carried=/root/genid-node3.tar

if [ "${GENID_LIFECYCLE:-}" != yes ]; then
	echo "lifecycle.sh installs genid and changes /etc/genid.json and" \
	    "/var/lib/genid: run it on a scratch machine only, as root," \
	    "with GENID_LIFECYCLE=yes." >&2
	exit 64
fi
if [ "$#" -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
	echo "usage: GENID_LIFECYCLE=yes sh contrib/lifecycle.sh OLD_DIR NEW_DIR" \
	    "(the directories of the last release's and this release's .debs)" >&2
	exit 64
fi
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
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

# The packages of directory $1, as apt-get arguments.
debs() {
	ls "$1"/genid_*.deb "$1"/genidctl_*.deb "$1"/libgenid0_*.deb
}

# Installs the packages of directory $1 with apt-get, keeping an
# /etc/genid.json the operator wrote (as configuration management does).
install_from() {
	# shellcheck disable=SC2046 # one argument per package file
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --allow-downgrades -o Dpkg::Options::=--force-confold $(debs "$1")
}

# Waits until genid answers, starting it as an operator would if the
# package could not.
serving() {
	if ! poll 15 genidctl get -T 1000 "$addr"; then
		run service genid start
		poll 15 genidctl get -T 1000 "$addr"
	fi
}

restore_policy() {
	if [ -e "$policy_saved" ]; then
		mv -f "$policy_saved" "$policy"
	fi
}
trap restore_policy EXIT
if [ -x "$policy" ] && ! "$policy" genid start >/dev/null 2>&1; then
	mv "$policy" "$policy_saved"
	cat >"$policy" <<POLICY
#!/bin/sh
# Put here by genid's contrib/lifecycle.sh for one run: allows genid, asks
# the original ($policy_saved) about everything else.
for a; do [ "\$a" = genid ] && exit 0; done
exec "$policy_saved" "\$@"
POLICY
	chmod 0755 "$policy"
	echo "# $policy forbids services here: genid alone is allowed for this run"
fi

say "Install the last release, as a node has it today."
install_from "$old"
run dpkg-query -W genid genidctl
serving
run genidctl get -n 3 "$addr"

say "Upgrade to this release with genid running."
install_from "$new"
run dpkg-query -W genid genidctl
serving
run genidctl get -n 3 "$addr"
run genidctl stats -c "$conf"

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
serving
run ls -l /var/lib/genid

say "Fetch IDs and decode them."
echo "+ genidctl get -n 3 $addr"
ids=$(genidctl get -n 3 "$addr" 2>&1) || failures=$((failures + 1))
echo "$ids"
if [ -n "$ids" ]; then
	# shellcheck disable=SC2086 # one argument per ID
	run genidctl decode -c "$conf" $ids
fi
run genidctl info "$addr"

say "Move the node to another host: stop it, carry its configuration and" \
    "state file over, and take the old host out."
run service genid stop
run tar -C / -cf "$carried" etc/genid.json var/lib/genid/genid.state
run env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q genid genidctl \
    libgenid0
run ls -l /var/lib/genid

say "On the new host (this machine again): the configuration and state" \
    "file first, then the packages, which find the file and make none."
run mkdir -p /var/lib/genid
run tar -C / -xf "$carried"
install_from "$new"
serving
run genidctl get -n 3 -D "$addr"
run genidctl stats -c "$conf"

say "Retire the node: stop it and purge the packages; the state file" \
    "stays until no node of its identity will issue IDs again."
run service genid stop
run env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q genid genidctl \
    libgenid0
run ls -l /var/lib/genid
rm -f "$carried"

echo
if [ "$failures" -gt 0 ]; then
	echo "# $failures commands failed"
	exit 1
fi
echo "# every command succeeded"
