#!/usr/bin/python3
"""Writes the conformance vectors of protocol/vectors/ from the cases below.

Each case is {name, hex, value} (plus command and direction for protocol messages): `hex`
is the msgpack body exactly as Python's ``msgpack.packb(value, use_bin_type=True)`` writes
it, `value` the decoded value in the JSON rendering of PROTOCOL.md, "Conformance vectors".
Run it after changing a case; protocol/python/test_vectors.py fails when the files and this
script disagree.

    /usr/bin/python3 protocol/vectors/generate.py
"""

import hashlib
import json
import math
import os
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
# Largest integer JSON carries exactly in every language (IEEE double).
JSON_SAFE_INT = 2**53 - 1
# bytes / str at least this long made of one repeated unit are written compactly.
REPEAT_MIN = 1024


class Float(float):
    """A float written as {"$float": x} (integral or non-finite floats must say so)."""


def to_json(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v if -JSON_SAFE_INT <= v <= JSON_SAFE_INT else {'$int': str(v)}
    if isinstance(v, float):
        if math.isinf(v):
            return {'$float': 'inf' if v > 0 else '-inf'}
        if v.is_integer() or isinstance(v, Float):
            return {'$float': v}
        return v
    if isinstance(v, str):
        if len(v) >= REPEAT_MIN and len(set(v)) == 1:
            return {'$str': v[0], '$repeat': len(v)}
        return v
    if isinstance(v, bytes):
        if len(v) >= REPEAT_MIN and len(set(v)) == 1:
            return {'$bin': v[:1].hex(), '$repeat': len(v)}
        return {'$bin': v.hex()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        for k in v:
            assert isinstance(k, str) and not k.startswith('$'), k
        return {k: to_json(x) for k, x in v.items()}
    raise TypeError(type(v))


def sha(data):
    return hashlib.sha256(data).hexdigest()


DATA = b'hello world'
CHUNK_ID = sha(DATA)
TXN = '1732420713123'
A = '127.0.0.1:50010'
B = '127.0.0.1:50011'
C = '127.0.0.1:50012'


def case(name, value, command=None, direction=None):
    out = {'name': name}
    if command is not None:
        out['command'] = command
        out['direction'] = direction
    out['hex'] = msgpack.packb(value, use_bin_type=True).hex()
    out['value'] = to_json(value)
    return out


def req(command, name, **fields):
    return case(f'{command} request{name}', {'command': command, **fields}, command, 'request')


def rep(command, name, **fields):
    return case(f'{command} reply{name}', fields, command, 'reply')


def err(command, name, message, **extra):
    return case(f'{command} reply{name}', {'status': 'error', 'message': message, **extra}, command, 'reply')


def encoding_cases():
    ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40, 2**53 - 1, 2**63, 2**64 - 1,
            -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**53 + 1, -2**63]
    cases = [case(f'int {i}', i) for i in ints]
    floats = [0.5, -1.5, 3.141592653589793, 1e300, 5e-324, Float(1.0), Float(0.0), Float(-0.0),
              Float(4294967296.0), float('inf'), float('-inf')]
    cases += [case(f'float {f!r}', f) for f in floats]
    cases += [case('nil', None), case('true', True), case('false', False)]
    cases += [
        case('str empty', ''),
        case('str fixstr 31 bytes', 'a' * 31),
        case('str8 32 bytes', 'a' * 32),
        case('str8 255 bytes', 'b' * 255),
        case('str16 256 bytes', 'c' * 256),
        case('str utf-8 multibyte', 'chunk \u00e9\u4e2d\U0001f600'),
        case('bin empty', b''),
        case('bin8 1 byte', b'\x00'),
        case('bin8 255 bytes', bytes(range(255))),
        case('bin16 256 bytes', bytes(range(256))),
        case('array empty', []),
        case('fixarray 15', list(range(15))),
        case('array16 16', list(range(16))),
        case('map empty', {}),
        case('fixmap 15', {f'k{i:02}': i for i in range(15)}),
        case('map16 16', {f'k{i:02}': i for i in range(16)}),
        case('nested maps and arrays', {
            'a': [1, [2, [3, {'b': None}]], {'c': [True, False]}],
            'd': {'e': {'f': {'g': b'\x01\x02'}}},
            'h': [-1.5, 'x', b'', {}],
        }),
    ]
    return cases


def large_cases():
    return [
        case('str32 65536 bytes', 'a' * 65536),
        req('store_chunk', ' with a bin32 payload of 65536 bytes', chunk_id=sha(b'\x5a' * 65536),
            file_path='/big.bin', chunk_index=3, data=b'\x5a' * 65536),
    ]


def chunk_server_cases():
    # Field order follows what the reference senders write.
    return [
        req('store_chunk', ' (client, to a primary)', data=DATA, file_path='/docs/a.txt', chunk_index=0,
            chunk_id=CHUNK_ID, client_id='client_1732420713'),
        req('store_chunk', ' (primary or master, to a replica)', chunk_id=CHUNK_ID, file_path='/docs/a.txt',
            data=DATA, replica_servers=True),
        rep('store_chunk', ' (primary)', status='ok', chunk_id=CHUNK_ID, replicas=2),
        rep('store_chunk', ' (replica)', status='ok', chunk_id=CHUNK_ID),
        err('store_chunk', ' insufficient_space', 'insufficient_space', available_space=4096),
        err('store_chunk', ' bad_request', 'bad_request: data'),
        err('store_chunk', ' invalid_chunk_id', 'invalid_chunk_id'),
        err('store_chunk', ' io_error', 'io_error: ENOSPC'),
        req('retrieve_chunk', '', chunk_id=CHUNK_ID),
        rep('retrieve_chunk', '', status='ok', data=DATA),
        err('retrieve_chunk', ' chunk_not_found', 'chunk_not_found'),
        err('retrieve_chunk', ' corrupt_chunk', 'corrupt_chunk'),
        req('delete_chunk', '', chunk_id=CHUNK_ID),
        rep('delete_chunk', '', status='ok'),
        req('check_space', '', size=67108864),
        rep('check_space', '', status='ok'),
        err('check_space', ' insufficient_space', 'insufficient_space', available_space=1048576),
        req('prepare_chunk', '', chunk_id=CHUNK_ID, transaction_id=TXN, file_path='/docs/a.txt', data=DATA),
        rep('prepare_chunk', '', status='ok', message='prepared'),
        err('prepare_chunk', ' invalid_transaction_id', 'invalid_transaction_id'),
        req('commit_chunk', '', chunk_id=CHUNK_ID, transaction_id=TXN),
        rep('commit_chunk', '', status='ok', message='committed'),
        err('commit_chunk', ' unknown transaction', 'No prepared data found for commit'),
        req('rollback_chunk', '', chunk_id=CHUNK_ID, transaction_id=TXN),
        rep('rollback_chunk', '', status='ok', message='rolled back'),
        err('rollback_chunk', ' already_committed', 'already_committed'),
        req('append_chunk', ' (client, to a primary)', chunk_id=CHUNK_ID, data=b' again', offset=11,
            file_path='/docs/a.txt'),
        req('append_chunk', ' (primary, to a replica)', chunk_id=CHUNK_ID, data=b' again', offset=11,
            file_path='/docs/a.txt', replica_servers=True),
        rep('append_chunk', '', status='ok', new_offset=17),
        req('prepare_append', '', chunk_id=CHUNK_ID, data=b' again', offset=11, transaction_id=TXN),
        rep('prepare_append', '', status='ok', message='prepared'),
        err('prepare_append', ' bad_offset', 'bad_offset', size=11),
        req('commit_append', '', chunk_id=CHUNK_ID, transaction_id=TXN),
        rep('commit_append', '', status='ok', message='committed'),
        err('commit_append', ' conflict', 'conflict'),
        req('rollback_append', '', chunk_id=CHUNK_ID, transaction_id=TXN),
        rep('rollback_append', '', status='ok', message='rolled back'),
        req('replicate_chunk', '', chunk_id=CHUNK_ID, data=DATA, file_path='/docs/a.txt', chunk_index=0,
            replica_servers=[A, B, C], current_replica=0),
        rep('replicate_chunk', '', status='ok', chunk_id=CHUNK_ID),
        err('replicate_chunk', ' replication_failed', f'replication_failed: {C}', stored_locally=True),
        req('record_append', ' (client, to the primary)', chunk_id=CHUNK_ID, file_path='/docs/a.txt', data=b' again',
            chunk_size=67108864),
        req('record_append', ' (primary, to another holder)', chunk_id=CHUNK_ID, file_path='/docs/a.txt', data=b' again',
            offset=11, version=3, epoch=1764763200000, replica_servers=True),
        rep('record_append', '', status='ok', offset=11, version=3, written=6, copies=3),
        err('record_append', ' chunk_full', 'chunk_full', size=67108864),
        err('record_append', ' record_too_large', 'record_too_large', max_record_bytes=16777216),
        err('record_append', ' not_primary', 'not_primary', primary=B, lease_end=1764763260000),
        err('record_append', ' replica_failed', f'replica_failed: {C}'),
        err('(any)', ' bad_request body is not a map', 'bad_request: body is not a map'),
        err('(any)', ' bad_request missing command', 'bad_request: missing command'),
        err('(any)', ' bad_request command is not a string', 'bad_request: command is not a string'),
        err('(any)', ' unknown_command', 'unknown_command: format_disk'),
        err('(any)', ' frame too large', 'bad_request: frame too large: 4294967295 bytes, limit 83886080'),
        err('(any)', ' undecodable body', 'bad_request: undecodable body'),
        err('(any)', ' internal_error', 'internal_error'),
        err('(any)', ' too_many_connections', 'too_many_connections'),
    ]


def master_cases():
    metadata = {
        'file_path': '/docs/a.txt',
        'total_size': 11,
        'chunk_ids': [CHUNK_ID],
        'chunk_locations': {CHUNK_ID: [A, B]},
        'chunk_offsets': {CHUNK_ID: 11},
        'last_chunk_id': CHUNK_ID,
        'last_chunk_offset': 11,
        'pending_replication': {CHUNK_ID: 1},
    }
    return [
        req('register_chunk_server', '', address=A, location=[10.0, 20.0]),
        req('heartbeat', '', address=A, location=[10.0, 20.0],
            space_info={'total': 1073741824, 'used': 11}),
        req('heartbeat', ' with corrupt_chunks', address=A, location=[10.5, 0.25],
            space_info={'total': 1073741824, 'used': 11}, corrupt_chunks=[CHUNK_ID]),
        req('heartbeat', ' with a chunk report', address=A, location=[10.0, 20.0],
            space_info={'total': 1073741824, 'used': 11},
            chunk_report=[{'chunk_id': CHUNK_ID, 'length': 11, 'version': 3, 'digest': '9f86d081884c7d659a2feaa0c55ad015'}]),
        req('heartbeat', ' with chunk changes and a failed copy', address=A, location=[10.0, 20.0],
            chunk_changes=[{'chunk_id': CHUNK_ID, 'length': 17, 'version': 4, 'digest': '60303ae22b998861bce3b28f33eec1be'},
                           {'chunk_id': 'old', 'deleted': True}],
            failed_copies=[{'chunk_id': CHUNK_ID, 'target': B}]),
        rep('heartbeat', ' with instructions', status='ok', report_wanted=True, instructions=[
            {'op': 'copy', 'chunk_id': CHUNK_ID, 'target': C, 'version': 4, 'length': 17},
            {'op': 'delete', 'chunk_id': 'old', 'length': 5, 'digest': '60303ae22b998861bce3b28f33eec1be'},
        ]),
        req('get_replica_locations', '', excluding=A, client_id=None),
        req('get_replica_locations', ' for a client', excluding=A, client_id='client_1732420713'),
        rep('get_replica_locations', '', status='ok', locations=[B, C]),
        req('update_file_metadata', '', file_path='/docs/a.txt', chunk_id=CHUNK_ID, chunk_locations=[A, B],
            chunk_size=11, pending_replication=True),
        rep('update_file_metadata', '', status='ok'),
        req('get_chunk_servers', ''),
        req('get_chunk_servers', ' for a client', client_id='client_1732420713'),
        rep('get_chunk_servers', '', status='ok', servers=[A, B, C]),
        req('get_file_metadata', '', file_path='/docs/a.txt'),
        rep('get_file_metadata', '', status='ok', metadata=metadata),
        rep('get_file_metadata', ' (no such file)', status='ok', metadata=None),
        req('get_lease', '', address=A, file_path='/docs/a.txt', chunk_id=CHUNK_ID),
        rep('get_lease', '', status='ok', primary=A, lease_ms=60000, lease_end=1764763260000, epoch=1764763200000,
            holders=[B]),
        err('get_lease', ' not_primary', 'not_primary', primary=B, lease_end=1764763260000),
        err('get_lease', ' no_lease', 'no_lease: not a current holder'),
        req('allocate_chunk', '', file_path='/docs/a.txt', after_chunk_id=CHUNK_ID),
        rep('allocate_chunk', '', status='ok', chunk_id='ra-mx7l90yh-85bc57e2ab93ae804b24', created=True, offset=0,
            locations=[A, B], primary=A, lease_end=1764763260000),
        req('create_file', '', file_path='/docs/small.txt', chunk_id=CHUNK_ID, client_id=None, overwrite=False),
        rep('create_file', '', status='ok', created=True, chunk_id=CHUNK_ID, locations=[A, B], replication_factor=2),
        rep('create_file', ' (bytes already held: the classic put)', status='ok', created=False),
        err('create_file', ' file_exists', 'file_exists'),
        req('get_chunk_locations', '', file_path='/docs/a.txt', chunk_id=CHUNK_ID),
        rep('get_chunk_locations', '', status='ok', locations=[A, B]),
        rep('get_chunk_locations', ' (ours: what a reader checks against)', status='ok', locations=[A, B], version=2,
            digests=[{'length': 17, 'digest': '9f2c4e1a7b3d5f60812a4c6e8b0d2f41'}]),
        req('list_files', ''),
        rep('list_files', '', status='ok', files=['/docs/a.txt', '/docs/b.bin']),
        req('add_file', '', file_path='/docs/a.txt', total_size=11, chunk_ids=[CHUNK_ID]),
        rep('add_file', '', status='ok'),
        req('update_chunk_offset', '', file_path='/docs/a.txt', chunk_id=CHUNK_ID, offset=17),
        req('update_chunk_offset', ' from a primary', file_path='/docs/a.txt', chunk_id=CHUNK_ID, offset=17,
            version=4, chunk_locations=[A, B]),
        rep('update_chunk_offset', '', status='ok'),
        req('delete_file', '', file_path='/docs/a.txt'),
        rep('delete_file', '', status='ok'),
        err('delete_file', '', 'file_not_found'),
        req('decommission_server', '', address=A),
        rep('decommission_server', '', status='ok'),
        err('decommission_server', '', 'unknown_server'),
        req('report_corrupt_chunk', '', file_path='/docs/a.txt', chunk_id=CHUNK_ID, address=A),
        rep('report_corrupt_chunk', '', status='ok', dropped=True),
        req('rename_file', '', file_path='/docs/a.txt', new_path='/docs/b.txt'),
        rep('rename_file', '', status='ok'),
        err('rename_file', '', 'file_exists'),
        req('forget_server', '', address=A),
        rep('forget_server', '', status='ok'),
        err('forget_server', '', 'server_live'),
        req('cluster_status', ''),
        rep('cluster_status', '', status='ok', replication_factor=3, files=1,
            servers=[{'address': A, 'state': 'live', 'location': [10, 20],
                      'space_info': {'total': 1073741824, 'used': 11, 'available': 1073741813}, 'chunks': 1, 'reports': True}],
            chunks={'total': 1, 'healthy': 0, 'under_replicated': 1, 'lost': 0, 'orphaned': 0, 'stale_replicas': 0,
                    'copies_in_flight': 1, 'deletes_pending': 0},
            last_pass={'underReplicated': 1, 'lost': 0}),
        req('master_status', ''),
        rep('master_status', '', status='ok', role='leader', leader='127.0.0.1:5000', since=1732420713000),
        rep('master_status', ' (a standby)', status='ok', role='standby', leader='127.0.0.1:5000', since=None),
        err('list_files', ' (a standby)', 'not_leader', leader='127.0.0.1:5000'),
        req('register_client', '', client_id='client_1732420713', location=[55.5, 12.25]),
        rep('register_client', '', status='ok'),
        req('client_heartbeat', '', client_id='client_1732420713', location=[55.5, 12.25]),
        req('get_graph_data', ''),
        rep('get_graph_data', '', status='ok', graph_data={
            'nodes': [
                {'id': A, 'type': 'chunk_server', 'location': [10, 20],
                 'space_info': {'total': 1073741824, 'used': 11, 'available': 1073741813}},
                {'id': 'client_1732420713', 'type': 'client', 'location': [55.5, 12.25], 'space_info': None},
            ],
            'edges': [{'source': A, 'target': 'client_1732420713', 'distance': 46.155308470424075}],
            'active_clients': ['client_1732420713'],
        }),
    ]


FILES = {
    'encoding.json': ('msgpack encodings of single values at every width boundary', encoding_cases),
    'chunk-server.json': ('requests to a chunk server and its replies', chunk_server_cases),
    'master.json': ('messages to the master and its replies', master_cases),
    'large.json': ('32-bit length headers (bodies over 64 KiB)', large_cases),
}


def render():
    """File name -> exact file text."""
    out = {}
    for name, (description, make) in FILES.items():
        doc = {'description': description, 'cases': make()}
        out[name] = json.dumps(doc, indent=1, ensure_ascii=False) + '\n'
    return out


def main():
    for name, text in render().items():
        with open(os.path.join(HERE, name), 'w', encoding='utf-8') as f:
            f.write(text)
    print('wrote', ', '.join(sorted(FILES)), file=sys.stderr)


if __name__ == '__main__':
    main()
