#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""fake_server.py - a scripted fake genid for the client conformance suite.

    python3 tests/clients/fake_server.py --mode cut-id [--then normal]
        [--machine 1] [--ts 1795000000] [--whole 100] [--short 0,7]
        [--lifetime 120] [--verbose]

Listens on an ephemeral port of 127.0.0.1, prints that port alone on the
first line of stdout (then nothing more on stdout), and serves until it
is killed (SIGTERM or SIGKILL) or --lifetime seconds have passed.  Python
3 standard library only.  See tests/clients/README.md.

The IDs it hands out are first + k, k = 0, 1, 2, ... over all connections
of the process, where first = ts << 32 | machine << 21 (zone, dc and
bucket 0): a cut ID uses up its k too.  Modes (--mode is the behaviour
of the first connection, --then the one of every later connection):

  normal       the protocol of genid(7): CMD 0, CMD 1, CMD 2 (INFO), any
               other command closes the connection
  cut-id       the reply to the first request is cut in the middle of an
               ID: CMD 1 n gets the count n, min(n - 1, --whole) whole IDs
               and 3 bytes of the next; CMD 0 gets 5 bytes of its ID; then
               the connection is closed
  short        CMD 1 replies carry fewer IDs than asked: the i-th CMD 1
               reply of the connection has at most --short[i] IDs (0 for
               an empty reply), later ones are whole; CMD 0 as normal
  stale        the first request is answered, then the connection is
               closed (a server's idle timeout or restart between calls)
  repeat       CMD 0 answers the ID of the previous CMD 0 again from the
               second on; CMD 1 n repeats the first ID of its reply as the
               last one: a client must not hand out a repeated ID
  too-many     CMD 1 n (n < 255) gets a count of n + 1 and n + 1 IDs
  silent       accepts, reads, never answers
  close        accepts and closes at once (genid's allow list or its
               connection limit)
  closed-port  nothing listens on the port: connections are refused (the
               whole process; --then is ignored)
  blackhole    the listen queue is kept full: connections are never set
               up and time out (the whole process; --then is ignored)
  not-serving  INFO says "state": "clock-behind" (a node whose buckets
               wait for the clock); ID requests are never answered

INFO (CMD 2) is answered whole in every mode that answers at all, and is
not the request a mode acts on: clients ask for it on a new connection
before the first ID (CONTRACT.md).

--then defaults to the mode itself for silent and close, and to normal
for the others.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

MODES = ("normal", "cut-id", "short", "stale", "repeat", "too-many",
         "silent", "close", "closed-port", "blackhole", "not-serving")
WHOLE_PROCESS = ("closed-port", "blackhole")


class Ids:
    """The fake's ID sequence, first + k, shared by its connections."""

    def __init__(self, first):
        self.first = first
        self.k = 0
        self.lock = threading.Lock()

    def take(self, n):
        with self.lock:
            k, self.k = self.k, self.k + n
        return [self.first + k + i for i in range(n)]


class Conn:
    """One accepted connection played by one mode."""

    def __init__(self, server, sock, number, mode):
        self.server = server
        self.sock = sock
        self.number = number
        self.mode = mode
        self.ids = server.ids
        self.cmd1_replies = 0
        self.last_single = None
        self.buf = b""

    def log(self, msg):
        self.server.log("conn %d (%s): %s" % (self.number, self.mode, msg))

    def run(self):
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.mode == "close":
                self.log("closed at once")
                return
            self.serve()
        except OSError as e:
            self.log("ended: %s" % e)
        finally:
            self.sock.close()

    def frames(self):
        """Yields the 2-byte request frames until the client closes."""
        while True:
            while len(self.buf) < 2:
                data = self.sock.recv(4096)
                if not data:
                    return
                self.buf += data
            frame, self.buf = self.buf[:2], self.buf[2:]
            yield frame[0], frame[1]

    def serve(self):
        for cmd, count in self.frames():
            if self.mode == "silent" or (self.mode == "not-serving"
                                         and cmd != 2):
                continue
            out, close = self.reply(cmd, count)
            if out:
                self.sock.sendall(out)
            if close:
                self.log("closing after request %02x %02x" % (cmd, count))
                self.finish()
                return

    def finish(self):
        """Ends the sending side and drains the socket: closing with
        requests unread would reset the connection and could drop the
        bytes just sent before the client reads them."""
        self.sock.shutdown(socket.SHUT_WR)
        self.sock.settimeout(10)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def reply(self, cmd, count):
        """(bytes to send, close afterwards) for one request."""
        mode = self.mode
        if cmd == 0:
            if mode == "cut-id":
                return pack(self.ids.take(1))[:5], True
            if mode == "repeat" and self.last_single is not None:
                self.log("CMD 0: repeats %d" % self.last_single)
                return pack([self.last_single]), False
            (one,) = self.ids.take(1)
            self.last_single = one
            return pack([one]), mode == "stale"
        if cmd == 1:
            self.cmd1_replies += 1
            if mode == "cut-id":
                whole = min(max(count - 1, 0), self.server.whole)
                cut = count > 0
                ids = self.ids.take(whole + cut)
                self.log("CMD 1 %d: %d IDs and 3 bytes" % (count, whole))
                return bytes((count,)) + pack(ids)[:8 * whole + 3 * cut], True
            if mode == "too-many" and count < 255:
                self.log("CMD 1 %d: %d IDs" % (count, count + 1))
                return bytes((count + 1,)) + pack(self.ids.take(count + 1)), \
                    False
            m = count
            if mode == "short" and self.cmd1_replies <= len(self.server.short):
                m = min(count, self.server.short[self.cmd1_replies - 1])
                self.log("CMD 1 %d: %d IDs" % (count, m))
            ids = self.ids.take(m)
            if mode == "repeat" and m > 1:
                ids[-1] = ids[0]
                self.log("CMD 1 %d: the last ID repeats the first" % count)
            return bytes((m,)) + pack(ids), mode == "stale"
        if cmd == 2:
            info = self.server.info()
            if mode == "not-serving":
                info["state"] = "clock-behind"
                info["lead_s"] = 3600
            text = json.dumps(info).encode()
            return struct.pack(">H", len(text)) + text, False
        self.log("unknown command %d: closing" % cmd)
        return b"", True


def pack(ids):
    return struct.pack(">%dQ" % len(ids), *ids)


class Server:
    def __init__(self, args):
        self.mode = args.mode
        self.then = args.then or (args.mode if args.mode in ("silent", "close",
                                                    "not-serving")
                                  else "normal")
        self.machine = args.machine
        self.ids = Ids(args.ts << 32 | args.machine << 21)
        self.whole = args.whole
        self.short = args.short
        self.verbose = args.verbose
        self.started = time.time()
        self.conns = 0
        self.keep = []  # sockets that must stay open for the mode

    def log(self, msg):
        if self.verbose:
            print("fake_server: " + msg, file=sys.stderr, flush=True)

    def info(self):
        now = int(time.time())
        return {"version": "fake", "zone": 0, "dc": 0,
                "machine": self.machine, "epoch": 0, "buckets": 32,
                "workers": 1, "pid": os.getpid(),
                "uptime_s": now - int(self.started), "now": now,
                "checkpoint": now + 6, "bucket": 0, "state": "serving",
                "lead_s": 0}

    def listen(self):
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", 0))
        port = lsock.getsockname()[1]
        if self.mode == "closed-port":
            # Bound and never listening: the port stays ours, and a
            # connection to it is refused.
            self.keep.append(lsock)
            return None, port
        if self.mode == "blackhole":
            # A listen queue of one, filled by our own connection and
            # never accepted: the kernel drops further SYNs.
            lsock.listen(0)
            filler = socket.create_connection(("127.0.0.1", port), timeout=5)
            self.keep += [lsock, filler]
            return None, port
        lsock.listen(128)
        return lsock, port

    def accept_loop(self, lsock):
        while True:
            sock, _ = lsock.accept()
            self.conns += 1
            mode = self.mode if self.conns == 1 else self.then
            conn = Conn(self, sock, self.conns, mode)
            threading.Thread(target=conn.run, daemon=True).start()


def short_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "--short wants counts separated by commas, like 0,7")
    if any(not 0 <= v <= 255 for v in values):
        raise argparse.ArgumentTypeError("--short: counts are 0..255")
    return values


