# SPDX-License-Identifier: BSD-2-Clause
"""
seed_client.py - the Python client of the original project's README, as
users run it today: CMD 0 and CMD 1 with bare recv calls (no loop for the
single ID).  Unchanged on purpose: the tests check genid against the
client people have, not a better one.
"""

import socket
import struct


class IDGeneratorClient:
    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.connect((self.host, self.port))

    def get_id(self):
        # CMD=0 indicates to get a single ID
        self.sock.sendall(struct.pack('BB', 0, 0))
        data = self.sock.recv(8)
        return struct.unpack('>Q', data)[0]

    def get_ids(self, count):
        # CMD=1 indicates to get multiple IDs, Count indicates the number
        # of IDs to obtain
        self.sock.sendall(struct.pack('BB', 1, count))
        head = self.sock.recv(1)
        num = struct.unpack(">B", head)[0]

        data = b''
        target_len = 8 * num
        while True:
            data += self.sock.recv(target_len)
            if len(data) >= target_len:
                ids = struct.unpack('>' + 'Q' * num, data)
                return ids

    def close(self):
        self.sock.close()
