# SPDX-License-Identifier: BSD-2-Clause
"""The asyncio genid client: the blocking client's behaviour with
coroutines."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Callable, Dict, List, Optional

from ._common import (DEFAULT_CONNECT_TIMEOUT, DEFAULT_IO_TIMEOUT,
                      PREFETCH_MAX_AGE, Addresses, Prefetch, Settings)
from ._errors import Failure, GenidError, failure
from ._id import Fields, decode, unix_time
from ._protocol import (Closed, Connection, NotServing, ProtocolError,
                        Request, Send)

RECV_SIZE = 65536


if hasattr(asyncio, "timeout"):
    async def _within(aw: Any, timeout: float) -> Any:
        # asyncio.timeout (3.11) makes no task per call, wait_for does.
        async with asyncio.timeout(timeout):
            return await aw
else:  # pragma: no cover - Python 3.9, 3.10
    async def _within(aw: Any, timeout: float) -> Any:
        return await asyncio.wait_for(aw, timeout)


class AsyncClient:
    """An asyncio client of a list of genid servers, with failover.

    Behaves as genid64.Client.  Calls from several tasks take turns on the
    one connection (an asyncio.Lock); for throughput give each task its
    own client.

        async with genid64.AsyncClient(["127.0.0.1:3778"]) as c:
            one = await c.next()
    """

    def __init__(self, addresses: Addresses, *,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 io_timeout: float = DEFAULT_IO_TIMEOUT,
                 prefetch: int = 0, epoch: int = 0,
                 prefetch_max_age: float = PREFETCH_MAX_AGE) -> None:
        self._s = Settings(addresses, connect_timeout, io_timeout, prefetch,
                           epoch, prefetch_max_age)
        self._cur = 0
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._conn: Optional[Connection] = None
        self._phase = "connect"
        self._pre = Prefetch(self._s.prefetch_max_age)
        self._lock: Optional[asyncio.Lock] = None

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def epoch(self) -> int:
        return self._s.epoch

    @property
    def server(self) -> Optional[str]:
        """host:port of the server connected to, or None."""
        return self._s.names[self._cur] if self._writer is not None else None

    def _turn(self) -> asyncio.Lock:
        # Made on first use, inside the running loop.
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def next(self) -> int:
        """One ID; raises GenidError when no server answered."""
        async with self._turn():
            if self._s.prefetch == 0:
                return (await self._fetch([], 1, 1, True))[0]
            id_ = self._pre.pop()
            if id_ is not None:
                return id_
            ids = await self._fetch([], self._s.prefetch, 1, False)
            self._pre.fill(ids[1:])
            return ids[0]

    async def bulk(self, n: int) -> List[int]:
        """n IDs, prefetched ones first.  When every server fails before
        all came, raises GenidError with the IDs got in its ids."""
        if not isinstance(n, int) or n < 0:
            raise ValueError("bulk wants a count >= 0, not %r" % (n,))
        async with self._turn():
            ids = self._pre.take(n)
            if len(ids) < n:
                await self._fetch(ids, n - len(ids), n - len(ids), False)
            return ids

    async def info(self) -> Dict[str, Any]:
        """The INFO of a server (CMD 2) as a dict."""
        async with self._turn():
            info: Dict[str, Any] = await self._call(
                lambda c: c.info(self._s.io_timeout))
            return info

    def decode(self, id_: int) -> Fields:
        return decode(id_)

    def time(self, id_: int) -> int:
        """The Unix time of an ID under this client's epoch."""
        return unix_time(id_, self._s.epoch)

    async def close(self) -> None:
        """Closes the connection; prefetched IDs are dropped."""
        async with self._turn():
            await self._disconnect()
            self._pre.ids.clear()

    async def _fetch(self, dst: List[int], n: int, minimum: int,
                     single: bool) -> List[int]:
        base = len(dst)
        while len(dst) - base < minimum:
            before = len(dst)
            try:
                await self._call(lambda c: c.round(
                    dst, n - (len(dst) - base), single, self._s.io_timeout))
            except GenidError as e:
                # Enough came before every server failed (a prefetch
                # fill): that is a success.
                if len(dst) - base >= minimum:
                    break
                raise GenidError(e.failures, dst) from None
            single = not single and len(dst) == before
        return dst

    async def _call(self, request: Callable[[Connection], Request]) -> Any:
        failures: List[Failure] = []
        n = len(self._s.addrs)
        for _ in range(n + (self._writer is not None)):
            name = self._s.names[self._cur]
            try:
                if self._writer is None:
                    await self._connect()
                assert self._conn is not None
                return await self._drive(request(self._conn))
            except (OSError, asyncio.TimeoutError, ProtocolError,
                    Closed, NotServing) as e:
                failures.append(failure(name, self._phase, e))
                await self._disconnect()
                self._cur = (self._cur + 1) % n
        raise GenidError(failures)

    async def _connect(self) -> None:
        self._phase = "connect"
        host, port = self._s.addrs[self._cur]
        reader, writer = await _within(asyncio.open_connection(host, port),
                                       self._s.connect_timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self._writer = reader, writer
        self._conn = Connection(self._s.names[self._cur])

    async def _disconnect(self) -> None:
        writer = self._writer
        self._reader = self._writer = None
        self._conn = None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, asyncio.CancelledError):
                pass

    async def _drive(self, req: Request) -> Any:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        try:
            step = next(req)
            while True:
                if isinstance(step, Send):
                    self._phase = "write"
                    writer.write(step.data)
                    # Requests are small: wait only when they queue up.
                    if writer.transport.get_write_buffer_size() > 0:
                        await _within(writer.drain(), self._s.io_timeout)
                    step = next(req)
                else:
                    self._phase = "read"
                    data = await _within(reader.read(RECV_SIZE),
                                         step.timeout)
                    step = req.send(data)
        except StopIteration as stop:
            return stop.value
