#!/usr/bin/python3
"""The reference Python client's flows, played against this project's chunk servers
through protocol/python/gfs_msgpack.py (the one-file switch of the reference).

    reference_flows.py FLOW ADDRESS...

Each flow asserts what the reference client relies on and prints one JSON line of what it
saw, for the calling test to check against the servers' side. Exit status 0 on success.
Started by test/python-flows.test.ts.
"""

import json
import os
import random
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'protocol', 'python'))

from gfs_msgpack import find_free_port, get_chunk_hash, receive_message, send_message  # noqa: E402
from space_rule import charge, largest_fitting  # noqa: E402
from replies import sans_version  # noqa: E402


CONNECT_TIMEOUT_S = 5
IO_TIMEOUT_S = 30


class Chunk:
    """As the reference's Chunk: its id is the sha256 of its bytes."""

    def __init__(self, data, file_path, chunk_index):
        self.data = data
        self.file_path = file_path
        self.chunk_index = chunk_index
        self.chunk_id = get_chunk_hash(data)


class ReferenceClient:
    """The chunk-server half of the reference GFSClient: one connection per request."""

    def __init__(self, client_id='client_1732420713'):
        self.client_id = client_id
        self.errors = []

    def connect(self, address):
        host, port = address.rsplit(':', 1)
        s = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S)
        s.settimeout(IO_TIMEOUT_S)
        return s

    def request(self, address, message):
        with self.connect(address) as s:
            send_message(s, message)
            return receive_message(s)

    def store_chunk_with_fallback(self, chunk, servers):
        """The reference's _store_chunk_with_fallback: the first server that says ok wins;
        insufficient_space, other errors and dead servers move on to the next one."""
        for server in servers:
            try:
                reply = self.request(server, {
                    'command': 'store_chunk',
                    'data': chunk.data,
                    'file_path': chunk.file_path,
                    'chunk_index': chunk.chunk_index,
                    'chunk_id': chunk.chunk_id,
                    'client_id': self.client_id,
                })
            except OSError as err:
                self.errors.append({'server': server, 'error': type(err).__name__})
                continue
            if reply['status'] == 'ok':
                assert reply.chunk_id == chunk.chunk_id, reply
                assert reply.replicas == 0, reply
                return server
            self.errors.append({'server': server, 'message': reply.message, **{k: v for k, v in reply.items() if k not in ('status', 'message')}})
        return None

    def retrieve_from_locations(self, chunk_id, locations):
        """The download loop of the reference: try each location until one returns data."""
        for server in locations:
            try:
                reply = self.request(server, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
            except OSError as err:
                self.errors.append({'server': server, 'error': type(err).__name__})
                continue
            if reply['status'] == 'ok':
                return reply['data']
            self.errors.append({'server': server, 'message': reply.message})
        raise Exception(f'Failed to retrieve chunk {chunk_id}')


def dead_address():
    return f'127.0.0.1:{find_free_port("127.0.0.1")}'


def flow_upload_with_fallback(small, big):
    """upload_file: split into chunks, store each with fallback across servers, then
    download_file: fetch each chunk from its locations, skipping dead and missing ones."""
    client = ReferenceClient()
    dead = dead_address()
    data = random.Random(5).randbytes(1_000_000)
    chunk_size = 200_000
    chunks = [Chunk(data[i:i + chunk_size], '/flows/upload.bin', n)
              for n, i in enumerate(range(0, len(data), chunk_size))]

    placement = {}
    for chunk in chunks:
        server = client.store_chunk_with_fallback(chunk, [dead, small, big])
        assert server is not None, f'no server stored chunk {chunk.chunk_index}'
        placement[chunk.chunk_id] = server
    store_errors = client.errors
    full = [e for e in store_errors if e.get('message') == 'insufficient_space']
    assert full, 'the small server never said insufficient_space'
    assert all(isinstance(e['available_space'], int) and e['available_space'] < chunk_size for e in full), full
    assert all(e['server'] == dead and e['error'] == 'ConnectionRefusedError' for e in store_errors if 'error' in e)
    assert placement[chunks[-1].chunk_id] == big

    client.errors = []
    out = bytearray()
    for chunk in chunks:
        holder = placement[chunk.chunk_id]
        other = big if holder == small else small
        got = client.retrieve_from_locations(chunk.chunk_id, [dead, other, holder])
        assert get_chunk_hash(got) == chunk.chunk_id
        out += got
    assert bytes(out) == data, 'downloaded bytes differ'
    assert all(e.get('message') in (None, 'chunk_not_found') for e in client.errors), client.errors
    return {
        'placement': [placement[c.chunk_id] for c in chunks],
        'chunk_ids': [c.chunk_id for c in chunks],
        'available_space_seen': [e['available_space'] for e in full],
        'download_errors': sorted({e.get('message') or e.get('error') for e in client.errors}),
    }


def flow_rereplicate(source, target):
    """The master's re-replication: retrieve_chunk from a holder, store_chunk with
    replica_servers True to a server without it, under the same chunk_id."""
    client = ReferenceClient()
    chunk = Chunk(random.Random(7).randbytes(300_000), '/flows/replicated.bin', 0)
    assert sans_version(client.request(source, {
        'command': 'store_chunk', 'data': chunk.data, 'file_path': chunk.file_path,
        'chunk_index': 0, 'chunk_id': chunk.chunk_id, 'client_id': None,
    })) == {'status': 'ok', 'chunk_id': chunk.chunk_id, 'replicas': 0}
    assert client.request(target, {'command': 'retrieve_chunk', 'chunk_id': chunk.chunk_id}) == \
        {'status': 'error', 'message': 'chunk_not_found'}

    reply = client.request(source, {'command': 'retrieve_chunk', 'chunk_id': chunk.chunk_id})
    assert reply['status'] == 'ok'
    stored = client.request(target, {
        'command': 'store_chunk',
        'chunk_id': chunk.chunk_id,
        'file_path': chunk.file_path,
        'data': reply['data'],
        'replica_servers': True,
    })
    assert sans_version(stored) == {'status': 'ok', 'chunk_id': chunk.chunk_id}, stored

    copy = client.retrieve_from_locations(chunk.chunk_id, [target])
    assert copy == chunk.data
    return {'chunk_id': chunk.chunk_id, 'size': len(chunk.data)}


def flow_space_and_delete(server):
    """check_space before a store, the store, the space it took, and delete giving it back."""
    c = ReferenceClient()
    probe = c.request(server, {'command': 'check_space', 'size': 2**40})
    assert probe['status'] == 'error' and probe.message == 'insufficient_space', probe
    free = probe.available_space
    # check_space asks whether a chunk of `size` bytes fits: it is charged charge(size).
    fits = largest_fitting(free)
    assert c.request(server, {'command': 'check_space', 'size': fits}) == {'status': 'ok'}
    assert c.request(server, {'command': 'check_space', 'size': fits + 1}).message == 'insufficient_space'

    chunk = Chunk(b'\x42' * 50_000, '/flows/space.bin', 0)
    assert c.request(server, {'command': 'store_chunk', 'chunk_id': chunk.chunk_id, 'data': chunk.data,
                              'file_path': chunk.file_path})['status'] == 'ok'
    after = c.request(server, {'command': 'check_space', 'size': fits})
    assert after == {'status': 'error', 'message': 'insufficient_space', 'available_space': free - charge(50_000)}, after
    assert c.request(server, {'command': 'check_space', 'size': largest_fitting(free - charge(50_000))}) == {'status': 'ok'}

    assert c.request(server, {'command': 'delete_chunk', 'chunk_id': chunk.chunk_id}) == {'status': 'ok'}
    assert c.request(server, {'command': 'delete_chunk', 'chunk_id': chunk.chunk_id}) == {'status': 'ok'}
    assert c.request(server, {'command': 'retrieve_chunk', 'chunk_id': chunk.chunk_id}) == \
        {'status': 'error', 'message': 'chunk_not_found'}
    assert c.request(server, {'command': 'check_space', 'size': fits}) == {'status': 'ok'}
    return {'available_space': free}


def raw_frame(body):
    return len(body).to_bytes(4, 'big') + body


def flow_connection(server):
    """Connection rules of PROTOCOL.md section 4, seen from a Python client."""
    c = ReferenceClient()
    seen = {}

    # Many requests on one connection, pipelined, answered in order.
    with c.connect(server) as s:
        free = c.request(server, {'command': 'check_space', 'size': 2**40}).available_space
        sizes = [free + 1 if i % 3 == 0 else i for i in range(20)]
        for size in sizes:
            send_message(s, {'command': 'check_space', 'size': size})
        for size in sizes:
            reply = receive_message(s)
            assert reply.status == ('error' if size > free else 'ok'), (size, reply)

    # A large chunk through one connection: store, then retrieve.
    data = random.Random(9).randbytes(8 * 1024 * 1024 + 3)
    chunk_id = get_chunk_hash(data)
    with c.connect(server) as s:
        send_message(s, {'command': 'store_chunk', 'chunk_id': chunk_id, 'data': data, 'replica_servers': True})
        assert sans_version(receive_message(s)) == {'status': 'ok', 'chunk_id': chunk_id}
        send_message(s, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
        assert receive_message(s).data == data

    # Half-close after the request: the reply still comes, then the server closes.
    with c.connect(server) as s:
        send_message(s, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
        s.shutdown(socket.SHUT_WR)
        assert receive_message(s).data == data
        assert receive_message(s) is None

    # Refusals are replies and keep the connection.
    with c.connect(server) as s:
        for body, expected in [
            ([1, 2, 3], 'bad_request: body is not a map'),
            ({'size': 1}, 'bad_request: missing command'),
            ({'command': 7}, 'bad_request: command is not a string'),
            ({'command': 'format_disk'}, 'unknown_command: format_disk'),
            ({'command': 'store_chunk', 'chunk_id': 'a', 'data': 'text, not bytes'}, 'bad_request: data'),
            ({'command': 'store_chunk', 'chunk_id': '../../etc/passwd', 'data': b'x'}, 'invalid_chunk_id'),
            ({'command': 'check_space', 'size': -1}, 'bad_request: size'),
        ]:
            send_message(s, body)
            reply = receive_message(s)
            assert reply == {'status': 'error', 'message': expected}, (body, reply)
        send_message(s, {'command': 'delete_chunk', 'chunk_id': chunk_id})
        assert receive_message(s) == {'status': 'ok'}

    # Violations get one reply, then the connection closes.
    with c.connect(server) as s:
        s.sendall(b'\xff\xff\xff\xff')
        reply = receive_message(s)
        assert reply.message.startswith('bad_request: frame too large: 4294967295 bytes, limit '), reply
        assert receive_message(s) is None
        seen['too_large'] = reply.message
    for body in (b'\x80\xc0', b'\x81\xa1a', b'\xc1', b'\x82\xa7command\xa4ping\xa1x\xc1', b''):
        with c.connect(server) as s:
            s.sendall(raw_frame(body))
            assert receive_message(s) == {'status': 'error', 'message': 'bad_request: undecodable body'}, body
            assert receive_message(s) is None
    return seen


FLOWS = {
    'upload_with_fallback': flow_upload_with_fallback,
    'rereplicate': flow_rereplicate,
    'space_and_delete': flow_space_and_delete,
    'connection': flow_connection,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in FLOWS:
        print(f'usage: {argv[0]} {{{",".join(FLOWS)}}} ADDRESS...', file=sys.stderr)
        return 2
    print(json.dumps(FLOWS[argv[1]](*argv[2:])))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
