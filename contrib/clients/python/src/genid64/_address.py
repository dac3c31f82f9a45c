# SPDX-License-Identifier: BSD-2-Clause
"""Server addresses: "host", "host:port", "[v6]:port", "[v6]" or a bare
IPv6 address; the port is 3778 when none is given."""

from __future__ import annotations

DEFAULT_PORT = 3778


def parse_address(text: str) -> tuple[str, int]:
    """(host, port) of an address; ValueError says what is wrong."""
    if not isinstance(text, str) or not text:
        raise ValueError("empty address")
    host, port = text, None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError("address %r: no closing ]" % text)
        if rest:
            if not rest.startswith(":"):
                raise ValueError("address %r: junk after ]" % text)
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise ValueError("address %r: no host" % text)
    if port is None:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("address %r: port %r is not 1..65535" % (text, port))
    return host, int(port)


def format_address(host: str, port: int) -> str:
    """host:port, with brackets round an IPv6 host."""
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
