#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Checks of what ships beside the daemon, with the tools operators use:
#  - shellcheck on every shell script of the tree (init script, contrib,
#    tests, maintainer scripts);
#  - logrotate -d on contrib/logrotate/genid; haproxy -c on the HAProxy
#    sample; systemd-analyze verify on the systemd unit;
#  - promtool check rules and promtool test rules on
#    contrib/prometheus/genid-rules.yml;
#  - a real genid with metrics_listen: its /metrics and genidctl stats
#    --prometheus pass promtool check metrics, and every metric named by
#    the rules and by the Grafana dashboard (contrib/grafana/genid.json,
#    which must parse) is one /metrics exports;
#  - tests/integ_upgrade.py: the genid of the last release, built from the
#    repository's history, then this one on its state file (and back).
# Ends with one line "N passed, M failed".
#
# Usage: sh contrib/test-ops.sh [BUILDDIR]
# BUILDDIR holds a built tree (src/genid, cli/genidctl); without it the
# test builds one in a temporary directory.  Missing tools are installed
# with apt-get when run as root, else each check that needs one fails and
# names the package.
# Functions run through check look unreachable to shellcheck.
# shellcheck disable=SC2317
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
pass=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/genid-ops.XXXXXX") || exit 1
genid_pid=

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; its output
# is shown when it fails.
check() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$tmp/out"
	fi
}

now() {
	date +%s
}

cleanup() {
	if [ -n "$genid_pid" ]; then
		kill -TERM "$genid_pid" 2>/dev/null
		deadline=$(($(now) + 10))
		while kill -0 "$genid_pid" 2>/dev/null; do
			if [ "$(now)" -ge "$deadline" ]; then
				kill -KILL "$genid_pid" 2>/dev/null
				break
			fi
			sleep 0.1
		done
		wait "$genid_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# need TOOL PACKAGE: whether TOOL is there, installing PACKAGE as root.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ]; then
		echo "# installing $2 for $1"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$2" \
		    >/dev/null 2>&1
	fi
	command -v "$1" >/dev/null 2>&1 && return 0
	not_ok "$1 is missing: apt-get install $2"
	return 1
}

# ------------------------------------------------------------- shellcheck

# The tree's files: what git tracks and what is new, or all files.
tree_files() {
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top" ls-files -co --exclude-standard
	else
		# Not a git checkout (a tarball): the hand-written parts only,
		# not what autoreconf, configure or a build made.
		(cd "$top" && find . -maxdepth 1 -type f -name '*.sh' &&
		    find .ci contrib debian etc man tests -type f) 2>/dev/null |
		    sed 's|^\./||'
	fi
}

