#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_restart.py - kill -9 of the master and all workers under load, then
restart at once on the same state file and port: serving again in under
1 s (from starting the process to the first ID), no duplicate across the
restarts, every ID after a restart greater than every ID before it on the
same bucket, and every ID before it at or below the checkpoint the state
file held.  Three rounds: a crash, a crash followed by a simulated reboot
(the bucket table rolled back, another kernel boot id), a crash of an
idle server.  After each, a crash within the same kernel boot too, every
ID must lie above the checkpoint: bucket words are trusted only after a
clean stop.  Before the second and third rounds the test waits until the
clock is within max_ahead_s + 1 of the checkpoint (integ_restart_loop.py
does not wait).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
import restart_rounds  # noqa: E402


def test(t):
    restart_rounds.run_rounds(t, (("under load", 600000, "crash"),
                                  ("under load, then a reboot", 200000,
                                   "reboot"),
                                  ("idle", 0, "crash")), rapid=False)


harness.run(test, control=True)
