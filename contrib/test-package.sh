#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages end to end, on a Debian machine, as root: builds them
# with dpkg-buildpackage -us -uc -b in a copy of the tree (the tree itself
# stays as it is), runs lintian, installs them with apt-get, checks the
# service runs as the user genid (through the init script where systemd is
# not PID 1), checks the first start (postinst made the state file with
# genid --init, so the first ID carries the current second), fetches and
# decodes an ID with genidctl and with a program built against
# libgenid-dev, checks that a start without the state file is refused and
# names genid --init and --init-lost, upgrades over itself keeping the
# state file and the configuration, removes, purges, and checks what is
# left.  Then against genid 0.1.0, the release before (commit f30e53c,
# built from the repository's history in a git worktree that is removed
# after): installs 0.1.0 on a new node, fetches IDs from it, upgrades to
# this tree's packages with the service running, downgrades to 0.1.0 and
# upgrades again (the last time with an operator's change in
# /etc/genid.json), each time checking the service came back with the
# node's identity and serves IDs above every ID fetched before, and purges.
# Ends with one line "N passed, M failed".
#
# genid listens on 127.0.0.1:3778 and [::1]:3778 as installed: that port
# must be free on both.
# The test refuses to run where a genid package is installed already, and
# at the end removes what it installed and the state it left (the state
# file and the user genid, which a real purge keeps on purpose).
#
# GENID_PACKAGE_CHECK=1 runs the package build's tests too (make
# check-smoke: the unit tests and tests/smoke.sh); the build uses
# DEB_BUILD_OPTIONS=nocheck otherwise.  In a container whose /usr/sbin/policy-rc.d forbids starting
# services, postinst cannot start genid: the test then starts it through
# the init script and says so, or, with GENID_TEST_POLICY=allow-genid,
# puts a policy-rc.d in place for the run that allows genid alone (and
# asks the original for everything else), and puts the original back.
# Functions run through check and poll look unreachable to shellcheck.
# shellcheck disable=SC2317
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0
failed=0
port=3778
state=/var/lib/genid/genid.state
policy=/usr/sbin/policy-rc.d
policy_saved=$policy.genid-test-orig
tmp=
installed_by_us=
old_rev=f30e53c
old_tree=
old_debs=
loader=

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