if need shellcheck shellcheck; then
	scripts=$(tree_files | while read -r f; do
		[ -f "$top/$f" ] || continue
		case $f in
		*.sh | etc/init.d/*.in | debian/*.postinst | debian/*.postrm | \
		    debian/*.preinst | debian/*.prerm | .ci/run)
			echo "$f"
			continue
			;;
		esac
		case $(head -n 1 "$top/$f") in
		'#!/bin/sh'* | '#!/bin/bash'* | '#!/usr/bin/env sh'* | \
		    '#!/usr/bin/env bash'*) echo "$f" ;;
		esac
	done | sort -u)
	for f in $scripts; do
		check "shellcheck $f" shellcheck -x "$top/$f"
	done
fi

# ---------------------------------------------------- samples and the unit

if need logrotate logrotate; then
	# The user genid is the package's: where it does not exist, the
	# checks run on a copy that names root instead.
	owner=genid
	sample=$top/contrib/logrotate/genid
	if ! getent passwd genid >/dev/null; then
		owner=root
		sed "s| genid adm| root adm|" "$sample" >"$tmp/logrotate.sample"
		sample=$tmp/logrotate.sample
	fi
	check "logrotate -d contrib/logrotate/genid (create 0640 $owner adm)" \
	    logrotate -d -s "$tmp/logrotate.state" "$sample"
	# The same rules on a log file that exists: logrotate -d -f walks
	# through a rotation (without doing it).
	mkdir -m 0755 "$tmp/log"
	echo "a line" >"$tmp/log/genid.log"
	sed -e "s|/var/log/genid/|$tmp/log/|" -e "s| genid adm| $owner adm|" \
	    "$top/contrib/logrotate/genid" >"$tmp/logrotate.conf"
	rotates() {
		logrotate -d -f -s "$tmp/logrotate.state" "$tmp/logrotate.conf" \
		    >"$tmp/rotate.out" 2>&1 || return 1
		cat "$tmp/rotate.out"
		grep -q "rotating log $tmp/log/genid.log" "$tmp/rotate.out" &&
		    ! grep -qi 'error' "$tmp/rotate.out"
	}
	check "logrotate -d -f rotates a genid log (create 0640 $owner adm)" rotates
fi

if need haproxy haproxy; then
	check "haproxy -c -f contrib/haproxy/genid.cfg" \
	    haproxy -c -f "$top/contrib/haproxy/genid.cfg"
fi

# ---------------------------------------------------------------- a build

if [ -z "$build" ]; then
	echo "# building in $tmp/build"
	if [ ! -x "$top/configure" ]; then
		(cd "$top" && autoreconf -fi) >"$tmp/autoreconf.log" 2>&1 ||
			not_ok "autoreconf -fi"
	fi
	mkdir "$tmp/build"
	if (cd "$tmp/build" && "$top/configure" --quiet && make -j2 --quiet) \
	    >"$tmp/build.log" 2>&1; then
		build=$tmp/build
	else
		tail -n 40 "$tmp/build.log"
		not_ok "configure && make"
	fi
fi
genid=${build:+$build/src/genid}
genidctl=${build:+$build/cli/genidctl}

if need systemd-analyze systemd; then
	# The unit names /usr/sbin/genid; verify wants its commands to exist,
	# so the copy runs the built one.  Its man pages come from the tree.
	mkdir -p "$tmp/unit" "$tmp/man/man5" "$tmp/man/man8"
	sed "s|/usr/sbin/genid|${genid:-/nonexistent/genid}|g" \
	    "$top/contrib/systemd/genid.service" >"$tmp/unit/genid.service"
	cp "$top/man/genid.8" "$tmp/man/man8/"
	cp "$top/man/genid.json.5" "$tmp/man/man5/"
	verify() {
		MANPATH=$tmp/man systemd-analyze verify "$tmp/unit/genid.service" \
		    >"$tmp/verify.out" 2>&1
		rc=$?
		cat "$tmp/verify.out"
		[ "$rc" -eq 0 ] && [ ! -s "$tmp/verify.out" ]
	}
	check "systemd-analyze verify contrib/systemd/genid.service: no complaint" verify
	unit_has() {
		grep -qx "$1" "$top/contrib/systemd/genid.service"
	}
	check "the unit is Type=notify" unit_has 'Type=notify'
	check "the unit stops the master first (KillMode=mixed)" unit_has 'KillMode=mixed'
	check "the unit restarts on failure" unit_has 'Restart=on-failure'
	nofile() {
		[ "$(sed -n 's/^LimitNOFILE=//p' "$top/contrib/systemd/genid.service")" \
		    -ge 1000064 ]
	}
	check "the unit's LimitNOFILE covers max_connections 1000000 + 64" nofile
fi

# --------------------------------------------------------------- promtool

rules=$top/contrib/prometheus/genid-rules.yml
have_promtool=
if need promtool prometheus; then
	have_promtool=yes
	check "promtool check rules genid-rules.yml" promtool check rules "$rules"
	unit_tests() {
		(cd "$top/contrib/prometheus" &&
		    promtool test rules genid-rules.test.yml)
	}
	check "promtool test rules genid-rules.test.yml" unit_tests
fi

# ------------------------------------------------- a real genid's /metrics

port_of() {
	sed -n "s/.*$1 on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$tmp/genid.log" |
	    head -n 1
}

start_genid() {
	cat >"$tmp/genid.json" <<EOF
{
  "listen": ["127.0.0.1:0"],
  "metrics_listen": "127.0.0.1:0",
  "workers": 2,
  "state_file": "$tmp/genid.state",
  "pid_file": "",
  "log_file": "$tmp/genid.log"
}
EOF
	# A new node's state file, made as an operator makes it (genid(8)).
	if [ ! -e "$tmp/genid.state" ] &&
	    ! "$genid" -c "$tmp/genid.json" --init >"$tmp/genid.out" 2>&1; then
		cat "$tmp/genid.out"
		return 1
	fi
	"$genid" -c "$tmp/genid.json" </dev/null >"$tmp/genid.out" 2>&1 &
	genid_pid=$!
	deadline=$(($(now) + 15))
	until grep -q 'ready:' "$tmp/genid.log" 2>/dev/null; do
		if ! kill -0 "$genid_pid" 2>/dev/null ||
		    [ "$(now)" -ge "$deadline" ]; then
			cat "$tmp/genid.out" "$tmp/genid.log" 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	mport=$(port_of metrics)
	port=$(port_of listening)
	[ -n "$mport" ] && [ -n "$port" ]
}

# Fetches /metrics over loopback (Python's standard library: no curl
# needed) into $tmp/metrics.txt.
scrape() {
	python3 - "$mport" >"$tmp/metrics.txt" <<'EOF'
import sys
import urllib.request

url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
with urllib.request.urlopen(url, timeout=5) as r:
    if r.status != 200:
        sys.exit("GET %s: %d" % (url, r.status))
    sys.stdout.write(r.read().decode())
EOF
}

if [ -z "$genid" ] || [ ! -x "$genid" ]; then
	not_ok "no built genid: the /metrics checks cannot run"
elif ! start_genid; then
	not_ok "genid with metrics_listen starts"
else
	ok "genid with metrics_listen starts (port $port, metrics $mport)"
	# Some IDs first, so that the counters are not all 0.
	"$genidctl" get -n 10 "127.0.0.1:$port" >/dev/null 2>&1
	if scrape; then
		ok "GET /metrics"
	else
		not_ok "GET /metrics"
	fi
	"$genidctl" stats --prometheus -s "$tmp/genid.state" \
	    >"$tmp/stats.txt" 2>"$tmp/stats.err"
	check "genidctl stats --prometheus" test -s "$tmp/stats.txt"
	if [ -n "$have_promtool" ]; then
		lint() {
			out=$(promtool check metrics <"$1" 2>&1)
			rc=$?
			echo "$out"
			[ "$rc" -eq 0 ] && [ -z "$out" ]
		}
		check "promtool check metrics on /metrics" lint "$tmp/metrics.txt"
		check "promtool check metrics on genidctl stats --prometheus" \
		    lint "$tmp/stats.txt"
	fi

	# Every metric name in the rules and the dashboard is one /metrics
	# exports.  "up" is Prometheus' own series for each scrape target;
	# names with a colon are the recording rules' own.
	names() {
		python3 - "$tmp/metrics.txt" "$rules" \
		    "$top/contrib/grafana/genid.json" <<'EOF'
import json
import re
import sys

exported = set()
for line in open(sys.argv[1]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        name, kind = m.groups()
        exported.add(name)
        if kind == "histogram":
            exported.update(name + s for s in ("_bucket", "_sum", "_count"))
        if kind == "summary":
            exported.update(name + s for s in ("_sum", "_count"))
    elif line.strip() and not line.startswith("#"):
        exported.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))

FUNCS = set("""abs absent absent_over_time avg avg_over_time bottomk ceil
changes clamp clamp_max clamp_min count count_over_time count_values delta
deriv exp floor group histogram_quantile holt_winters idelta increase irate
label_join label_replace label_values last_over_time ln log10 log2
max max_over_time min min_over_time predict_linear quantile
quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev
stddev_over_time stdvar sum sum_over_time time timestamp topk vector
and or unless by without on ignoring group_left group_right offset bool
inf nan""".split())


def metric_names(expr):
    # label_values(metric, label) names one metric; then drop label
    # matchers and strings, grouping label lists and ranges.
    e = re.sub(r"label_values\(([^,)]*),[^)]*\)", r"\1", expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r'"[^"]*"', " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
               " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if tok in FUNCS or tok.startswith("$"):
            continue
        yield tok


exprs = []
rules_text = open(sys.argv[2]).read()
# The rules file is YAML: its expressions are "expr:" values, on one line
# or folded on the lines below.
lines = rules_text.splitlines()
for i, line in enumerate(lines):
    m = re.match(r"(\s*)expr:\s*(.*)$", line)
    if not m:
        continue
    indent, rest = len(m.group(1)), m.group(2)
    if rest in (">-", ">", "|", "|-"):
        rest = ""
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            rest += " " + nxt.strip()
    exprs.append(("rules", rest))

dash = json.load(open(sys.argv[3]))


def walk(o):
    if isinstance(o, dict):
        if o.get("type") == "datasource":
            return
        for k, v in o.items():
            if k == "expr" and isinstance(v, str):
                exprs.append(("dashboard", v))
            elif k == "query" and isinstance(v, str):
                exprs.append(("dashboard", v))
            elif k == "query" and isinstance(v, dict) and "query" in v:
                exprs.append(("dashboard", v["query"]))
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)


walk(dash.get("panels", []))
walk(dash.get("templating", {}))
bad = 0
seen = 0
for where, e in exprs:
    for name in metric_names(e):
        if name == "up" or ":" in name:
            continue
        seen += 1
        if name not in exported:
            print("%s: %s is not exported by /metrics (in: %s)" % (where, name, e))
            bad += 1
print("%d expressions, %d metric references, %d unknown"
      % (len(exprs), seen, bad))
sys.exit(1 if bad or not exprs or not seen else 0)
EOF
	}
	check "contrib/grafana/genid.json parses as JSON" \
	    python3 -m json.tool "$top/contrib/grafana/genid.json"
	check "every metric in the rules and the dashboard is exported by /metrics" names
	tail -n 1 "$tmp/out" | sed 's/^/# /'
fi

# -------------------------------------------- upgrade from the last release

# tests/integ_upgrade.py builds the genid of the last release from the
# repository's history (contrib/build-release.sh, cached by commit), runs
# it under load, stops it cleanly and with SIGKILL, and starts this one on
# its state file; then the other way round.  Its notes (the layouts, what
# could not run yet) are shown whatever the result.
if [ -z "$genid" ] || [ ! -x "$genid" ]; then
	not_ok "no built genid: the upgrade test cannot run"
else
	upgrade() {
		GENID=$genid GENID_SRCDIR=$top python3 "$top/tests/integ_upgrade.py"
	}
	started=$(now)
	before=$failed
	what="tests/integ_upgrade.py: the last release's genid, then this tree's, on one state file"
	upgrade >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 77 ]; then
		# Not a pass: a clone without the release's history.
		echo "SKIP - $what: $(tail -n 1 "$tmp/out")"
	elif [ "$rc" -eq 0 ]; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$tmp/out"
	fi
	# A failure has shown the whole output already.
	if [ "$failed" -eq "$before" ]; then
		grep '^# ' "$tmp/out" | sed 's/^# /#   /'
	fi
	echo "# the upgrade test took $(($(now) - started)) s"
fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
