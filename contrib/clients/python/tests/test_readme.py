# SPDX-License-Identifier: BSD-2-Clause
"""The first example of README.md runs against a real genid."""

import os
import re
import subprocess
import sys
import unittest

import _paths
import conformance


class Readme(unittest.TestCase):
    def test_example(self):
        if not _paths.GENID:
            self.skipTest("needs genid (set GENID)")
        with open(os.path.join(_paths.HERE, "..", "README.md")) as f:
            code = re.search(r"```python\n(.*?)```", f.read(), re.S).group(1)
        self.assertLessEqual(len(code.strip().splitlines()), 10)
        srv = conformance.Server({"genid": []}, _paths.GENID)
        try:
            # The example talks to 127.0.0.1:3778; here genid has a port
            # of its own, and the second address is one nobody uses.
            code = code.replace("127.0.0.1:3778", srv.address)
            env = dict(os.environ)
            import genid64
            env["PYTHONPATH"] = os.path.dirname(os.path.dirname(
                genid64.__file__))
            p = subprocess.run([sys.executable, "-c", code], env=env,
                               capture_output=True, text=True, timeout=30)
        finally:
            srv.stop()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^\d+ from 127\.0\.0\.1:%d zone 3 "
                         r"machine 5 at 20\d\d-" % srv.port)


if __name__ == "__main__":
    unittest.main()