# check DESCRIPTION COMMAND...: one check, passed when COMMAND succeeds.
check() {
	what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

finish() {
	echo "$pass passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# Gives up: the rest of the test depends on what just failed.
abort() {
	not_ok "$*"
	finish
}

now() {
	date +%s
}

# Runs a command without its output.
quiet() {
	"$@" >/dev/null 2>&1
}

# Whether $1 is set and differs from $2.
differ() {
	[ -n "$1" ] && [ "$1" != "$2" ]
}

# poll SECONDS COMMAND...: runs COMMAND until it succeeds, for at most
# SECONDS.
poll() {
	deadline=$(($(now) + $1))
	shift
	until "$@"; do
		[ "$(now)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# The pid of the master in the installed pid file, if one runs.
master_pid() {
	pid=$(cat /run/genid/genid.pid 2>/dev/null) &&
	    case $(tr '\000' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
	    *"genid: master"*) echo "$pid" ;;
	    *) return 1 ;;
	    esac
}

gone() {
	! kill -0 "$1" 2>/dev/null
}

# Whether process $1 is a genid master.
is_master() {
	case $(tr '\000' ' ' 2>/dev/null <"/proc/$1/cmdline") in
	*"genid: master"*) return 0 ;;
	esac
	return 1
}

# Stops the master $1 with SIGTERM, then SIGKILL.
stop_master() {
	kill -TERM "$1"
	poll 20 gone "$1" || kill -KILL "$1"
}

# Removes the worktree genid 0.1.0 was built in.
remove_old_tree() {
	[ -n "$old_tree" ] || return 0
	git -C "$top" worktree remove --force "$old_tree" >/dev/null 2>&1 ||
	    rm -rf "$old_tree"
	git -C "$top" worktree prune
	old_tree=
}

cleanup() {
	if [ -n "$loader" ]; then
		kill "$loader" 2>/dev/null
	fi
	remove_old_tree
	if [ -n "$installed_by_us" ]; then
		echo "# cleanup: purging the packages, the state and the user genid"
		# A master this test's packages started, should a stop have
		# failed or been forbidden by policy-rc.d (after a purge the
		# pid file is gone: the last master the test saw).
		if pid=$(master_pid); then
			stop_master "$pid"
		fi
		if [ -n "${master:-}" ] && is_master "$master"; then
			stop_master "$master"
		fi
		if [ -x /etc/init.d/genid ]; then
			/etc/init.d/genid stop >/dev/null 2>&1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q \
		    genid genidctl libgenid0 libgenid-dev >/dev/null 2>&1
		rm -rf /var/lib/genid
		if getent passwd genid >/dev/null; then
			deluser --quiet --system genid >/dev/null 2>&1
		fi
		if getent group genid >/dev/null; then
			delgroup --quiet --system genid >/dev/null 2>&1
		fi
	fi
	if [ -e "$policy_saved" ]; then
		mv -f "$policy_saved" "$policy"
	fi
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ------------------------------------------------------------- preconditions

[ "$(id -u)" -eq 0 ] || abort "the test installs packages: run it as root"
for tool in dpkg-buildpackage apt-get lintian dpkg-architecture; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "# installing the Debian packaging tools"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		    build-essential debhelper dh-autoreconf devscripts lintian \
		    >/dev/null || abort "apt-get install of the packaging tools"
		break
	}
done
sh "$top/contrib/deps.sh" || abort "contrib/deps.sh could not install the build dependencies"
for p in genid genidctl libgenid0 libgenid-dev; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		abort "package $p is installed already: run this test where no genid package is"
	fi
done
if getent passwd genid >/dev/null || [ -e /var/lib/genid ]; then
	abort "user genid or /var/lib/genid exists already: the test checks what the package makes"
fi
if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' \
    "$port" 2>/dev/null; then
	abort "127.0.0.1:$port accepts connections already: the installed genid needs it"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-package.XXXXXX") || abort "mktemp"
chmod 0755 "$tmp"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)

# ------------------------------------------------------------------- build

# What git says about the tree before, to compare after: the build must not
# write into it.  Without git, the copy is the whole tree.
tree_status() {
	git -C "$top" status --porcelain --ignored 2>/dev/null
}
before=$(tree_status)
src=$tmp/genid-$version
mkdir "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked files and new ones not ignored: what a commit would hold.
	(cd "$top" && git ls-files -z -co --exclude-standard |
	    tar -cf - --null --no-recursion -T -) | tar -xf - -C "$src"
else
	cp -a "$top/." "$src/"
fi
# The source package first, from the clean copy (for lintian).
(cd "$tmp" && dpkg-source -b "genid-$version") >"$tmp/source.log" 2>&1 ||
	not_ok "dpkg-source -b: $(tail -n 3 "$tmp/source.log")"
echo "# dpkg-buildpackage -us -uc -b in $src"
opts="nocheck"
[ "${GENID_PACKAGE_CHECK:-0}" = 1 ] && opts=""
if (cd "$src" && DEB_BUILD_OPTIONS="$opts parallel=2" \
    dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -n 60 "$tmp/build.log"
	abort "dpkg-buildpackage -us -uc -b (log above)"
fi
after=$(tree_status)
check "the source tree is as it was before the build" test "$after" = "$before"
if [ "$after" != "$before" ]; then
	echo "# git status before and after:"
	echo "$before" | sed 's/^/#   before: /'
	echo "$after" | sed 's/^/#   after:  /'
fi
debs=
for p in genid genidctl libgenid0 libgenid-dev; do
	f=$tmp/${p}_${version}_$arch.deb
	if [ -f "$f" ]; then
		debs="$debs $f"
	else
		not_ok "no $f"
	fi
done

# The packages of genid 0.1.0 (commit $old_rev), the release upgrades and
# downgrades are tested against, built from the repository's history in a
# worktree, removed after; sets old_version and old_debs.
build_old() {
	if ! git -C "$top" rev-parse -q --verify "$old_rev^{commit}" >/dev/null 2>&1 &&
	    [ "$(git -C "$top" rev-parse --is-shallow-repository)" = true ]; then
		echo "# $old_rev is not in this shallow clone: git fetch --unshallow"
		timeout 120 git -C "$top" fetch -q --unshallow || true
	fi
	if ! git -C "$top" rev-parse -q --verify "$old_rev^{commit}" >/dev/null 2>&1; then
		# Not a pass: named, so that the log shows what did not run.
		echo "SKIP - the upgrade from and downgrade to 0.1.0: commit" \
		    "$old_rev is not in the history of $top (a shallow clone)"
		return 1
	fi
	mkdir "$tmp/old"
	old_tree=$tmp/old/genid-old
	if ! git -C "$top" worktree add -q --detach "$old_tree" "$old_rev" \
	    >"$tmp/old-worktree.log" 2>&1; then
		cat "$tmp/old-worktree.log"
		old_tree=
		not_ok "git worktree add --detach $old_rev (log above)"
		return 1
	fi
	old_version=$(dpkg-parsechangelog -l "$old_tree/debian/changelog" -S Version)
	echo "# dpkg-buildpackage -us -uc -b of genid $old_version ($old_rev) in $old_tree"
	if (cd "$old_tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	    dpkg-buildpackage -us -uc -b) >"$tmp/old-build.log" 2>&1; then
		ok "dpkg-buildpackage of genid $old_version from $old_rev"
	else
		tail -n 60 "$tmp/old-build.log"
		not_ok "dpkg-buildpackage of genid $old_version from $old_rev (log above)"
		remove_old_tree
		return 1
	fi
	remove_old_tree
	check "the worktree of $old_rev is removed" \
	    test -z "$(git -C "$top" worktree list | grep -F "$tmp/old/")"
	for p in genid genidctl libgenid0 libgenid-dev; do
		f=$tmp/old/${p}_${old_version}_$arch.deb
		if [ ! -f "$f" ]; then
			not_ok "no $f"
			old_debs=
			return 1
		fi
		old_debs="$old_debs $f"
	done
}
build_old

# ----------------------------------------------------------------- lintian

changes=$tmp/genid_${version}_$arch.changes
lintian --fail-on error,warning --display-info --tag-display-limit 0 \
    "$changes" "$tmp/genid_$version.dsc" >"$tmp/lintian.log" 2>&1
rc=$?
sed 's/^/# lintian: /' "$tmp/lintian.log"
check "lintian: no error and no warning" test "$rc" -eq 0

# ----------------------------------------------------------------- install

policy_denies() {
	[ -x "$policy" ] && ! "$policy" genid start >/dev/null 2>&1
}
started_by_postinst=yes
if policy_denies; then
	if [ "${GENID_TEST_POLICY:-}" = allow-genid ]; then
		echo "# $policy forbids starting services: allowing genid alone for this run"
		mv "$policy" "$policy_saved"
		cat >"$policy" <<EOF
#!/bin/sh
# Put here by genid's contrib/test-package.sh for one run: allows genid,
# asks the original ($policy_saved) about everything else.
for a; do [ "\$a" = genid ] && exit 0; done
exec "$policy_saved" "\$@"
EOF
		chmod 0755 "$policy"
	else
		echo "# $policy forbids starting services here: the test starts genid" \
		    "through the init script (GENID_TEST_POLICY=allow-genid tests postinst's start)"
		started_by_postinst=no
	fi
fi

installed_by_us=yes
# shellcheck disable=SC2086 # one argument per package file
if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $debs \
    >"$tmp/install.log" 2>&1; then
	ok "apt-get install ./genid*.deb ./libgenid*.deb"
else
	cat "$tmp/install.log"
	abort "apt-get install of the packages (log above)"
fi

check "user genid is a system user" \
    test "$(getent passwd genid | cut -d: -f3)" -lt 1000
check "group genid exists" quiet getent group genid
check "/var/lib/genid is genid:genid 0750" \
    test "$(stat -c '%U:%G %a' /var/lib/genid)" = "genid:genid 750"
check "/var/log/genid is genid:adm 2750" \
    test "$(stat -c '%U:%G %a' /var/log/genid)" = "genid:adm 2750"
check "postinst made $state with genid --init" \
    grep -q "state file made for zone 0 dc 0 machine 0" "$tmp/install.log"
check "$state belongs to genid:genid" \
    test "$(stat -c '%U:%G' "$state" 2>/dev/null)" = genid:genid
dpkg-query -W -f='${Conffiles}\n' genid >"$tmp/conffiles"
check "/etc/genid.json is a conffile" grep -q '^ /etc/genid.json ' "$tmp/conffiles"
check "the libraries are in /usr/lib/$multiarch" \
    test -f "/usr/lib/$multiarch/libgenid.so.0"
check "no libtool archive is installed" \
    test -z "$(dpkg -L libgenid0 libgenid-dev | grep '\.la$')"
check "man genid_next finds libgenid(3)" quiet man -w genid_next
check "pkg-config --modversion libgenid is $version" \
    test "$(pkg-config --modversion libgenid)" = "$version"

if [ "$started_by_postinst" = no ]; then
	/etc/init.d/genid start || not_ok "/etc/init.d/genid start"
fi


serving() {
	genidctl get -T 1000 "127.0.0.1:$port" >/dev/null 2>&1
}

# Checks the master and its workers run as genid; sets master.
check_service() {
	if ! poll 20 master_pid >/dev/null; then
		not_ok "$1: a genid master in /run/genid/genid.pid"
		return
	fi
	master=$(master_pid)
	ok "$1: genid master $master from /run/genid/genid.pid"
	check "$1: the master runs as user genid" \
	    test "$(ps -o user= -p "$master")" = genid
	workers=$(ps -o pid= --ppid "$master")
	users=$(ps -o user= --ppid "$master" | sort -u)
	check "$1: its workers ($(echo "$workers" | tr '\n' ' ')) run as user genid" \
	    test "${workers:+set}:$users" = set:genid
	check "$1: /etc/init.d/genid status says running" \
	    /etc/init.d/genid status >/dev/null
	check "$1: genid serves on 127.0.0.1:$port" poll 20 serving
}
if [ "$started_by_postinst" = yes ]; then
	check_service "install (started by postinst)"
else
	check_service "install (started by the init script)"
fi

first=$(genidctl get "127.0.0.1:$port" 2>"$tmp/get.err")
first_at=$(now)
check "genidctl get prints an ID" test -n "$first"
# The first start of a node made with --init: its IDs carry the current
# second (epoch 0 as installed: the timestamp is id >> 32), not a second
# ahead of the clock, as a file made for a lost node would.
near_clock() {
	ts=$(($1 >> 32))
	echo "# first ID's second $ts, the clock $2"
	[ "$ts" -ge $(($2 - 5)) ] && [ "$ts" -le $(($2 + 5)) ]
}
check "first start: the first ID is stamped within 5 s of the clock" \
    near_clock "${first:-0}" "$first_at"
decoded=$(genidctl decode --json "$first" 2>&1)
echo "# $decoded"
year=$(date -u +%Y)
decoded_ok() {
	case $decoded in
	*"\"time\":\"$year-"*"\"zone\":0,\"dc\":0,\"machine\":0,"*) return 0 ;;
	esac
	return 1
}
check "genidctl decode: zone 0, dc 0, machine 0, this year" decoded_ok

# A program built against libgenid-dev.
cat >"$tmp/client.c" <<'EOF'
#include <inttypes.h>
#include <stdio.h>

#include <genid.h>

int
main(int argc, char *argv[])
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:3778";
	struct genid_client *c = genid_open(&addr, 1, NULL);
	uint64_t id;

	if (c == NULL || genid_next(c, &id) == -1) {
		fprintf(stderr, "client: %s\n",
		    c ? genid_strerror(c) : "genid_open failed");
		return 1;
	}
	printf("%" PRIu64 "\n", id);
	genid_close(c);
	return 0;
}
EOF
# shellcheck disable=SC2046 # pkg-config prints several words
if cc -o "$tmp/client" "$tmp/client.c" $(pkg-config --cflags --libs libgenid) \
    2>"$tmp/cc.log"; then
	lib_id=$("$tmp/client" "127.0.0.1:$port")
	check "a program built with pkg-config libgenid gets an ID" \
	    differ "$lib_id" "$first"
else
	cat "$tmp/cc.log"
	not_ok "cc with pkg-config --cflags --libs libgenid"
fi

check "genidctl stats reads $state" quiet genidctl stats -s "$state"

# ------------------------------------------------------ missing state file

# A start without the state file is refused, names both ways to make one,
# and makes none: neither genid, nor the init script, nor the unit guesses
# whether the node is new or its file was lost (genid(8)).
/etc/init.d/genid stop >/dev/null 2>&1
check "stop before moving the state file away" poll 20 gone "$master"
mv "$state" "$state.test-moved"
(cd /var/lib/genid &&
    runuser -u genid -- /usr/sbin/genid -c /etc/genid.json) \
    >"$tmp/nostate.out" 2>&1
rc=$?
sed 's/^/# no state file: /' "$tmp/nostate.out"
check "no state file: genid exits 66 (EX_NOINPUT): $rc" test "$rc" -eq 66
names_both() {
	grep -q -e "--init\." "$tmp/nostate.out" &&
	    grep -q -e "--init-lost" "$tmp/nostate.out"
}
check "no state file: the message names genid --init and --init-lost" names_both
start_refused() {
	! /etc/init.d/genid start >/dev/null 2>&1 &&
	    ! poll 3 master_pid >/dev/null
}
check "no state file: the service does not start" start_refused
check "no state file: nothing made it" test ! -e "$state"
mv "$state.test-moved" "$state"
/etc/init.d/genid start >/dev/null 2>&1 || not_ok "/etc/init.d/genid start"
check_service "state file back"

# ----------------------------------------------------------------- upgrade

boots() {
	genidctl stats --json -s "$state" |
	    sed -n 's/.*"boot_count":[[:space:]]*\([0-9]*\).*/\1/p'
}
boots_before=$(boots)
old_master=${master:-}
# An operator's change to the conffile, which the upgrade must keep.
sed -i 's/"log_level": "info"/"log_level": "notice"/' /etc/genid.json
conf_sum=$(md5sum </etc/genid.json)
state_inode=$(stat -c %i "$state")
# shellcheck disable=SC2086 # one argument per package file
if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --reinstall $debs \
    >"$tmp/upgrade.log" 2>&1; then
	ok "apt-get install --reinstall: an upgrade over itself"
else
	cat "$tmp/upgrade.log"
	not_ok "apt-get install --reinstall (log above)"
fi
check "upgrade: /etc/genid.json keeps the operator's change" \
    test "$(md5sum </etc/genid.json)" = "$conf_sum"
check "upgrade: no /etc/genid.json.dpkg-* left" \
    test -z "$(ls /etc/genid.json.dpkg-* 2>/dev/null)"
check "upgrade: the state file is the same file" \
    test "$(stat -c %i "$state" 2>/dev/null)" = "$state_inode"
if [ "$started_by_postinst" = no ]; then
	/etc/init.d/genid restart >/dev/null || not_ok "/etc/init.d/genid restart"
fi
check_service "upgrade"
check "upgrade: genid was restarted (master $old_master -> ${master:-})" \
    differ "${master:-}" "$old_master"
boots_after=$(boots)
check "upgrade: the state file counts one more boot ($boots_before -> $boots_after)" \
    test "$boots_after" -eq $((boots_before + 1))
second=$(genidctl get "127.0.0.1:$port")
later_id() {
	differ "$1" "$2" && [ "$(($1 >> 32))" -ge "$(($2 >> 32))" ]
}
check "upgrade: the next ID is not from an earlier second than the first" \
    later_id "$second" "$first"

# ------------------------------------------------------------ remove, purge

if [ "$started_by_postinst" = no ]; then
	# policy-rc.d forbids prerm's stop as it forbade postinst's start.
	echo "# $policy forbids stopping services: the test stops genid"
	/etc/init.d/genid stop >/dev/null 2>&1
fi
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 remove -y -q genid >"$tmp/remove.log" 2>&1
check "apt-get remove genid" test $? -eq 0
check "remove: the master $master is stopped" poll 20 gone "$master"
check "remove: no process of user genid is left" \
    poll 20 sh -c '! pgrep -u genid >/dev/null'
check "remove: /usr/sbin/genid is gone" test ! -e /usr/sbin/genid
check "remove: /etc/genid.json is kept (a conffile)" test -f /etc/genid.json
check "remove: the state file is kept" test -f "$state"
check "remove: genidctl decode works without the daemon" \
    quiet genidctl decode "$first"

DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q genid >"$tmp/purge.log" 2>&1
check "apt-get purge genid" test $? -eq 0
sed 's/^/# purge: /' "$tmp/purge.log" | grep -i 'genid\.state' || true
check "purge: says it keeps $state" grep -q "purge keeps $state" "$tmp/purge.log"
check "purge: the state file is kept" test -f "$state"
check "purge: /etc/genid.json is gone" test ! -e /etc/genid.json
check "purge: /etc/default/genid is gone" test ! -e /etc/default/genid
check "purge: /var/log/genid is gone" test ! -e /var/log/genid
check "purge: /run/genid is gone" test ! -e /run/genid
check "purge: the user genid is kept (Debian keeps system users)" \
    quiet getent passwd genid
check "purge: genidctl is still installed" quiet command -v genidctl
echo "# left after purge:"
find /var/lib/genid /etc -name '*genid*' 2>/dev/null | sed 's/^/#   /'

# ------------------------------------ upgrade and downgrade against 0.1.0

apt_options="-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef
    -o Dpkg::Options::=--force-confold"

# apt_step LABEL PACKAGE_FILE...: installs the files as an operator would,
# without questions (an operator's /etc/genid.json is kept), a downgrade
# too; the log in $tmp/step.log.
apt_step() {
	apt_what=$1
	shift
	# shellcheck disable=SC2086 # one argument per option
	if DEBIAN_FRONTEND=noninteractive apt-get $apt_options install -y -q \
	    --allow-downgrades "$@" >"$tmp/step.log" 2>&1; then
		ok "$apt_what: apt-get install"
		sed -n 's/^\(genid: .*\)/# \1/p' "$tmp/step.log"
		return 0
	fi
	cat "$tmp/step.log"
	not_ok "$apt_what: apt-get install (log above)"
	return 1
}

# Runs the init script with action $1, its output shown if it fails.
initd() {
	/etc/init.d/genid "$1" >"$tmp/initd.log" 2>&1 && return
	cat "$tmp/initd.log"
	not_ok "/etc/init.d/genid $1 (output above)"
}

# Fetches IDs from the installed genid into $tmp/ids until
# $tmp/load.stop exists: a little load, every ID kept.
load_start() {
	rm -f "$tmp/load.stop" "$tmp/load.done"
	(
		while [ ! -e "$tmp/load.stop" ]; do
			genidctl get -n 20 -T 2000 "127.0.0.1:$port" 2>/dev/null
			sleep 0.05
		done
		touch "$tmp/load.done"
	) >>"$tmp/ids" &
	loader=$!
}

load_stop() {
	touch "$tmp/load.stop"
	if poll 30 test -e "$tmp/load.done"; then
		wait "$loader"
	else
		kill "$loader"
		not_ok "the load did not stop within 30 s"
	fi
	loader=
}

fetched() {
	touch "$tmp/ids"
	grep -c '^[0-9][0-9]*$' "$tmp/ids"
}

# Whether the load fetched 200 IDs since $fetched_before.
loaded() {
	[ "$(fetched)" -ge $((fetched_before + 200)) ]
}

# The highest ID in $tmp/ids, compared as unsigned 64-bit numbers (sort -n
# compares digits, not machine integers).
highest() {
	grep '^[0-9][0-9]*$' "$tmp/ids" | LC_ALL=C sort -n | tail -n 1
}

# Whether the decimal IDs $1 > $2 as unsigned 64-bit numbers: sh
# arithmetic is signed.
above() {
	[ "${#1}" -gt "${#2}" ] || {
		[ "${#1}" -eq "${#2}" ] && [ "$1" != "$2" ] &&
		    [ "$(printf '%s\n%s\n' "$1" "$2" | LC_ALL=C sort | tail -n 1)" = "$1" ]
	}
}

# Whether every ID on stdin is above $1.
all_above() {
	n=0
	while read -r id; do
		above "$id" "$1" || {
			echo "# $id is not above $1"
			return 1
		}
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# The node's identity and version from its INFO.
info_field() {
	sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[0-9]*\).*/\1/p" "$tmp/info.json"
}
identity() {
	genidctl info --json -T 5000 "127.0.0.1:$port" >"$tmp/info.json" 2>&1 ||
	    return 1
	echo "zone $(info_field zone) dc $(info_field dc) machine $(info_field machine)" \
	    "epoch $(info_field epoch)"
}
running_version() {
	genidctl info --json -T 5000 "127.0.0.1:$port" >"$tmp/info.json" 2>&1 &&
	    info_field version | tr -d '"'
}

# Whether /etc/genid.json is the one the installed genid package ships.
conffile_as_shipped() {
	sum=$(dpkg-query -W -f='${Conffiles}\n' genid |
	    awk '$1 == "/etc/genid.json" { print $2 }')
	test "$(md5sum </etc/genid.json | cut -d' ' -f1)" = "$sum"
}

# step LABEL VERSION PACKAGE_FILE...: with genid serving, a little load
# first, then installs the files (genid VERSION), with the service running,
# and checks the service came back with the same identity and serves IDs
# above every ID fetched before.
step() {
	step_what=$1
	want=$2
	shift 2
	id_before=$(identity)
	fetched_before=$(fetched)
	load_start
	poll 30 loaded || not_ok "$step_what: the load fetched 200 IDs within 30 s"
	load_stop
	n=$(fetched)
	top_id=$(highest)
	echo "# $step_what: $n IDs fetched from genid $(running_version), the highest $top_id"
	old_master=${master:-}
	if [ "$started_by_postinst" = no ] && dpkg --compare-versions "$want" lt \
	    "$(dpkg-query -W -f='${Version}' genid)"; then
		# policy-rc.d forbids the stop of prerm, which converts the
		# state file of a stopped genid: the operator stops it.
		initd stop
	fi
	apt_step "$step_what" "$@" || return 1
	if [ "$started_by_postinst" = no ]; then
		# ... and the restart of postinst.
		initd restart
	fi
	check "$step_what: genid $want is installed" \
	    test "$(dpkg-query -W -f='${Version}' genid)" = "$want"
	check_service "$step_what"
	check "$step_what: genid was restarted (master $old_master -> ${master:-})" \
	    differ "${master:-}" "$old_master"
	check "$step_what: INFO says version $want" test "$(running_version)" = "$want"
	id_after=$(identity)
	check "$step_what: the node keeps its identity ($id_before -> $id_after)" \
	    test "$id_after" = "$id_before"
	genidctl get -n 100 -T 5000 "127.0.0.1:$port" >"$tmp/after" 2>&1
	check "$step_what: 100 IDs after, each above the highest of the $n before" \
	    all_above "$top_id" <"$tmp/after"
	cat "$tmp/after" >>"$tmp/ids"
}

# A new node for this part: neither the packages nor the state file of the
# part above.  Where policy-rc.d forbade prerm's stop, the genid of the part
# above still runs: stopped as an operator would.
if [ -n "${master:-}" ] && is_master "$master"; then
	echo "# genid $master still runs after the purge (policy-rc.d): stopping it"
	stop_master "$master"
fi
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q \
    genid genidctl libgenid0 libgenid-dev >/dev/null 2>&1
rm -rf /var/lib/genid
# 0.1.0, up, down and up again; gives up at the first step that fails, as
# the next ones would start from a state nobody means.
# shellcheck disable=SC2086 # one argument per package file
versions() {
	echo "# genid $old_version -> $version -> $old_version -> $version"
	apt_step "install $old_version" $old_debs || return
	if [ "$started_by_postinst" = no ]; then
		initd start
	fi
	check_service "install $old_version"
	check "install $old_version: INFO says version $old_version" \
	    test "$(running_version)" = "$old_version"

	step "upgrade $old_version -> $version" "$version" $debs || return
	check "upgrade: the unchanged /etc/genid.json is now $version's" \
	    conffile_as_shipped

	step "downgrade $version -> $old_version" "$old_version" $old_debs || return
	check "downgrade: genid $version's prerm rewrote the state file in layout 3" \
	    grep -q "state file is in layout 3" "$tmp/step.log"
	check "downgrade: no maintainer script failed" \
	    sh -c "! grep -q 'subprocess returned error' '$tmp/step.log'"
	grep -e '^dpkg: ' -e '^genid: ' -e 'genid.*--state-layout' "$tmp/step.log" |
	    sed 's/^/# downgrade: /'
	check "downgrade: the unchanged /etc/genid.json is $old_version's" \
	    conffile_as_shipped

	# An operator's change, which dpkg keeps (--force-confold) beside
	# the new package's file.
	sed -i 's/"log_level": "info"/"log_level": "notice"/' /etc/genid.json
	conf_sum=$(md5sum </etc/genid.json)
	step "upgrade again, /etc/genid.json changed" "$version" $debs || return
	check "upgrade again: /etc/genid.json keeps the operator's change" \
	    test "$(md5sum </etc/genid.json)" = "$conf_sum"
}
if [ -n "$old_debs" ]; then
	versions
fi

DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q \
    genid genidctl libgenid0 libgenid-dev >"$tmp/purge.log" 2>&1
check "apt-get purge genid genidctl libgenid0 libgenid-dev" test $? -eq 0
check "purge: no genid package is left" \
    test -z "$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'genid*' 'libgenid*' \
    2>/dev/null | grep -v '^not-installed ')"
check "purge: no /etc/genid.json*" test -z "$(ls /etc/genid.json* 2>/dev/null)"
finish
