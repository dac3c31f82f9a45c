# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# lib.sh - what the run-*.sh scripts share; sourced, not run.

# Stops one server by PID: TERM, then KILL after 5 s.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
