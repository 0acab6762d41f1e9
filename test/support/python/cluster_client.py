"""Upload and download a file through a master and its chunk servers the way the
reference's GFSClient does: one connection per request, 4-byte big-endian length +
msgpack body (use_bin_type=True), sha256 chunk ids, primary store with fallback on
insufficient_space, download via get_file_metadata / get_chunk_locations / retrieve_chunk.

Usage: cluster_client.py MASTER_PORT  -- prints one JSON line; exits non-zero on failure.
"""
import hashlib
import json
import random
import socket
import sys

from framing import receive_message, send_message

CHUNK_SIZE = 768 * 1024
CLIENT_ID = 'py-client'


def connect(address):
    host, port = address.rsplit(':', 1)
    return socket.create_connection((host, int(port)), timeout=30)


def request(address, obj):
    with connect(address) as sock:
        send_message(sock, obj)
        return receive_message(sock)


def tell(address, obj):
    """Messages the reference client sends without reading a reply."""
    with connect(address) as sock:
        send_message(sock, obj)


def main():
    master = '127.0.0.1:%d' % int(sys.argv[1])
    assert request(master, {'command': 'register_client', 'client_id': CLIENT_ID, 'location': (0.0, 0.0)}) == {'status': 'ok'}
    tell(master, {'command': 'client_heartbeat', 'client_id': CLIENT_ID, 'location': (0.0, 0.0)})

    rnd = random.Random(7)
    # The second chunk repeats the first, so both have one sha256 id; the file must still
    # come back whole.
    first = rnd.randbytes(CHUNK_SIZE)
    data = first + first + rnd.randbytes(512 * 1024 + 5)
    gfs_path = '/py/upload.bin'
    fallbacks = 0
    for index, start in enumerate(range(0, len(data), CHUNK_SIZE)):
        piece = data[start:start + CHUNK_SIZE]
        chunk_id = hashlib.sha256(piece).hexdigest()
        servers = request(master, {'command': 'get_chunk_servers', 'client_id': CLIENT_ID})['servers']
        assert servers, 'no chunk servers'
        stored = None
        for server in servers:
            response = request(server, {'command': 'store_chunk', 'data': piece, 'file_path': gfs_path,
                                        'chunk_index': index, 'chunk_id': chunk_id, 'client_id': CLIENT_ID})
            if response['status'] == 'ok':
                stored = server
                break
            assert response['message'] == 'insufficient_space', response
            fallbacks += 1
        assert stored, 'chunk %d stored nowhere' % index

    assert gfs_path in request(master, {'command': 'list_files'})['files']
    metadata = request(master, {'command': 'get_file_metadata', 'file_path': gfs_path})['metadata']
    out = b''
    locations = []
    for chunk_id in metadata['chunk_ids']:
        where = request(master, {'command': 'get_chunk_locations', 'file_path': gfs_path, 'chunk_id': chunk_id})['locations']
        locations.append(len(where))
        for server in where:
            response = request(server, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
            if response['status'] == 'ok':
                out += response['data']
                break
        else:
            raise SystemExit('chunk %s retrieved from nowhere' % chunk_id)

    print(json.dumps({'equal': out == data, 'chunks': len(metadata['chunk_ids']), 'total_size': metadata['total_size'],
                      'locations': locations, 'fallbacks': fallbacks}))


if __name__ == '__main__':
    main()
