#!/usr/bin/env python3
"""genid client: Python 3, standard library only.

    client = GenidClient(["10.0.0.11:3778", "10.0.0.12:3778"])
    one = client.get_id()
    many = client.get_ids(1000)
    print(client.info(), decode(one))

The client holds one connection at a time.  When an address cannot be
reached or a connection breaks, it moves on to the next address and sends
the request again there, going round the list at most once per request.
IDs on one connection strictly increase (the server pins a connection to
one bucket); across a failover they are still unique, but ordered against
the earlier ones only by their timestamps.

Protocol (genid(8)): requests are 2 bytes [CMD, COUNT], integers big-endian.
CMD 0: one ID (8 bytes).  CMD 1, COUNT n (0..255): a byte m, then m IDs;
m < n when the bucket is exhausted for now.  CMD 2: a 2-byte length, then
JSON about the node.
"""

import json
import socket
import struct
import sys
import time

DEFAULT_PORT = 3778
CHUNK = 255  # the most IDs one CMD 1 request can ask for
PIPELINE = 64  # CMD 1 requests sent before reading their replies

TS_SHIFT = 32
ZONE_SHIFT = 27
DC_SHIFT = 24
MACHINE_SHIFT = 21
BUCKET_SHIFT = 16


class GenidError(Exception):
    """No address answered, or a server sent something unexpected."""


def parse_address(addr, default_port=DEFAULT_PORT):
    """Returns (host, port) for "host:port", "host", "[v6]:port" or a pair."""
    if isinstance(addr, tuple):
        return addr[0], int(addr[1])
    if addr.startswith("["):
        host, sep, rest = addr[1:].partition("]")
        if not sep:
            raise ValueError("bad address %r: no closing ]" % addr)
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise ValueError("bad address %r" % addr)
        return host, int(rest[1:])
    if addr.count(":") == 1:
        host, port = addr.split(":")
        return host, int(port)
    return addr, default_port


def decode(id_, epoch=0):
    """Splits an ID into its fields; "unix" is its Unix time in seconds."""
    ts = id_ >> TS_SHIFT
    unix = ts + epoch
    return {
        "timestamp": ts,
        "unix": unix,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix)),
        "zone": (id_ >> ZONE_SHIFT) & 0x1F,
        "dc": (id_ >> DC_SHIFT) & 0x7,
        "machine": (id_ >> MACHINE_SHIFT) & 0x7,
        "bucket": (id_ >> BUCKET_SHIFT) & 0x1F,
        "counter": id_ & 0xFFFF,
    }


def encode(unix, zone=0, dc=0, machine=0, bucket=0, counter=0, epoch=0):
    """Builds an ID from its fields (e.g. bounds for WHERE id BETWEEN)."""
    ts = unix - epoch
    if not 0 <= ts <= 0xFFFFFFFF:
        raise ValueError("time %d is outside the epoch's range" % unix)
    for name, value, top in (("zone", zone, 31), ("dc", dc, 7),
                             ("machine", machine, 7), ("bucket", bucket, 31),
                             ("counter", counter, 0xFFFF)):
        if not 0 <= value <= top:
            raise ValueError("%s %d is out of range 0..%d" % (name, value, top))
    return (ts << TS_SHIFT | zone << ZONE_SHIFT | dc << DC_SHIFT
            | machine << MACHINE_SHIFT | bucket << BUCKET_SHIFT | counter)


class GenidClient:
    """A connection to one of several genid nodes, with failover."""

    def __init__(self, addresses, connect_timeout=1.0, read_timeout=2.0):
        if isinstance(addresses, (str, tuple)):
            addresses = [addresses]
        self.addresses = [parse_address(a) for a in addresses]
        if not self.addresses:
            raise ValueError("no address")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.sock = None
        self.current = 0  # index of the address tried first
        self.connected_to = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes the connection; the next request opens a new one."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.connected_to = None

    def get_id(self):
        """One ID (CMD 0)."""
        return self._call(self._get_id)

    def get_ids(self, n):
        """n IDs (CMD 1 in chunks of 255), increasing on one connection."""
        ids = []
        stalled_since = None
        while len(ids) < n:
            got = self._call(self._get_ids, n - len(ids))
            ids.extend(got)
            if got:
                stalled_since = None
                continue
            # The bucket is exhausted until the clock moves on: wait a bit
            # rather than spin, but not for ever.
            if stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > max(self.read_timeout, 2):
                raise GenidError("%s:%d gives no IDs" % self.connected_to)
            time.sleep(0.01)
        return ids

    def info(self):
        """The server's INFO (CMD 2) as a dict."""
        return self._call(self._info)

    def _call(self, request, *args):
        # An open connection may have been closed by the server meanwhile
        # (idle_timeout_s, a restart): reconnect to its address once, then
        # try each other address once.
        errors = []
        stale = self.sock is not None
        for _ in range(len(self.addresses) + stale):
            try:
                if self.sock is None:
                    self._connect()
                return request(*args)
            except (OSError, GenidError) as e:
                where = self.connected_to or self.addresses[self.current]
                errors.append("%s:%d: %s" % (where[0], where[1], e))
                self.close()
                if stale:
                    stale = False
                else:
                    self.current = (self.current + 1) % len(self.addresses)
        raise GenidError("no genid server answered: " + "; ".join(errors))

    def _connect(self):
        addr = self.addresses[self.current]
        sock = socket.create_connection(addr, timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout)
        self.sock = sock
        self.connected_to = addr

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise GenidError("connection closed by the server")
            buf += chunk
        return bytes(buf)

    def _get_id(self):
        self.sock.sendall(b"\x00\x00")
        return struct.unpack(">Q", self._recv(8))[0]

    def _get_ids(self, want):
        # Several CMD 1 requests go out at once; a short reply (the bucket
        # is exhausted) leaves the rest to the caller's next round.
        counts = []
        while want > 0 and len(counts) < PIPELINE:
            counts.append(min(want, CHUNK))
            want -= counts[-1]
        self.sock.sendall(b"".join(struct.pack("BB", 1, c) for c in counts))
        ids = []
        for asked in counts:
            m = self._recv(1)[0]
            if m > asked:
                raise GenidError("asked for %d IDs, got %d" % (asked, m))
            if m:
                ids.extend(struct.unpack(">%dQ" % m, self._recv(8 * m)))
        return ids

    def _info(self):
        self.sock.sendall(b"\x02\x00")
        (length,) = struct.unpack(">H", self._recv(2))
        try:
            return json.loads(self._recv(length).decode("utf-8"))
        except ValueError as e:
            raise GenidError("bad INFO reply: %s" % e) from e


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
