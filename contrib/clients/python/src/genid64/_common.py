# SPDX-License-Identifier: BSD-2-Clause
"""What the blocking and the asyncio client share: options, the address
list and the prefetch buffer."""

from __future__ import annotations

import time
from collections import deque
from typing import Deque, List, Optional, Sequence, Tuple, Union

from ._address import format_address, parse_address

DEFAULT_CONNECT_TIMEOUT = 1.0
DEFAULT_IO_TIMEOUT = 1.0
PREFETCH_MAX = 65536
PREFETCH_MAX_AGE = 1.0

Addresses = Union[str, Sequence[str]]


class Settings:
    """Checked client options."""

    def __init__(self, addresses: Addresses, connect_timeout: float,
                 io_timeout: float, prefetch: int, epoch: int,
                 prefetch_max_age: float) -> None:
        if isinstance(addresses, str):
            addresses = [addresses]
        self.addrs: List[Tuple[str, int]] = [parse_address(a)
                                             for a in addresses]
        if not self.addrs:
            raise ValueError("no server address")
        self.names = [format_address(h, p) for h, p in self.addrs]
        for name, v in (("connect_timeout", connect_timeout),
                        ("io_timeout", io_timeout),
                        ("prefetch_max_age", prefetch_max_age)):
            if not v > 0:
                raise ValueError("%s must be above 0 seconds, not %r"
                                 % (name, v))
        if not isinstance(prefetch, int) or not 0 <= prefetch <= PREFETCH_MAX:
            raise ValueError("prefetch must be 0..%d, not %r"
                             % (PREFETCH_MAX, prefetch))
        self.connect_timeout = float(connect_timeout)
        self.io_timeout = float(io_timeout)
        self.prefetch = prefetch
        self.epoch = int(epoch)
        self.prefetch_max_age = float(prefetch_max_age)


class Prefetch:
    """IDs fetched ahead, handed out in order while they are fresh."""

    def __init__(self, max_age: float) -> None:
        self.ids: Deque[int] = deque()
        self.filled = 0.0
        self.max_age = max_age

    def fresh(self) -> bool:
        """Whether IDs are there and young enough; drops stale ones."""
        if self.ids and time.monotonic() - self.filled > self.max_age:
            self.ids.clear()
        return bool(self.ids)

    def fill(self, ids: List[int]) -> None:
        self.ids.extend(ids)
        self.filled = time.monotonic()

    def take(self, n: int) -> List[int]:
        if not self.fresh():
            return []
        if n >= len(self.ids):
            out = list(self.ids)
            self.ids.clear()
            return out
        return [self.ids.popleft() for _ in range(n)]

    def pop(self) -> Optional[int]:
        return self.ids.popleft() if self.fresh() else None
