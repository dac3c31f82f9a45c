# SPDX-License-Identifier: BSD-2-Clause
"""Errors of the genid clients."""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from typing import List, Sequence

from ._protocol import Closed, NotServing, ProtocolError

#: The kinds of failure (contrib/clients/CONTRACT.md).
REFUSED = "refused"
TIMEOUT = "timeout"
CLOSED = "closed"
PROTOCOL = "protocol"
RESOLVE = "resolve"
UNAVAILABLE = "unavailable"
IO = "io"


@dataclass(frozen=True)
class Failure:
    """Why one attempt at one address failed."""

    address: str
    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


class GenidError(Exception):
    """No server answered a request.

    failures lists every attempt of the request in order, kind is the
    kind of the last one, and ids holds the IDs that came before the
    last server failed (a bulk request cut short): they are valid and
    unique, and will never be handed out again.
    """

    def __init__(self, failures: Sequence[Failure],
                 ids: Sequence[int] = ()) -> None:
        self.failures: List[Failure] = list(failures)
        self.ids: List[int] = list(ids)
        self.kind: str = self.failures[-1].kind if self.failures else IO
        text = "; ".join(str(f) for f in self.failures)
        if len(self.failures) > 1:
            text = "no genid server answered: " + text
        if self.ids:
            text += " (after %d IDs)" % len(self.ids)
        super().__init__(text)


def failure(address: str, what: str, exc: BaseException) -> Failure:
    """The Failure of an exception raised while doing what."""
    if isinstance(exc, ProtocolError):
        return Failure(address, PROTOCOL, "read %s: %s" % (address, exc))
    if isinstance(exc, NotServing):
        return Failure(address, UNAVAILABLE,
                       "%s is not serving: its state is %s" % (address, exc))
    if isinstance(exc, Closed):
        return Failure(address, CLOSED, "%s %s: %s" % (what, address, exc))
    if isinstance(exc, socket.gaierror):
        return Failure(address, RESOLVE,
                       "resolve %s: %s" % (address, exc.strerror or exc))
    if isinstance(exc, (socket.timeout, TimeoutError, asyncio.TimeoutError)):
        return Failure(address, TIMEOUT, "%s %s: timed out" % (what, address))
    if isinstance(exc, ConnectionRefusedError):
        return Failure(address, REFUSED,
                       "%s %s: connection refused" % (what, address))
    if isinstance(exc, (ConnectionResetError, BrokenPipeError,
                        ConnectionAbortedError)) or \
            getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE):
        return Failure(address, CLOSED,
                       "%s %s: connection reset by the server" % (what,
                                                                  address))
    if isinstance(exc, OSError):
        return Failure(address, IO, "%s %s: %s" % (what, address,
                                                  exc.strerror or exc))
    raise exc
