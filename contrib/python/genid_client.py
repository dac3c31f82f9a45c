#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genid_client: the old single-file Python client, kept for its users.

The client is now the package in contrib/clients/python (import genid64:
a blocking and an asyncio client, python3 -m genid64).  This file keeps
the old names working on top of it, without installing anything:

    client = GenidClient(["127.0.0.1:3778", "[::1]:3778"])
    one = client.get_id()
    many = client.get_ids(1000)
    print(client.info(), decode(one))
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "clients", "python", "src"))
import genid64  # noqa: E402

DEFAULT_PORT = genid64.DEFAULT_PORT
GenidError = genid64.GenidError


def parse_address(addr, default_port=DEFAULT_PORT):
    """Returns (host, port) for "host:port", "host", "[v6]:port" or a pair."""
    if isinstance(addr, tuple):
        return addr[0], int(addr[1])
    host, port = genid64.parse_address(addr)
    if addr.startswith("["):
        has_port = "]:" in addr
    else:
        has_port = addr.count(":") == 1
    return host, port if has_port else default_port


def decode(id_, epoch=0):
    """Splits an ID into its fields; "unix" is its Unix time in seconds."""
    f = genid64.decode(id_)
    unix = f.ts + epoch
    return {"timestamp": f.ts, "unix": unix,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix)),
            "zone": f.zone, "dc": f.dc, "machine": f.machine,
            "bucket": f.bucket, "counter": f.counter}


def encode(unix, zone=0, dc=0, machine=0, bucket=0, counter=0, epoch=0):
    """Builds an ID from its fields (e.g. bounds for WHERE id BETWEEN)."""
    return genid64.encode(ts=unix - epoch, zone=zone, dc=dc,
                          machine=machine, bucket=bucket, counter=counter)


class GenidClient:
    """A connection to one of several genid nodes, with failover."""

    def __init__(self, addresses, connect_timeout=1.0, read_timeout=2.0):
        if isinstance(addresses, (str, tuple)):
            addresses = [addresses]
        addresses = [genid64.format_address(*a) if isinstance(a, tuple)
                     else a for a in addresses]
        self._client = genid64.Client(addresses,
                                      connect_timeout=connect_timeout,
                                      io_timeout=read_timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def connected_to(self):
        """(host, port) of the server connected to, or None."""
        server = self._client.server
        return genid64.parse_address(server) if server else None

    def close(self):
        self._client.close()

    def get_id(self):
        """One ID (CMD 0)."""
        return self._client.next()

    def get_ids(self, n):
        """n IDs (CMD 1 in chunks of 255), increasing on one connection."""
        return self._client.bulk(n)

    def info(self):
        """The server's INFO (CMD 2) as a dict."""
        return self._client.info()


def main(argv):
    if len(argv) < 2:
        print("usage: %s HOST:PORT [HOST:PORT ...]" % argv[0], file=sys.stderr)
        return 64
    with GenidClient(argv[1:]) as client:
        try:
            info = client.info()
            print("connected to %s:%d" % client.connected_to)
            print(json.dumps(info, indent=2, sort_keys=True))
            epoch = info.get("epoch", 0)
            for id_ in [client.get_id()] + client.get_ids(4):
                print(id_, decode(id_, epoch))
        except GenidError as e:
            print("genid_client: %s" % e, file=sys.stderr)
            return 69
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
