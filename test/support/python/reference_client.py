"""Store, retrieve, check and delete chunks the way the reference's Python clients do:
one connection per request, 4-byte big-endian length + msgpack body (use_bin_type=True).

Usage: reference_client.py PORT  -- prints one JSON line of results; exits non-zero on failure.
"""
import hashlib
import json
import socket
import sys

from framing import receive_message, send_message


def sans_version(reply):
    """Our replies carry the chunk's `version` (an extra field the reference ignores); compare without it."""
    if isinstance(reply, dict) and isinstance(reply.get('version'), int):
        return {k: v for k, v in reply.items() if k != 'version'}
    return reply


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
        assert sans_version(stored) == {'status': 'ok', 'chunk_id': chunk_id, 'replicas': 0}, stored
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
