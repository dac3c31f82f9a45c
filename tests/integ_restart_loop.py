#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_restart_loop.py - a crash loop: kill -9 of the whole server under
load, restart at once, and kill -9 again right after the restart (within
the same second or two), three times.  Each restart must serve again in
under 1 s (genid(7): "restart within the same second"; target: restart to
serving < 1 s after kill -9), with no duplicate and every ID after a
restart above every ID before it on the same bucket.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
import restart_rounds  # noqa: E402


def test(t):
    restart_rounds.run_rounds(t, (("under load", 400000, "crash"),
                                  ("right after the restart, under load",
                                   100000, "crash"),
                                  ("right after the restart, idle", 0,
                                   "crash")),
                              rapid=True)


harness.run(test, control=True)
