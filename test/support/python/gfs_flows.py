#!/usr/bin/python3
"""The reference GFSClient's flows against a real master and real chunk servers of this
project, framed by protocol/python/gfs_msgpack.py exactly as the reference would be after
the one-file switch (its utils.py replaced by that module).

    gfs_flows.py MASTER_PORT

Expects a master with three live chunk servers: `near` at (1, 1) with 1 MiB of space,
`mid` at (5, 5) and `far` at (60, 60) with 2 MiB each, replication_factor 3, and nothing
stored yet. Plays, in order:

  upload    upload_file: the file in 300 000-byte chunks, each stored through a primary
            with the reference's fallback on insufficient_space (`near` fills up after
            three chunks); then download_file via get_file_metadata, get_chunk_locations
            and retrieve_chunk, byte-exact.
  append    append_to_file: prepare_append on every location of the last chunk, then
            commit_append on all, then update_chunk_offset on the master. Then the same
            with the last location filled so that it refuses the prepare: rollback_append
            to those already prepared, the chunk unchanged everywhere; then the retry once
            the space is back.
  chain     replicate_chunk down a chain of the three servers, then down a chain whose
            last link is dead (`replication_failed: <address>`, `stored_locally: true`).

Asserts what the reference client relies on, prints one JSON line of what it saw for
test/python-gfs-flows.test.ts to check against the servers' and the master's own state.
"""

import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'protocol', 'python'))

from gfs_msgpack import find_free_port, get_chunk_hash, load_credential, receive_message, send_message  # noqa: E402
from space_rule import FS_BLOCK_BYTES, append_record_charge, charge  # noqa: E402


def sans_version(reply):
    """Our replies carry the chunk's `version` (an extra field the reference ignores); compare without it."""
    if isinstance(reply, dict) and isinstance(reply.get('version'), int):
        return {k: v for k, v in reply.items() if k != 'version'}
    return reply

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


def retrieve_each(locations, chunk_id):
    """The chunk's bytes as each location holds them."""
    copies = {}
    for server in locations:
        reply = request(server, {'command': 'retrieve_chunk', 'chunk_id': chunk_id})
        assert reply.status == 'ok', (server, reply)
        copies[server] = reply.data
    return copies


def available_space(server):
    reply = request(server, {'command': 'check_space', 'size': 2**40})
    assert reply.message == 'insufficient_space', reply
    return reply.available_space


def flow_upload(client, rnd):
    data = rnd.randbytes(4 * CHUNK_SIZE + 200_000)
    primaries = client.upload_file_from_bytes(data, GFS_PATH)
    listed = request(client.master, {'command': 'list_files'})
    assert listed.files == [GFS_PATH], listed
    downloaded = client.download_file(GFS_PATH)
    assert downloaded == data, 'downloaded bytes differ from the uploaded ones'
    metadata = client.get_file_metadata(GFS_PATH)
    return data, {
        'primaries': primaries,
        'fallbacks': client.fallbacks,
        'chunk_ids': metadata.chunk_ids,
        'chunk_locations': {cid: metadata.chunk_locations[cid] for cid in metadata.chunk_ids},
        'total_size': metadata.total_size,
    }


