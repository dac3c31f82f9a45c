# SPDX-License-Identifier: BSD-2-Clause
"""Decode, encode, parse and addresses: the tables of cases.json."""

import contextlib
import io
import unittest

import _paths  # noqa: F401
import conformance
import genid64
from genid64 import __main__ as cli


class Tables(unittest.TestCase):
    doc = conformance.load()

    def test_decode(self):
        for e in self.doc["decode"]:
            with self.subTest(id=e["id"]):
                id_ = int(e["id"])
                self.assertEqual(id_, int(e["hex"], 16))
                f = genid64.decode(id_)
                self.assertEqual(vars(f), e["fields"])
                self.assertEqual(genid64.encode(f), id_)
                self.assertEqual(genid64.encode(**e["fields"]), id_)
                self.assertEqual(genid64.unix_time(id_, e["epoch"]), e["unix"])
                self.assertEqual(f.unix(e["epoch"]), e["unix"])
                self.assertEqual(genid64.id_time(id_, e["epoch"]).timestamp(),
                                 e["unix"])
                self.assertEqual(id_ <= genid64.SIGNED64_MAX, e["signed64"])

    def test_encode_errors(self):
        for e in self.doc["encode_errors"]:
            with self.subTest(fields=e["fields"]):
                with self.assertRaises(ValueError) as cm:
                    genid64.encode(**e["fields"])
                self.assertIn(e["field"], str(cm.exception))
                self.assertEqual(str(cm.exception), e["message"])

    def test_decode_out_of_range(self):
        for v in (-1, 1 << 64):
            with self.assertRaises(ValueError):
                genid64.decode(v)

    def test_parse(self):
        for text, want in self.doc["parse"]["ok"]:
            with self.subTest(text=text):
                self.assertEqual(genid64.parse_id(text), int(want))
        for text in self.doc["parse"]["bad"]:
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    genid64.parse_id(text)

    def test_addresses(self):
        for text, host, port in self.doc["addresses"]["ok"]:
            with self.subTest(text=text):
                self.assertEqual(genid64.parse_address(text), (host, port))
        for text in self.doc["addresses"]["bad"]:
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    genid64.parse_address(text)
                with self.assertRaises(ValueError):
                    genid64.Client([text])

    def test_span(self):
        lo, hi = genid64.span(1795000000, 1795000000)
        self.assertEqual(genid64.decode(lo).ts, 1795000000)
        self.assertEqual(hi - lo, 0xFFFFFFFF)
        lo2, _ = genid64.span(1795000000, 1795000001, epoch=1700000000)
        self.assertEqual(genid64.decode(lo2).ts, 95000000)
        with self.assertRaises(ValueError):
            genid64.span(2, 1)

    def test_options(self):
        for kw in ({"prefetch": -1}, {"prefetch": genid64.PREFETCH_MAX + 1},
                   {"io_timeout": 0}, {"connect_timeout": -1}):
            with self.subTest(**kw):
                with self.assertRaises(ValueError):
                    genid64.Client(["127.0.0.1"], **kw)
        with self.assertRaises(ValueError):
            genid64.Client([])
        with self.assertRaises(ValueError):
            genid64.Client(["127.0.0.1"]).bulk(-1)


class CommandLine(unittest.TestCase):
    def run_cli(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(list(argv))
        return rc, out.getvalue(), err.getvalue()

    def test_decode(self):
        rc, out, _ = self.run_cli("decode", "7709466296767811730",
                                  "0xffffffffffffffff")
        self.assertEqual(rc, 0)
        self.assertEqual(out.splitlines(), [
            "7709466296767811730   2026-11-18T11:06:40Z  zone 3   dc 2  "
            "machine 5  bucket 17  counter 4242",
            "18446744073709551615  2106-02-07T06:28:15Z  zone 31  dc 7  "
            "machine 7  bucket 31  counter 65535"])

    def test_decode_json_epoch(self):
        rc, out, _ = self.run_cli("decode", "--json", "--epoch", "1700000000",
                                  "0")
        self.assertEqual(rc, 0)
        self.assertIn('"time":"2023-11-14T22:13:20Z"', out)
        self.assertIn('"id":"0"', out)

    def test_decode_bad(self):
        rc, out, err = self.run_cli("decode", "12abc", "1")
        self.assertEqual(rc, 65)
        self.assertIn("unexpected character 'a'", err)
        self.assertEqual(len(out.splitlines()), 1)

    def test_get_nobody(self):
        hole = conformance.Server({"fake": ["--mode", "closed-port"]}, None)
        try:
            rc, out, err = self.run_cli("get", hole.address)
        finally:
            hole.stop()
        self.assertEqual(rc, 69)
        self.assertEqual(out, "")
        self.assertIn(hole.address, err)

    def test_get(self):
        srv = conformance.Server({"fake": ["--mode", "normal"]}, None)
        try:
            rc, out, _ = self.run_cli("get", "-n", "300", srv.address)
            rc1, out1, _ = self.run_cli("get", "-D", srv.address)
        finally:
            srv.stop()
        self.assertEqual((rc, rc1), (0, 0))
        ids = [int(x) for x in out.split()]
        self.assertEqual(len(ids), 300)
        self.assertEqual(ids, sorted(set(ids)))
        self.assertIn("machine 1", out1)


if __name__ == "__main__":
    unittest.main()
