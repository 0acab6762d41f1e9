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
test/e2e/interop/python-gfs-flows.test.ts to check against the servers' and the master's own state.
"""

import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', '..', '..', 'protocol', 'python')]

from gfs_client import AppendFailed, CHUNK_SIZE, Chunk, GFSClient, GFS_PATH, eventually, member_request, request  # noqa: E402
from replies import sans_version  # noqa: E402
from gfs_msgpack import find_free_port  # noqa: E402
from space_rule import FS_BLOCK_BYTES, append_record_charge, charge  # noqa: E402


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