def main():
    p = argparse.ArgumentParser(
        description="A scripted fake genid on an ephemeral loopback port.")
    p.add_argument("--mode", choices=MODES, default="normal")
    p.add_argument("--then", choices=[m for m in MODES
                                      if m not in WHOLE_PROCESS])
    p.add_argument("--machine", type=int, default=1, choices=range(8),
                   metavar="0..7", help="machine field of the IDs (1)")
    p.add_argument("--ts", type=int, default=1795000000,
                   help="timestamp field of the IDs (1795000000)")
    p.add_argument("--whole", type=int, default=100,
                   help="cut-id: whole IDs before the cut one (100)")
    p.add_argument("--short", type=short_list, default=[0, 7],
                   help="short: the most IDs of the first CMD 1 replies (0,7)")
    p.add_argument("--lifetime", type=float, default=120,
                   help="seconds before the fake exits by itself (120)")
    p.add_argument("--verbose", action="store_true",
                   help="log every scripted event on stderr")
    args = p.parse_args()
    if not 0 <= args.ts <= 0xFFFFFFFF:
        p.error("--ts is 0..4294967295")

    server = Server(args)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    # A safety net only: whoever started the fake stops it when done.
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    lsock, port = server.listen()
    print(port, flush=True)
    server.log("%s then %s on 127.0.0.1:%d, first ID %d"
               % (server.mode, server.then, port, server.ids.first))
    if lsock is None:
        while True:
            time.sleep(3600)
    server.accept_loop(lsock)


if __name__ == "__main__":
    main()
