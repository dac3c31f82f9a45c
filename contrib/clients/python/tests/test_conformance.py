"""cases.json against genid.Client and genid.AsyncClient.

Cases that need the real genid run when $GENID names the binary, and are
skipped otherwise; the fake-server cases always run.
"""

import asyncio
import unittest

import _paths
import conformance
import genid


def options(o):
    kw = {}
    if "connect_timeout_ms" in o:
        kw["connect_timeout"] = o["connect_timeout_ms"] / 1000
    if "io_timeout_ms" in o:
        kw["io_timeout"] = o["io_timeout_ms"] / 1000
    for k in ("prefetch", "epoch"):
        if k in o:
            kw[k] = o[k]
    return kw


def failure(e):
    return conformance.ClientFailure(e.kind, str(e), e.ids)


class Blocking:
    def open(self, addresses, o):
        return genid.Client(addresses, **options(o))

    def next(self, c):
        try:
            return c.next()
        except genid.GenidError as e:
            raise failure(e)

    def bulk(self, c, n):
        try:
            return c.bulk(n)
        except genid.GenidError as e:
            raise failure(e)

    def info(self, c):
        try:
            return c.info()
        except genid.GenidError as e:
            raise failure(e)

    def close(self, c):
        c.close()


class Async:
    """The asyncio client, each call run to its end on one loop."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()

    def run(self, coro):
        try:
            return self.loop.run_until_complete(coro)
        except genid.GenidError as e:
            raise failure(e)

    def open(self, addresses, o):
        return genid.AsyncClient(addresses, **options(o))

    def next(self, c):
        return self.run(c.next())

    def bulk(self, c, n):
        return self.run(c.bulk(n))

    def info(self, c):
        return self.run(c.info())

    def close(self, c):
        self.run(c.close())


class Conformance(unittest.TestCase):
    doc = conformance.load()

    def run_all(self, adapter):
        for case in self.doc["cases"]:
            with self.subTest(case=case["name"]):
                try:
                    problems = conformance.run_case(case, adapter,
                                                    _paths.GENID)
                except conformance.Skip as e:
                    self.skipTest(str(e))
                self.assertEqual(problems, [], case["about"])

    def test_blocking(self):
        self.run_all(Blocking())

    def test_asyncio(self):
        a = Async()
        try:
            self.run_all(a)
        finally:
            a.loop.close()

    def test_defaults(self):
        d = self.doc["defaults"]
        self.assertEqual(genid.DEFAULT_PORT, d["port"])
        self.assertEqual(genid.DEFAULT_CONNECT_TIMEOUT * 1000,
                         d["connect_timeout_ms"])
        self.assertEqual(genid.DEFAULT_IO_TIMEOUT * 1000, d["io_timeout_ms"])
        self.assertEqual(genid.PREFETCH_MAX_AGE * 1000,
                         d["prefetch_max_age_ms"])
        self.assertEqual(genid.PREFETCH_MAX, d["prefetch_max"])


if __name__ == "__main__":
    unittest.main()