def flow_append(client, rnd, data):
    first = rnd.randbytes(50_000)
    ok = client.append_to_file(GFS_PATH, first)
    assert ok['prepared'] == ok['locations'] and len(ok['locations']) >= 2, ok
    data += first
    assert client.download_file(GFS_PATH) == data, 'the appended bytes did not come back'

    # Another writer fills the last location: just one block short of the record, which is
    # what prepare_append reserves (storage v2 keeps only the record, never a copy), charged
    # as the disk holds it (space_rule.py).
    chunk_id, locations = ok['chunk_id'], ok['locations']
    victim = locations[-1]
    before = retrieve_each(locations, chunk_id)
    needed = append_record_charge(len(first))
    space_before = {server: available_space(server) for server in locations}
    filler_charge = space_before[victim] - (needed - FS_BLOCK_BYTES)
    filler = Chunk(rnd.randbytes(filler_charge - charge(0)), '/flows/filler.bin', 0)
    assert sans_version(member_request(victim, {'command': 'store_chunk', 'chunk_id': filler.chunk_id, 'data': filler.data,
                                           'replica_servers': True})) == {'status': 'ok', 'chunk_id': filler.chunk_id}

    second = rnd.randbytes(len(first))
    try:
        client.append_to_file(GFS_PATH, second)
        raise AssertionError('the append succeeded on a full server')
    except AppendFailed as failed:
        refused = failed.outcome
    assert refused['refused'] == {'server': victim, 'reply': {
        'status': 'error', 'message': 'insufficient_space', 'available_space': needed - FS_BLOCK_BYTES}}, refused
    assert refused['prepared'] == locations[:-1], refused
    # The rollbacks were sent without waiting for a reply: their effect is the space
    # given back by every server that had prepared.
    for server in refused['prepared']:
        eventually(f'the rollback on {server}', lambda: True if available_space(server) == space_before[server] else None)
    assert retrieve_each(locations, chunk_id) == before, 'a refused append changed the chunk'
    metadata = client.get_file_metadata(GFS_PATH)
    assert metadata.chunk_offsets[chunk_id] == ok['offset'] + len(first) == metadata.last_chunk_offset, metadata

    assert request(victim, {'command': 'delete_chunk', 'chunk_id': filler.chunk_id}) == {'status': 'ok'}
    time.sleep(0.002)  # a new millisecond, hence a new transaction_id
    retried = client.append_to_file(GFS_PATH, second)
    data += second
    assert client.download_file(GFS_PATH) == data, 'the retried append did not come back'
    copies = retrieve_each(locations, chunk_id)
    assert len(set(copies.values())) == 1, 'the copies of the appended chunk differ'
    return {
        'chunk_id': chunk_id,
        'locations': locations,
        'committed': ok['transaction_id'],
        'rolled_back': refused['transaction_id'],
        'refused_by': victim,
        'prepared_then_rolled_back': refused['prepared'],
        'retried': retried['transaction_id'],
        'chunk_size': len(copies[locations[0]]),
        'total_size': len(data),
        'filler': filler.chunk_id,
    }


def flow_chain(servers, rnd):
    """replicate_chunk as the reference sends it (no chunk_id: the id is sha256(data))."""
    def replicate(chain, data):
        return request(chain[0], {'command': 'replicate_chunk', 'data': data, 'file_path': '/flows/chain.bin',
                                  'chunk_index': 0, 'replica_servers': chain, 'current_replica': 0})

    whole = Chunk(rnd.randbytes(20_000), '/flows/chain.bin', 0)
    reply = replicate(servers, whole.data)
    assert sans_version(reply) == {'status': 'ok', 'chunk_id': whole.chunk_id}, reply
    assert set(retrieve_each(servers, whole.chunk_id).values()) == {whole.data}

    dead = f'127.0.0.1:{find_free_port("127.0.0.1")}'
    broken = Chunk(rnd.randbytes(20_000), '/flows/chain.bin', 0)
    chain = servers[:-1] + [dead]
    reply = replicate(chain, broken.data)
    assert reply == {'status': 'error', 'message': f'replication_failed: {dead}', 'stored_locally': True}, reply
    assert set(retrieve_each(chain[:-1], broken.chunk_id).values()) == {broken.data}
    return {'whole': whole.chunk_id, 'chain': servers, 'broken': broken.chunk_id, 'broken_chain': chain,
            'failure': reply.message}


def main(argv):
    if len(argv) != 2:
        print(f'usage: {argv[0]} MASTER_PORT', file=sys.stderr)
        return 2
    rnd = random.Random(11)
    client = GFSClient(f'127.0.0.1:{int(argv[1])}', 'client_gfs_flows', (0.0, 0.0))
    data, upload = flow_upload(client, rnd)
    append = flow_append(client, rnd, data)
    chain = flow_chain(client.get_chunk_servers(), rnd)
    print(json.dumps({'upload': upload, 'append': append, 'chain': chain}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
