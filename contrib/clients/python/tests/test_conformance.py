# SPDX-License-Identifier: BSD-2-Clause
"""cases.json against genid64.Client and genid64.AsyncClient.

Cases that need the real genid run when $GENID names the binary, and are
skipped otherwise; the fake-server cases always run.
"""

import asyncio
import unittest

import _paths
import conformance
import genid64


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
        return genid64.Client(addresses, **options(o))

    def next(self, c):
        try:
            return c.next()
        except genid64.GenidError as e:
            raise failure(e)

    def bulk(self, c, n):
        try:
            return c.bulk(n)
        except genid64.GenidError as e:
            raise failure(e)

    def info(self, c):
        try:
            return c.info()
        except genid64.GenidError as e:
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
        except genid64.GenidError as e:
            raise failure(e)

    def open(self, addresses, o):
        return genid64.AsyncClient(addresses, **options(o))

    def next(self, c):
        return self.run(c.next())

    def bulk(self, c, n):
        return self.run(c.bulk(n))

    def info(self, c):
        return self.run(c.info())

    def close(self, c):
        self.run(c.close())


class Conformance(unittest.TestCase):
    """One test per case of cases.json and client, made below."""

    doc = conformance.load()

    def check_case(self, case, adapter):
        try:
            problems = conformance.run_case(case, adapter, _paths.GENID)
        except conformance.Skip as e:
            self.skipTest(str(e))
        finally:
            if isinstance(adapter, Async):
                adapter.loop.close()
        self.assertEqual(problems, [], case["about"])

    def test_defaults(self):
        d = self.doc["defaults"]
        self.assertEqual(genid64.DEFAULT_PORT, d["port"])
        self.assertEqual(genid64.DEFAULT_CONNECT_TIMEOUT * 1000,
                         d["connect_timeout_ms"])
        self.assertEqual(genid64.DEFAULT_IO_TIMEOUT * 1000, d["io_timeout_ms"])
        self.assertEqual(genid64.PREFETCH_MAX_AGE * 1000,
                         d["prefetch_max_age_ms"])
        self.assertEqual(genid64.PREFETCH_MAX, d["prefetch_max"])


def _add(case, kind, make):
    name = "test_%s_%s" % (kind, case["name"].replace("-", "_"))
    setattr(Conformance, name,
            lambda self: self.check_case(case, make()))


for _case in Conformance.doc["cases"]:
    _add(_case, "blocking", Blocking)
    _add(_case, "asyncio", Async)


if __name__ == "__main__":
    unittest.main()
