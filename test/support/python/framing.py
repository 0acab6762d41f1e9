"""The reference's framing as its clients use it, written out independently of the server
and of protocol/python/gfs_msgpack.py: a 4-byte big-endian length, then a msgpack body
(use_bin_type=True on the way out, raw=False on the way in)."""
import struct

import msgpack


def send_message(sock, obj):
    body = msgpack.packb(obj, use_bin_type=True)
    sock.sendall(struct.pack('>I', len(body)) + body)


def recv_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        r = sock.recv_into(view[got:], n - got)
        if r == 0:
            return None
        got += r
    return bytes(buf)


def receive_message(sock):
    header = recv_exact(sock, 4)
    if header is None:
        return None
    body = recv_exact(sock, struct.unpack('>I', header)[0])
    return None if body is None else msgpack.unpackb(body, raw=False)
