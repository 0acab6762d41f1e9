#!/usr/bin/python3
"""The reference GFSClient's two-phase append, over and over, to a file that record appends
(GfsClient.append) grow at the same time: for test/e2e/interop/python-mixed-append.test.ts.

    mixed_append.py MASTER_ADDRESS GFS_PATH NAME COUNT

Appends COUNT 4096-byte records tagged `NAME-i` (the layout of test/support/records.ts: the
tag, '|', then a sha256 chain of the tag) as the reference does: get_file_metadata,
get_chunk_locations, prepare_append at the recorded end on every location, commit_append on
all, update_chunk_offset. Another producer may have moved the end meanwhile; the attempt must
then fail loudly (a refused prepare, rolled back), never overwrite, and is tried again, as a
user of the reference would, up to ATTEMPTS times. Prints one JSON line per attempt:
{"tag", "ok": true, "offset"} with the file offset of an acknowledged record, or
{"tag", "ok": false, "why"}.
"""

import hashlib
import json
import sys
import time

from gfs_client import GFSClient, tell

RECORD_BYTES = 4096
ATTEMPTS = 40
# Between a refused attempt and the next: the other producers' appends reach the master.
RETRY_PAUSE_S = 0.05


def record(tag):
    head = f'{tag}|'.encode()
    out = bytearray(head)
    block = hashlib.sha256(tag.encode()).digest()
    while len(out) < RECORD_BYTES:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:RECORD_BYTES])


def attempt(client, gfs_path, data):
    metadata = client.get_file_metadata(gfs_path)
    chunk_id = metadata.last_chunk_id
    offset = metadata.last_chunk_offset
    start = sum(metadata.chunk_offsets[c] for c in metadata.chunk_ids[:-1])
    locations = client.get_chunk_locations(gfs_path, chunk_id)
    if not locations:
        return {'ok': False, 'why': f'no locations for {chunk_id}'}
    outcome = client.two_phase_append(chunk_id, data, offset, locations)
    if not outcome['committed']:
        refused = outcome['refused']
        return {'ok': False, 'why': f"{refused['server']}: {refused['reply'].get('message')}",
                'prepared': len(outcome['prepared'])}
    tell(client.master, {'command': 'update_chunk_offset', 'file_path': gfs_path, 'chunk_id': chunk_id,
                         'offset': offset + len(data)})
    return {'ok': True, 'offset': start + offset}


def main(argv):
    master, gfs_path, name, count = argv[1], argv[2], argv[3], int(argv[4])
    client = GFSClient(master, f'mixed-{name}', [0, 0])
    for i in range(count):
        tag = f'{name}-{i}'
        for _ in range(ATTEMPTS):
            try:
                result = attempt(client, gfs_path, record(tag))
            except AssertionError as err:
                # A reply the reference does not expect (a commit refused after its prepare):
                # loud, and the record is not counted as appended.
                result = {'ok': False, 'why': f'assertion: {err}'}
            print(json.dumps({'tag': tag, **result}), flush=True)
            if result['ok']:
                break
            time.sleep(RETRY_PAUSE_S)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
