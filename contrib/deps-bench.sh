#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs what the benchmarks need on top of contrib/deps.sh (Debian 12;
# run as root, or as a user who may sudo): the peers genid is measured
# against (redis-server, PostgreSQL) and the client libraries of
# `make bench-clients` (hiredis, libpq, libuuid).  Kept apart from deps.sh
# so that the test CI does not pull a database server.  Re-run configure
# after it so that the client comparison is built with them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/contrib/deps.sh"
sh "$top/contrib/deps.sh" redis-server libhiredis-dev postgresql libpq-dev uuid-dev
# Debian starts the packaged services; the benchmarks start their own
# servers in a temporary directory and need no system-wide instance.
