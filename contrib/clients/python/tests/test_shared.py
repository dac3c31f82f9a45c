# SPDX-License-Identifier: BSD-2-Clause
"""One client shared by threads, and by asyncio tasks: calls take turns,
every ID is handed out once, and each call's IDs increase."""

import asyncio
import threading
import unittest

import _paths  # noqa: F401
import conformance
import genid64


class Shared(unittest.TestCase):
    def setUp(self):
        self.srv = conformance.Server({"fake": ["--mode", "normal"]}, None)
        self.addCleanup(self.srv.stop)

    def test_threads(self):
        got, errors = [], []
        with genid64.Client([self.srv.address], prefetch=50) as c:
            def work():
                try:
                    for _ in range(20):
                        ids = c.bulk(300)
                        self.assertEqual(ids, sorted(ids))
                        got.extend(ids + [c.next()])
                except Exception as e:  # reported below
                    errors.append(e)
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(got), 4 * 20 * 301)
        self.assertEqual(len(set(got)), len(got))

    def test_tasks(self):
        async def main():
            async with genid64.AsyncClient([self.srv.address]) as c:
                runs = await asyncio.gather(*[c.bulk(300) for _ in range(8)],
                                            *[c.next() for _ in range(8)])
            return runs
        runs = asyncio.run(main())
        flat = [i for r in runs[:8] for i in r] + list(runs[8:])
        self.assertEqual(len(set(flat)), 8 * 300 + 8)
        for r in runs[:8]:
            self.assertEqual(r, sorted(r))
        # One connection, calls in turn: the runs follow one another.
        self.assertEqual([i for r in runs[:8] for i in r],
                         sorted(i for r in runs[:8] for i in r))


if __name__ == "__main__":
    unittest.main()
