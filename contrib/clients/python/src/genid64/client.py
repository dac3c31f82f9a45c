# SPDX-License-Identifier: BSD-2-Clause
"""The blocking genid client."""

from __future__ import annotations

import socket
import threading
from typing import Any, Callable, Dict, List, Optional

from ._common import (DEFAULT_CONNECT_TIMEOUT, DEFAULT_IO_TIMEOUT,
                      PREFETCH_MAX_AGE, Addresses, Prefetch, Settings)
from ._errors import Failure, GenidError, failure
from ._id import Fields, decode, unix_time
from ._protocol import (Closed, Connection, NotServing, ProtocolError,
                        Request, Send)

RECV_SIZE = 65536


class Client:
    """A client of a list of genid servers, with failover.

    It holds one connection at a time, to the first address that answers,
    and moves on to the next address (round robin from the one that
    failed) when a server cannot be reached, does not answer within the
    timeout or closes the connection.  No connection is made before the
    first call.  Timeouts are in seconds.  A Client may be shared by
    threads: calls take turns; for throughput give each thread its own.

        with genid64.Client(["127.0.0.1:3778", "[::1]:3778"]) as c:
            one = c.next()
            many = c.bulk(1000)
    """

    def __init__(self, addresses: Addresses, *,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 io_timeout: float = DEFAULT_IO_TIMEOUT,
                 prefetch: int = 0, epoch: int = 0,
                 prefetch_max_age: float = PREFETCH_MAX_AGE) -> None:
        self._s = Settings(addresses, connect_timeout, io_timeout, prefetch,
                           epoch, prefetch_max_age)
        self._cur = 0
        self._sock: Optional[socket.socket] = None
        self._conn: Optional[Connection] = None
        self._timeout: Optional[float] = None
        self._phase = "connect"
        self._pre = Prefetch(self._s.prefetch_max_age)
        self._lock = threading.Lock()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def epoch(self) -> int:
        return self._s.epoch

    @property
    def server(self) -> Optional[str]:
        """host:port of the server connected to, or None."""
        return self._s.names[self._cur] if self._sock is not None else None

    def next(self) -> int:
        """One ID; raises GenidError when no server answered."""
        with self._lock:
            if self._s.prefetch == 0:
                return self._fetch([], 1, 1, True)[0]
            id_ = self._pre.pop()
            if id_ is not None:
                return id_
            ids = self._fetch([], self._s.prefetch, 1, False)
            self._pre.fill(ids[1:])
            return ids[0]

    def bulk(self, n: int) -> List[int]:
        """n IDs, prefetched ones first.  When every server fails before
        all came, raises GenidError with the IDs got in its ids."""
        if not isinstance(n, int) or n < 0:
            raise ValueError("bulk wants a count >= 0, not %r" % (n,))
        with self._lock:
            ids = self._pre.take(n)
            if len(ids) < n:
                self._fetch(ids, n - len(ids), n - len(ids), False)
            return ids

    def info(self) -> Dict[str, Any]:
        """The INFO of a server (CMD 2) as a dict."""
        with self._lock:
            info: Dict[str, Any] = self._call(
                lambda c: c.info(self._s.io_timeout))
            return info

    def decode(self, id_: int) -> Fields:
        """The fields of an ID."""
        return decode(id_)

    def time(self, id_: int) -> int:
        """The Unix time of an ID under this client's epoch."""
        return unix_time(id_, self._s.epoch)

    def close(self) -> None:
        """Closes the connection; prefetched IDs are dropped.  The client
        may be used again: the next call connects anew."""
        with self._lock:
            self._disconnect()
            self._pre.ids.clear()

    def _fetch(self, dst: List[int], n: int, minimum: int,
               single: bool) -> List[int]:
        """Appends IDs to dst until minimum of n came; a round that
        brought none is followed by one CMD 0, which waits in the server
        for the clock instead of spinning here."""
        base = len(dst)
        while len(dst) - base < minimum:
            before = len(dst)
            try:
                self._call(lambda c: c.round(
                    dst, n - (len(dst) - base), single, self._s.io_timeout))
            except GenidError as e:
                # Enough came before every server failed (a prefetch
                # fill): that is a success.
                if len(dst) - base >= minimum:
                    break
                raise GenidError(e.failures, dst) from None
            single = not single and len(dst) == before
        return dst

    def _call(self, request: Callable[[Connection], Request]) -> Any:
        """Runs a request on the connection, or on a new one, moving round
        the addresses from the one that failed.  Each address is tried
        once; the address of a connection open before the call may come
        round twice (the server may have closed it meanwhile)."""
        failures: List[Failure] = []
        n = len(self._s.addrs)
        for _ in range(n + (self._sock is not None)):
            name = self._s.names[self._cur]
            try:
                if self._sock is None:
                    self._connect()
                assert self._conn is not None
                return self._drive(request(self._conn))
            except (OSError, ProtocolError, Closed, NotServing) as e:
                failures.append(failure(name, self._phase, e))
                self._disconnect()
                self._cur = (self._cur + 1) % n
        raise GenidError(failures)

    def _connect(self) -> None:
        self._phase = "connect"
        sock = socket.create_connection(self._s.addrs[self._cur],
                                        timeout=self._s.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._timeout = self._s.connect_timeout
        self._conn = Connection(self._s.names[self._cur])

    def _disconnect(self) -> None:
        # Replies not read yet are dropped with the connection: the server
        # never issues those IDs again, so they are gaps, not duplicates.
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._conn = None

    def _settimeout(self, timeout: float) -> None:
        if timeout != self._timeout:
            assert self._sock is not None
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def _drive(self, req: Request) -> Any:
        sock = self._sock
        assert sock is not None
        try:
            step = next(req)
            while True:
                if isinstance(step, Send):
                    # Requests are at most 64 bytes: they go to the socket
                    # buffer at once, under the timeout of the last read
                    # (at least io_timeout).
                    self._phase = "write"
                    sock.sendall(step.data)
                    step = next(req)
                else:
                    self._phase = "read"
                    self._settimeout(step.timeout)
                    step = req.send(sock.recv(RECV_SIZE))
        except StopIteration as stop:
            return stop.value
