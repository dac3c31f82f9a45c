# SPDX-License-Identifier: BSD-2-Clause
"""The wire protocol of genid (genid(7)), without I/O.

Requests are written as generators: they yield Send(bytes) and
Recv(timeout) steps, and the driver (the blocking client or the asyncio
one) does the I/O and sends back what it read, b"" at end of file.  One
implementation of the protocol serves both clients.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Dict, Generator, List, Union

CHUNK = 255  # the most IDs one CMD 1 frame asks for
WINDOW = 32  # CMD 1 frames written before their replies are read
# A CMD 0 waits in the server up to a second when its bucket is used up:
# its reply may take this much longer than the I/O timeout.
WAIT_S = 1.0

_UNPACK = [struct.Struct(">%dQ" % m) for m in range(CHUNK + 1)]


@dataclass
class Send:
    data: bytes


@dataclass
class Recv:
    timeout: float


Step = Union[Send, Recv]
# A request: the steps it takes, and what it gives at the end.
Request = Generator[Step, bytes, Any]
Steps = Generator[Step, bytes, None]


class ProtocolError(Exception):
    """The server broke the protocol."""


class Closed(Exception):
    """The server closed the connection."""


class NotServing(Exception):
    """The server's INFO says it cannot issue IDs now (its state)."""


class Connection:
    """What the protocol keeps about one connection: unread bytes, and the
    last ID read on it (IDs strictly increase on a connection)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.buf = bytearray()
        self.pos = 0
        self.last = -1
        self.answered = False
        # Its INFO said "serving" (or named no state): IDs may be asked.
        self.vetted = False

    def feed(self, data: bytes) -> None:
        if not data:
            raise Closed(
                "connection closed by the server%s"
                % ("" if self.answered else
                   " (allow list or connection limit?)"))
        self.answered = True
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def avail(self) -> int:
        return len(self.buf) - self.pos

    def take_ids(self, dst: List[int], m: int, timeout: float) -> Steps:
        """Reads m IDs into dst, each as soon as it is whole, so that the
        IDs read before a connection breaks are kept.  An ID not above the
        one before it is refused, never handed out."""
        while m > 0:
            k = min(m, self.avail() // 8)
            if k == 0:
                self.feed((yield Recv(timeout)))
                continue
            ids = _UNPACK[k].unpack_from(self.buf, self.pos) if k <= CHUNK \
                else struct.unpack_from(">%dQ" % k, self.buf, self.pos)
            prev = self.last
            for i, id_ in enumerate(ids):
                if id_ <= prev:
                    dst.extend(ids[:i])
                    self.pos += 8 * i
                    raise ProtocolError(
                        "ID %d is not above the one before it, %d"
                        % (id_, prev))
                prev = id_
            dst.extend(ids)
            self.last = prev
            self.pos += 8 * k
            m -= k

    def round(self, dst: List[int], n: int, single: bool,
              timeout: float) -> Steps:
        """One round: one CMD 0, or up to WINDOW CMD 1 frames for the n
        IDs still missing, and their replies.  A short reply (the bucket
        is used up for this second) is no error: the next round asks for
        the rest.  The first round of a connection asks for INFO first:
        a server that is not serving counts as down (CONTRACT.md 1)."""
        if not self.vetted:
            yield from self.vet(timeout)
        if single:
            yield Send(b"\x00\x00")
            yield from self.take_ids(dst, 1, timeout + WAIT_S)
            return
        counts: List[int] = []
        asked = 0
        while len(counts) < WINDOW and asked < n:
            counts.append(min(n - asked, CHUNK))
            asked += counts[-1]
        yield Send(b"".join(b"\x01" + bytes((c,)) for c in counts))
        for c in counts:
            while self.avail() < 1:
                self.feed((yield Recv(timeout)))
            m = self.buf[self.pos]
            self.pos += 1
            if m > c:
                raise ProtocolError("%d IDs in reply to a request for %d"
                                    % (m, c))
            yield from self.take_ids(dst, m, timeout)

    def vet(self, timeout: float) -> Steps:
        """Raises NotServing unless the server's INFO says "serving" (a
        server older than the state key is taken as serving)."""
        info = yield from self.info(timeout)
        state = info.get("state", "serving")
        if state != "serving":
            raise NotServing(str(state)[:64])
        self.vetted = True

    def info(self,
             timeout: float) -> Generator[Step, bytes, Dict[str, Any]]:
        """CMD 2: the server's INFO JSON as a dict."""
        yield Send(b"\x02\x00")
        while self.avail() < 2:
            self.feed((yield Recv(timeout)))
        (length,) = struct.unpack_from(">H", self.buf, self.pos)
        self.pos += 2
        while self.avail() < length:
            self.feed((yield Recv(timeout)))
        text = bytes(self.buf[self.pos:self.pos + length])
        self.pos += length
        try:
            info = json.loads(text.decode("utf-8"))
        except ValueError as e:
            raise ProtocolError("bad INFO reply: %s" % e) from e
        if not isinstance(info, dict):
            raise ProtocolError("bad INFO reply: not a JSON object")
        return info
