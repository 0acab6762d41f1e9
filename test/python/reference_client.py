"""Store, retrieve, check and delete chunks the way the reference's Python clients do:
one connection per request, 4-byte big-endian length + msgpack body (use_bin_type=True).

Usage: reference_client.py PORT  -- prints one JSON line of results; exits non-zero on failure.
"""
import hashlib
import json
import socket
import struct
import sys

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


def request(port, obj):
    with socket.create_connection(('127.0.0.1', port), timeout=30) as sock:
        send_message(sock, obj)
        sock.shutdown(socket.SHUT_WR)
        return receive_message(sock)


def main():
    port = int(sys.argv[1])
    results = {}
    for size in (0, 1, 1 << 20, 5 * (1 << 20) + 3):
        data = bytes((i * 7 + size) & 0xFF for i in range(size))
        chunk_id = hashlib.sha256(data).hexdigest()
        stored = request(port, {'command': 'store_chunk', 'chunk_id': chunk_id, 'file_path': '/py/file',
                                'chunk_index': 0, 'data': data, 'client_id': None})
        assert stored == {'status': 'ok', 'chunk_id': chunk_id, 'replicas': 0}, stored
        got = request(port, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
        assert got['status'] == 'ok' and isinstance(got['data'], bytes), got.get('status')
        assert got['data'] == data, 'bytes differ'
        results[str(size)] = 'ok'
    results['check_space'] = request(port, {'command': 'check_space', 'size': 1 << 40})
    results['missing'] = request(port, {'command': 'retrieve_chunk', 'chunk_id': 'f' * 64})
    results['delete'] = request(port, {'command': 'delete_chunk', 'chunk_id': hashlib.sha256(b'').hexdigest()})
    print(json.dumps(results, sort_keys=True))


if __name__ == '__main__':
    main()
