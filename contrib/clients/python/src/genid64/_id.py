# SPDX-License-Identifier: BSD-2-Clause
"""The 64-bit genid ID (genid(7)): layout, decode, encode, parse.

Bit 63 first: timestamp 32 bits (seconds since the epoch), zone 5, dc 3,
machine 3, bucket 5, counter 16.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

ID_MAX = 0xFFFF_FFFF_FFFF_FFFF
SIGNED64_MAX = 0x7FFF_FFFF_FFFF_FFFF

# (name, shift, largest value), bit 63 first.
LAYOUT = (
    ("ts", 32, 0xFFFF_FFFF),
    ("zone", 27, 31),
    ("dc", 24, 7),
    ("machine", 21, 7),
    ("bucket", 16, 31),
    ("counter", 0, 0xFFFF),
)


@dataclass(frozen=True)
class Fields:
    """The fields of an ID; ts is seconds since the servers' epoch."""

    ts: int
    zone: int
    dc: int
    machine: int
    bucket: int
    counter: int

    def unix(self, epoch: int = 0) -> int:
        """The Unix time of the timestamp under epoch."""
        return self.ts + epoch

    def time(self, epoch: int = 0) -> _dt.datetime:
        """The timestamp as an aware UTC datetime."""
        return _dt.datetime.fromtimestamp(self.ts + epoch, _dt.timezone.utc)


def decode(id_: int) -> Fields:
    """Splits an ID into its fields; every 64-bit value decodes."""
    if not 0 <= id_ <= ID_MAX:
        raise ValueError("ID %d is not a 64-bit unsigned integer" % id_)
    return Fields(id_ >> 32, (id_ >> 27) & 31, (id_ >> 24) & 7,
                  (id_ >> 21) & 7, (id_ >> 16) & 31, id_ & 0xFFFF)


def encode(fields: Fields | None = None, *, ts: int = 0, zone: int = 0,
           dc: int = 0, machine: int = 0, bucket: int = 0,
           counter: int = 0) -> int:
    """Packs fields (a Fields, or keywords) into an ID.  A field out of
    range raises ValueError naming it."""
    if fields is not None:
        ts, zone, dc, machine = fields.ts, fields.zone, fields.dc, \
            fields.machine
        bucket, counter = fields.bucket, fields.counter
    values = {"ts": ts, "zone": zone, "dc": dc, "machine": machine,
              "bucket": bucket, "counter": counter}
    id_ = 0
    for name, shift, top in LAYOUT:
        v = values[name]
        if not isinstance(v, int) or not 0 <= v <= top:
            raise ValueError("%s %s is out of range 0..%d" % (name, v, top))
        id_ |= v << shift
    return id_


def unix_time(id_: int, epoch: int = 0) -> int:
    """The Unix time of an ID: its timestamp plus the epoch."""
    return (id_ >> 32) + epoch


def id_time(id_: int, epoch: int = 0) -> _dt.datetime:
    """The time of an ID as an aware UTC datetime."""
    return _dt.datetime.fromtimestamp(unix_time(id_, epoch),
                                      _dt.timezone.utc)


def span(start: int, end: int, epoch: int = 0) -> tuple[int, int]:
    """The smallest ID of Unix second start and the largest of second end,
    for WHERE id BETWEEN queries."""
    lo, hi = start - epoch, end - epoch
    if lo > hi:
        raise ValueError("the span ends before it starts")
    return (encode(ts=lo),
            encode(ts=hi, zone=31, dc=7, machine=7, bucket=31,
                   counter=0xFFFF))


_HEX = "0123456789abcdefABCDEF"


def parse_id(text: str) -> int:
    """Parses a decimal or 0x-hex ID, blanks around it allowed.  Raises
    ValueError with the reason, in the words of genidctl decode."""
    s = text.strip(" \t\r\n")
    hexa = s[:2] in ("0x", "0X")
    digits = s[2:] if hexa else s
    kind = "hexadecimal" if hexa else "decimal"
    ok = _HEX if hexa else "0123456789"
    if not digits or digits[0] not in ok:
        raise ValueError("%r: not a %s number" % (text, kind))
    for ch in digits:
        if ch not in ok:
            raise ValueError("%r: unexpected character %r in a %s number"
                             % (text, ch, kind))
    v = int(digits, 16 if hexa else 10)
    if v > ID_MAX:
        raise ValueError("%r: larger than %d" % (text, ID_MAX))
    return v
