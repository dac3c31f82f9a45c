#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""libgenid_cases.py - the conformance cases against libgenid, the C client.

    python3 tests/clients/libgenid_cases.py [--genid BUILD/src/genid]
        [--lib BUILD/src/client/.libs/libgenid.so] [CASE...]

Loads the built libgenid through ctypes and runs every case of cases.json
(or the named ones), then the decode table.  Prints one line per case and
ends with "N passed, M failed"; exit 0 when none failed, 77 when there is
no libgenid.  The reference the other clients are held to.
"""

import argparse
import ctypes
import errno
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import conformance  # noqa: E402

KINDS = {errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout",
         errno.ECONNRESET: "closed", errno.EPIPE: "closed",
         errno.EPROTO: "protocol", errno.ENXIO: "resolve",
         errno.EAGAIN: "unavailable"}


class Options(ctypes.Structure):
    _fields_ = [("connect_timeout_ms", ctypes.c_int),
                ("io_timeout_ms", ctypes.c_int),
                ("prefetch", ctypes.c_size_t),
                ("epoch", ctypes.c_int64)]


class Fields(ctypes.Structure):
    _fields_ = [("ts", ctypes.c_uint32), ("zone", ctypes.c_uint),
                ("dc", ctypes.c_uint), ("machine", ctypes.c_uint),
                ("bucket", ctypes.c_uint), ("counter", ctypes.c_uint)]


class Libgenid:
    """The adapter of conformance.py over libgenid."""

    def __init__(self, path):
        lib = ctypes.CDLL(path, use_errno=True)
        lib.genid_open.restype = ctypes.c_void_p
        lib.genid_open.argtypes = [ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.c_size_t, ctypes.POINTER(Options)]
        lib.genid_next.argtypes = [ctypes.c_void_p,
                                   ctypes.POINTER(ctypes.c_uint64)]
        lib.genid_bulk.restype = ctypes.c_ssize_t
        lib.genid_bulk.argtypes = [ctypes.c_void_p,
                                   ctypes.POINTER(ctypes.c_uint64),
                                   ctypes.c_size_t]
        lib.genid_info.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                   ctypes.c_size_t]
        lib.genid_strerror.restype = ctypes.c_char_p
        lib.genid_strerror.argtypes = [ctypes.c_void_p]
        lib.genid_close.argtypes = [ctypes.c_void_p]
        lib.genid_decode.argtypes = [ctypes.c_uint64, ctypes.POINTER(Fields)]
        lib.genid_encode.restype = ctypes.c_uint64
        lib.genid_encode.argtypes = [ctypes.POINTER(Fields)]
        lib.genid_time.restype = ctypes.c_int64
        lib.genid_time.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        self.lib = lib

    def open(self, addresses, options):
        arr = (ctypes.c_char_p * len(addresses))(
            *[a.encode() for a in addresses])
        opt = Options(options.get("connect_timeout_ms", 0),
                      options.get("io_timeout_ms", 0),
                      options.get("prefetch", 0), options.get("epoch", 0))
        c = self.lib.genid_open(arr, len(addresses), ctypes.byref(opt))
        if not c:
            raise OSError(ctypes.get_errno(), "genid_open")
        return c

    def _failure(self, c, ids=()):
        e = ctypes.get_errno()
        msg = self.lib.genid_strerror(c).decode()
        return conformance.ClientFailure(KINDS.get(e, "io"), msg, ids)

    def next(self, c):
        v = ctypes.c_uint64()
        if self.lib.genid_next(c, ctypes.byref(v)) == -1:
            raise self._failure(c)
        return v.value

    def bulk(self, c, n):
        buf = (ctypes.c_uint64 * max(n, 1))()
        got = self.lib.genid_bulk(c, buf, n)
        if got == -1:
            raise self._failure(c)
        if got < n:
            raise self._failure(c, list(buf[:got]))
        return list(buf[:n])

    def info(self, c):
        buf = ctypes.create_string_buffer(65536)
        if self.lib.genid_info(c, buf, len(buf)) == -1:
            raise self._failure(c)
        return json.loads(buf.value.decode())

    def close(self, c):
        self.lib.genid_close(c)

    def decode_problems(self, table):
        problems = []
        for e in table:
            id_ = int(e["id"])
            f = Fields()
            self.lib.genid_decode(id_, ctypes.byref(f))
            got = {k: getattr(f, k) for k, _ in Fields._fields_}
            if got != e["fields"]:
                problems.append("decode %s: %r, want %r"
                                % (e["id"], got, e["fields"]))
            if self.lib.genid_encode(ctypes.byref(f)) != id_:
                problems.append("encode of decode %s differs" % e["id"])
            opt = Options(0, 0, 0, e["epoch"])
            addr = (ctypes.c_char_p * 1)(b"127.0.0.1")
            c = self.lib.genid_open(addr, 1, ctypes.byref(opt))
            if self.lib.genid_time(c, id_) != e["unix"]:
                problems.append("time of %s under epoch %d: %d, want %d"
                                % (e["id"], e["epoch"],
                                   self.lib.genid_time(c, id_), e["unix"]))
            self.lib.genid_close(c)
        return problems


def default_lib(genid):
    if os.environ.get("GENID_BUILDDIR"):
        build = os.environ["GENID_BUILDDIR"]
    elif genid:
        build = os.path.dirname(os.path.dirname(os.path.abspath(genid)))
    else:
        return None
    return os.path.join(build, "src", "client", ".libs", "libgenid.so")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--genid", default=os.environ.get("GENID"))
    p.add_argument("--lib")
    p.add_argument("case", nargs="*")
    args = p.parse_args()
    lib = args.lib or default_lib(args.genid)
    if not lib or not os.path.exists(lib):
        print("SKIP: no libgenid at %r (build genid, or pass --lib)" % lib)
        return conformance.SKIP
    adapter = Libgenid(lib)
    doc = conformance.load()
    passed = failed = 0
    for case in doc["cases"]:
        if args.case and case["name"] not in args.case:
            continue
        try:
            problems = conformance.run_case(case, adapter, args.genid)
        except conformance.Skip as e:
            print("SKIP %s: %s" % (case["name"], e))
            continue
        if problems:
            failed += 1
            print("FAIL %s" % case["name"])
            for pr in problems:
                print("     %s" % pr)
        else:
            passed += 1
            print("ok   %s" % case["name"])
        sys.stdout.flush()
    if not args.case:
        problems = adapter.decode_problems(doc["decode"])
        print("%s decode table" % ("FAIL" if problems else "ok  "))
        for pr in problems:
            print("     %s" % pr)
        failed += bool(problems)
        passed += not problems
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
