"""The reference GFSClient (its upload, append and download), framed by
protocol/python/gfs_msgpack.py as the reference would be after the one-file switch, and the
requests it is built from: for gfs_flows.py and gfs_interop.py.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'protocol', 'python'))

from gfs_msgpack import get_chunk_hash, load_credential, receive_message, send_message  # noqa: E402
from replies import sans_version  # noqa: E402


# The reference's [client] upload_chunk_size, scaled down so the flows stay fast.
CHUNK_SIZE = 300_000
CONNECT_TIMEOUT_S = 5
IO_TIMEOUT_S = 30
# How long to wait for a message sent without reading its reply to take effect.
SETTLE_S = 5
GFS_PATH = '/flows/gfs.bin'


class Chunk:
    """As the reference's Chunk: a new chunk's id is the sha256 of its bytes."""

    def __init__(self, data, file_path, chunk_index):
        self.data = data
        self.file_path = file_path
        self.chunk_index = chunk_index
        self.chunk_id = get_chunk_hash(data)


class AppendFailed(Exception):
    def __init__(self, outcome):
        super().__init__(f'two-phase append failed: {outcome}')
        self.outcome = outcome


def connect(address):
    host, port = address.rsplit(':', 1)
    s = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S)
    s.settimeout(IO_TIMEOUT_S)
    return s


def request(address, message):
    """One request on its own connection, as every reference component does."""
    with connect(address) as s:
        send_message(s, message)
        return receive_message(s)


# The filler below is a replica store, which only a cluster member may send: against a
# secured cluster the test names the cluster key here (the client's own key comes from
# GFS_KEY_FILE, read by gfs_msgpack itself).
MEMBER = (load_credential(os.environ['GFS_FLOWS_MEMBER_KEY_FILE'], 'member:flows')
          if os.environ.get('GFS_FLOWS_MEMBER_KEY_FILE') else None)


def member_request(address, message):
    with connect(address) as s:
        send_message(s, message, MEMBER)
        return receive_message(s)


def tell(address, message):
    """The messages the reference sends without reading a reply (rollback_append,
    update_chunk_offset, client_heartbeat): send, then close."""
    with connect(address) as s:
        send_message(s, message)


def eventually(what, probe):
    """Polls `probe` until it returns something other than None, for the effect of a
    message whose reply the reference never reads."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.02)


class GFSClient:
    """The reference GFSClient's message flows, with what happened on the way recorded."""

    def __init__(self, master, client_id, location):
        self.master = master
        self.client_id = client_id
        self.location = location
        self.fallbacks = []
        reply = request(master, {'command': 'register_client', 'client_id': client_id, 'location': location})
        assert reply == {'status': 'ok'}, reply
        tell(master, {'command': 'client_heartbeat', 'client_id': client_id, 'location': location})

    def get_chunk_servers(self):
        # The reference asks without its client_id and gets every live server in
        # registration order; asking as the registered client gives the nearest first,
        # an order these flows can rely on.
        reply = request(self.master, {'command': 'get_chunk_servers', 'client_id': self.client_id})
        assert reply.status == 'ok' and reply.servers, reply
        return reply.servers

    def store_chunk_with_fallback(self, chunk, servers):
        for server in servers:
            reply = request(server, {
                'command': 'store_chunk',
                'data': chunk.data,
                'file_path': chunk.file_path,
                'chunk_index': chunk.chunk_index,
                'chunk_id': chunk.chunk_id,
                'client_id': self.client_id,
            })
            if reply.status == 'ok':
                assert reply.chunk_id == chunk.chunk_id, reply
                return server
            assert reply.message == 'insufficient_space', reply
            self.fallbacks.append({'chunk_index': chunk.chunk_index, 'server': server, 'available_space': reply.available_space})
        return None

    def upload_file_from_bytes(self, data, gfs_path):
        """The primary that stored each chunk."""
        primaries = []
        for index, start in enumerate(range(0, len(data), CHUNK_SIZE)):
            chunk = Chunk(data[start:start + CHUNK_SIZE], gfs_path, index)
            server = self.store_chunk_with_fallback(chunk, self.get_chunk_servers())
            assert server is not None, f'chunk {index} stored nowhere'
            primaries.append(server)
        return primaries

    def get_file_metadata(self, gfs_path):
        reply = request(self.master, {'command': 'get_file_metadata', 'file_path': gfs_path})
        assert reply.status == 'ok', reply
        return reply.metadata

    def get_chunk_locations(self, gfs_path, chunk_id):
        reply = request(self.master, {'command': 'get_chunk_locations', 'file_path': gfs_path, 'chunk_id': chunk_id})
        assert reply.status == 'ok', reply
        return reply.locations

    def download_file(self, gfs_path):
        metadata = self.get_file_metadata(gfs_path)
        out = bytearray()
        for chunk_id in metadata.chunk_ids:
            locations = self.get_chunk_locations(gfs_path, chunk_id)
            assert sorted(locations) == sorted(metadata.chunk_locations[chunk_id]), (locations, metadata.chunk_locations)
            for server in locations:
                reply = request(server, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
                if reply.status == 'ok':
                    out += reply.data
                    break
            else:
                raise AssertionError(f'chunk {chunk_id} retrieved from nowhere')
        assert len(out) == metadata.total_size, (len(out), metadata.total_size)
        return bytes(out)

    def append_to_file(self, gfs_path, data):
        """Two-phase append to the file's last chunk, which must have room for `data`."""
        metadata = self.get_file_metadata(gfs_path)
        chunk_id = metadata.last_chunk_id
        offset = metadata.last_chunk_offset
        assert offset + len(data) <= CHUNK_SIZE, 'the reference would start a new chunk here'
        locations = self.get_chunk_locations(gfs_path, chunk_id)
        assert locations, f'no locations for chunk {chunk_id}'
        outcome = self.two_phase_append(chunk_id, data, offset, locations)
        if not outcome['committed']:
            raise AppendFailed(outcome)
        new_offset = offset + len(data)
        tell(self.master, {'command': 'update_chunk_offset', 'file_path': gfs_path, 'chunk_id': chunk_id, 'offset': new_offset})
        eventually('the master to take the new offset',
                   lambda: True if self.get_file_metadata(gfs_path).chunk_offsets[chunk_id] == new_offset else None)
        return outcome

    def two_phase_append(self, chunk_id, data, offset, locations):
        """Prepare on the primary then each replica, stopping at the first refusal; commit
        on all if all prepared, else roll back those that did."""
        transaction_id = str(int(time.time() * 1000))
        outcome = {'transaction_id': transaction_id, 'chunk_id': chunk_id, 'offset': offset,
                   'locations': locations, 'prepared': [], 'refused': None, 'committed': False}
        for server in locations:
            reply = request(server, {
                'command': 'prepare_append',
                'chunk_id': chunk_id,
                'data': data,
                'offset': offset,
                'transaction_id': transaction_id,
            })
            if reply.status != 'ok':
                outcome['refused'] = {'server': server, 'reply': reply}
                break
            assert reply == {'status': 'ok', 'message': 'prepared'}, reply
            outcome['prepared'].append(server)
        if outcome['refused'] is None:
            for server in outcome['prepared']:
                reply = request(server, {'command': 'commit_append', 'chunk_id': chunk_id, 'transaction_id': transaction_id})
                assert sans_version(reply) == {'status': 'ok', 'message': 'committed'}, (server, reply)
            outcome['committed'] = True
            return outcome
        for server in outcome['prepared']:
            tell(server, {'command': 'rollback_append', 'chunk_id': chunk_id, 'transaction_id': transaction_id})
        return outcome
