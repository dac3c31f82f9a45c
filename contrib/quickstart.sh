#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# One command from a fresh Debian 12 machine to a running genid: installs
# the dependencies, builds in build/, and runs genid in the foreground on
# etc/genid.json (port 3778 on 127.0.0.1 and ::1, state and pid file in
# run/).
# Stop it with Ctrl-C.  The first run makes run/genid.state with
# genid --init: this node never issued IDs, so they start at the clock.
# Later runs keep the file (genid(8), "The first start").
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/contrib/deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p build run
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" --quiet
cd "$top/run"
# etc/genid.json names "genid.state", relative to run/.
if [ ! -e genid.state ]; then
	"$top/build/src/genid" -c "$top/etc/genid.json" --init
fi
echo "genid on 127.0.0.1:3778; in another shell: build/cli/genidctl get 127.0.0.1:3778"
exec "$top/build/src/genid" -c "$top/etc/genid.json"
