# SPDX-License-Identifier: BSD-2-Clause
"""Where the tests find the conformance suite, and genid itself.

The package under test is the installed one when there is one (test.sh
installs it into a virtual environment), else the source next door.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
SUITE = os.path.join(TOP, "tests", "clients")
GENID = os.environ.get("GENID") or None

sys.path.insert(0, SUITE)
try:
    import genid64  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
