# SPDX-License-Identifier: BSD-2-Clause
"""genid64: clients of the genid 64-bit unique ID service.

    import genid64

    with genid64.Client(["127.0.0.1:3778"]) as c:
        id_ = c.next()
    print(genid64.decode(id_))

genid64.Client blocks, genid64.AsyncClient is its asyncio twin.  Both
follow the client contract of genid (contrib/clients/CONTRACT.md in the
source): failover along a list of addresses, timeouts, bulk requests,
optional prefetch, and never an ID handed out twice.  Standard library only.
"""

from ._address import DEFAULT_PORT, format_address, parse_address
from ._common import (DEFAULT_CONNECT_TIMEOUT, DEFAULT_IO_TIMEOUT,
                      PREFETCH_MAX, PREFETCH_MAX_AGE)
from ._errors import (CLOSED, IO, PROTOCOL, REFUSED, RESOLVE, TIMEOUT,
                      UNAVAILABLE, Failure, GenidError)
from ._id import (ID_MAX, SIGNED64_MAX, Fields, decode, encode, id_time,
                  parse_id, span, unix_time)
from .aio import AsyncClient
from .client import Client

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Client", "Failure", "Fields", "GenidError",
    "decode", "encode", "id_time", "parse_id", "span", "unix_time",
    "parse_address", "format_address",
    "DEFAULT_PORT", "DEFAULT_CONNECT_TIMEOUT", "DEFAULT_IO_TIMEOUT",
    "PREFETCH_MAX", "PREFETCH_MAX_AGE", "ID_MAX", "SIGNED64_MAX",
    "REFUSED", "TIMEOUT", "CLOSED", "PROTOCOL", "RESOLVE", "IO",
    "UNAVAILABLE",
]
