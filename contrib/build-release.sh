#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Builds the genid and genidctl of an earlier commit of this repository,
# for the tests that run an older genid against the tree's (an upgrade,
# a downgrade).  The commit is checked out from the repository's own
# history into a temporary detached worktree, built there with
# autoreconf -fi && ./configure --quiet && make -j2 src/genid cli/genidctl,
# and the two programs are copied to CACHE/<full commit id>/src/genid and
# .../cli/genidctl, beside that commit's etc/genid.json and man pages
# (what its package shipped); the worktree is then removed.  A build already in the
# cache is reused.  The last line of standard output is that directory.
#
# Usage: sh contrib/build-release.sh COMMIT
# CACHE is $GENID_RELEASE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/genid.
# Exits 77, saying so, when COMMIT is not in the history even after git
# fetch --unshallow (a shallow clone whose remote does not answer), and 1
# when the build fails (its log is shown).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ne 1 ]; then
	echo "usage: sh contrib/build-release.sh COMMIT" >&2
	exit 64
fi
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	echo "$top is not a git checkout: commit $1 cannot be built from" \
	    "its history" >&2
	exit 1
fi
# A shallow clone is deepened first, where its remote answers.
if ! git -C "$top" rev-parse --verify --quiet "$1^{commit}" >/dev/null &&
    [ "$(git -C "$top" rev-parse --is-shallow-repository)" = true ]; then
	echo "# $1 is not in this shallow clone: git fetch --unshallow" >&2
	timeout 120 git -C "$top" fetch -q --unshallow >&2 || true
fi
if ! sha=$(git -C "$top" rev-parse --verify --quiet "$1^{commit}"); then
	echo "commit $1 is not in the history of $top: clone the" \
	    "repository with its history (git fetch --unshallow)" >&2
	exit 77
fi
cache=${GENID_RELEASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/genid}
out=$cache/$sha
if [ -x "$out/src/genid" ] && [ -x "$out/cli/genidctl" ] &&
    [ -f "$out/etc/genid.json" ]; then
	echo "# reusing the build of $sha in $out" >&2
	echo "$out"
	exit 0
fi
# A directory left without both programs (a run cut short) is redone.
rm -rf "$out"
mkdir -p "$cache" || exit 1
work=$(mktemp -d "$cache/build.XXXXXX") || exit 1
wt=$work/src

cleanup() {
	if [ -d "$wt" ]; then
		git -C "$top" worktree remove --force "$wt" >/dev/null 2>&1
	fi
	git -C "$top" worktree prune
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

echo "# building genid at $sha in $wt" >&2
log=$work/build.log
if ! git -C "$top" worktree add --detach "$wt" "$sha" >"$log" 2>&1 ||
    ! (cd "$wt" && autoreconf -fi && ./configure --quiet &&
	make -j2 src/genid cli/genidctl) >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "the build of $sha failed" >&2
	exit 1
fi
# Both programs link the tree's own libraries statically (libtool
# convenience libraries), so the copies run wherever they are.
mkdir -p "$work/out/src" "$work/out/cli" "$work/out/etc" "$work/out/man" &&
    cp "$wt/src/genid" "$work/out/src/genid" &&
    cp "$wt/cli/genidctl" "$work/out/cli/genidctl" &&
    cp "$wt/etc/genid.json" "$work/out/etc/genid.json" &&
    cp "$wt/man/genid.8" "$wt/man/genid.json.5" "$work/out/man/" || exit 1
# Another run may have finished the same build meanwhile: either copy
# is the same commit's, and the first in place stays.
if ! mv -T "$work/out" "$out" 2>/dev/null && [ ! -x "$out/src/genid" ]; then
	echo "cannot move the build to $out" >&2
	exit 1
fi
echo "$out"
