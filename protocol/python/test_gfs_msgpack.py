#!/usr/bin/python3
"""Tests of gfs_msgpack over real socket pairs.

    /usr/bin/python3 protocol/python/test_gfs_msgpack.py
"""

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import socket
import sys
import threading
import unittest
from typing import Dict, List, Optional

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gfs_msgpack  # noqa: E402
from gfs_msgpack import (  # noqa: E402
    IncompleteMessageError,
    Message,
    MessageTooLargeError,
    ProtocolError,
    find_free_port,
    get_chunk_hash,
    receive_message,
    send_message,
)


@dataclasses.dataclass
class FileMetadata:
    """The reference master's metadata record, which it sends as-is."""
    file_path: str
    total_size: int
    chunk_ids: List[str]
    chunk_locations: Dict[str, List[str]]
    chunk_offsets: Dict[str, int]
    last_chunk_id: Optional[str]
    last_chunk_offset: int
    pending_replication: Dict[str, int] = None


@dataclasses.dataclass
class Outer:
    name: str
    inner: FileMetadata
    tags: set


def metadata():
    return FileMetadata('/a.txt', 11, ['c1'], {'c1': ['h:1', 'h:2']}, {'c1': 11}, 'c1', 11, {'c1': 1})


def pair():
    a, b = socket.socketpair()
    # A failing sender thread must fail the test, not hang it.
    a.settimeout(10)
    b.settimeout(10)
    return a, b


def send_in_thread(sock, *messages, shut=False):
    def run():
        for m in messages:
            send_message(sock, m)
        if shut:
            sock.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=run)
    t.start()
    return t


class RecordingSocket:
    """A real socket that remembers how many bytes each recv_into asked for."""

    def __init__(self, sock):
        self.sock = sock
        self.asked = []
        self.got = []

    def recv_into(self, buf, nbytes=0):
        self.asked.append(nbytes or len(buf))
        n = self.sock.recv_into(buf, nbytes)
        self.got.append(n)
        return n


class EncodingTest(unittest.TestCase):
    def test_encode_is_packb_with_bin_type(self):
        value = {'command': 'store_chunk', 'data': b'\x00\xff', 'n': 2**40, 'f': 0.5, 'x': None, 'ok': True}
        self.assertEqual(gfs_msgpack.encode(value), msgpack.packb(value, use_bin_type=True))

    def test_tuples_and_sets_are_arrays(self):
        self.assertEqual(gfs_msgpack.encode({'location': (10.0, 20.0)}), msgpack.packb({'location': [10.0, 20.0]}))
        self.assertEqual(gfs_msgpack.encode({'excluding': {'b:2', 'a:1'}}), msgpack.packb({'excluding': ['a:1', 'b:2']}))
        self.assertEqual(gfs_msgpack.encode(frozenset([3, 1, 2])), msgpack.packb([1, 2, 3]))
        self.assertEqual(len(gfs_msgpack.decode(gfs_msgpack.encode({1, 'a'}))), 2)

    def test_dataclasses_are_maps(self):
        m = metadata()
        self.assertEqual(gfs_msgpack.encode(m), msgpack.packb(dataclasses.asdict(m), use_bin_type=True))
        self.assertEqual(gfs_msgpack.encode({'status': 'ok', 'metadata': m}),
                         msgpack.packb({'status': 'ok', 'metadata': dataclasses.asdict(m)}, use_bin_type=True))
        nested = gfs_msgpack.decode(gfs_msgpack.encode(Outer('o', m, {'t'})))
        self.assertEqual(nested.inner.chunk_locations, {'c1': ['h:1', 'h:2']})
        self.assertEqual(nested.tags, ['t'])

    def test_what_cannot_be_encoded_says_so(self):
        with self.assertRaisesRegex(TypeError, 'cannot encode a object'):
            gfs_msgpack.encode({'x': object()})
        with self.assertRaisesRegex(TypeError, 'cannot encode a type'):
            gfs_msgpack.encode(FileMetadata)

    def test_large_payload_parts_equal_packb(self):
        value = {'command': 'store_chunk', 'data': os.urandom(300_000), 'small': b'x' * 10, 'chunk_id': 'c'}
        parts = gfs_msgpack._body_parts(value)
        self.assertGreater(len(parts), 1)
        self.assertTrue(any(p is value['data'] for p in parts), 'payload must not be copied')
        self.assertEqual(b''.join(parts), msgpack.packb(value, use_bin_type=True))
        for size in (65536, 65535 + 1, 70_000):
            v = {'d': bytearray(size)}
            self.assertEqual(b''.join(bytes(p) for p in gfs_msgpack._body_parts(v)), msgpack.packb(v, use_bin_type=True))


class DecodedMapTest(unittest.TestCase):
    def test_maps_are_dicts_with_attribute_access(self):
        reply = gfs_msgpack.decode(gfs_msgpack.encode({'status': 'ok', 'metadata': metadata()}))
        self.assertIsInstance(reply, dict)
        self.assertIsInstance(reply, Message)
        self.assertEqual(reply['status'], 'ok')
        self.assertEqual(reply.status, 'ok')
        self.assertEqual(reply.metadata.chunk_ids, ['c1'])
        self.assertEqual(reply.metadata.last_chunk_offset, 11)
        self.assertEqual(reply.metadata.chunk_locations['c1'], ['h:1', 'h:2'])
        self.assertEqual(reply.get('missing', 'd'), 'd')
        self.assertFalse(hasattr(reply, 'missing'))
        with self.assertRaises(AttributeError):
            reply.missing  # noqa: B018

    def test_attribute_writes_are_key_writes(self):
        m = gfs_msgpack.decode(gfs_msgpack.encode(metadata()))
        m.total_size += 5
        m.chunk_ids.append('c2')
        m.new_field = 1
        del m.pending_replication
        self.assertEqual(m['total_size'], 16)
        self.assertEqual(m['chunk_ids'], ['c1', 'c2'])
        self.assertEqual(m['new_field'], 1)
        self.assertNotIn('pending_replication', m)
        with self.assertRaises(AttributeError):
            del m.pending_replication

    def test_decoded_maps_serialize_like_dicts(self):
        m = gfs_msgpack.decode(gfs_msgpack.encode({'a': {'b': [1, {'c': 2}]}}))
        self.assertEqual(json.dumps(m), '{"a": {"b": [1, {"c": 2}]}}')
        self.assertEqual(gfs_msgpack.encode(m), msgpack.packb({'a': {'b': [1, {'c': 2}]}}))
        self.assertEqual(copy.deepcopy(m), m)
        self.assertEqual(pickle.loads(pickle.dumps(m)), m)

    def test_bin_is_bytes_and_str_is_str(self):
        m = gfs_msgpack.decode(gfs_msgpack.encode({'data': b'abc', 'name': 'abc'}))
        self.assertIs(type(m.data), bytes)
        self.assertIs(type(m.name), str)

    def test_garbage_is_a_protocol_error(self):
        for body in (b'', b'\xc1', b'\x81\xa1a', b'\x80\x80'):
            with self.subTest(body=body), self.assertRaises(ProtocolError):
                gfs_msgpack.decode(body)


class FramingTest(unittest.TestCase):
    def test_round_trip_in_order_on_one_connection(self):
        a, b = pair()
        with a, b:
            msgs = [{'command': 'check_space', 'size': i} for i in range(50)]
            t = send_in_thread(a, *msgs)
            for m in msgs:
                self.assertEqual(receive_message(b), m)
            t.join()

    def test_frame_bytes_are_length_then_body(self):
        a, b = pair()
        with a, b:
            send_message(a, {'command': 'check_space', 'size': 1048576})
            raw = b.recv(100)
        self.assertEqual(raw.hex(), '0000001f82a7636f6d6d616e64ab636865636b5f7370616365a473697a65ce00100000')

    def test_large_message_round_trip_and_exact_reads(self):
        data = os.urandom(3 * 1024 * 1024 + 7)
        a, b = pair()
        with a, b:
            t = send_in_thread(a, {'command': 'store_chunk', 'chunk_id': get_chunk_hash(data), 'data': data})
            rec = RecordingSocket(b)
            m = receive_message(rec)
            t.join()
        self.assertEqual(m.data, data)
        self.assertEqual(m.chunk_id, hashlib.sha256(data).hexdigest())
        body = len(gfs_msgpack.encode({'command': 'store_chunk', 'chunk_id': m.chunk_id, 'data': data}))
        # First the 4-byte prefix, then reads asking each time for all that is still
        # missing of the body: never a fixed small block size.
        self.assertEqual((rec.asked[0], rec.got[0]), (4, 4))
        self.assertEqual(rec.asked[1], body)
        for i in range(1, len(rec.asked) - 1):
            self.assertEqual(rec.asked[i + 1], rec.asked[i] - rec.got[i])
        self.assertEqual(sum(rec.got[1:]), body)

    def test_none_when_peer_closes_before_a_frame(self):
        a, b = pair()
        with b:
            a.close()
            self.assertIsNone(receive_message(b))
        a, b = pair()
        with b:
            a.sendall(b'\x00\x00')
            a.close()
            self.assertIsNone(receive_message(b))

    def test_half_close_after_request_still_delivers(self):
        a, b = pair()
        with a, b:
            t = send_in_thread(a, {'command': 'retrieve_chunk', 'chunk_id': 'x'}, shut=True)
            self.assertEqual(receive_message(b), {'command': 'retrieve_chunk', 'chunk_id': 'x'})
            self.assertIsNone(receive_message(b))
            t.join()
            send_message(b, {'status': 'ok'})
            self.assertEqual(receive_message(a), {'status': 'ok'})

    def test_close_inside_a_body_raises(self):
        a, b = pair()
        with b:
            a.sendall(b'\x00\x00\x00\x10' + b'\x81\xa1a')
            a.close()
            with self.assertRaisesRegex(IncompleteMessageError, 'after 3 of 16 body bytes'):
                receive_message(b)
        self.assertTrue(issubclass(IncompleteMessageError, ConnectionError))

    def test_oversize_is_refused_before_allocating(self):
        a, b = pair()
        with a, b:
            a.sendall(b'\xff\xff\xff\xff')
            with self.assertRaises(MessageTooLargeError) as cm:
                receive_message(b)
            self.assertEqual((cm.exception.size, cm.exception.limit), (0xFFFFFFFF, 80 * 1024 * 1024))
            self.assertIn('exceeds the limit', str(cm.exception))
        a, b = pair()
        with a, b:
            send_message(a, {'data': b'x' * 100})
            with self.assertRaises(MessageTooLargeError):
                receive_message(b, max_size=50)
        a, b = pair()
        with a, b:
            send_message(a, {'data': b'x' * 100})
            self.assertEqual(receive_message(b, max_size=200), {'data': b'x' * 100})

    def test_undecodable_body_raises(self):
        a, b = pair()
        with a, b:
            a.sendall(b'\x00\x00\x00\x01\xc1')
            with self.assertRaisesRegex(ProtocolError, 'undecodable body'):
                receive_message(b)

    def test_socket_timeouts_propagate(self):
        a, b = pair()
        with a, b:
            b.settimeout(0.05)
            with self.assertRaises(socket.timeout):
                receive_message(b)


class SigningTest(unittest.TestCase):
    def test_auth_id_comes_first_and_auth_last(self):
        # A server stages a large value against its space only when it knows the signer
        # before the value's bytes arrive (PROTOCOL.md section 7).
        cred = gfs_msgpack.Credential('alice', b'k' * 64)
        data = os.urandom(2 * 1024 * 1024)
        parts = gfs_msgpack._signed_parts({'command': 'store_chunk', 'chunk_id': 'c', 'data': data, 'auth_id': 'x'}, cred)
        body = msgpack.unpackb(b''.join(bytes(p) for p in parts), raw=False)
        self.assertEqual(list(body), ['auth_id', 'command', 'chunk_id', 'data', 'auth'])
        self.assertEqual(body['auth_id'], 'alice')
        self.assertEqual(len(body['auth']), 56)


class HelpersTest(unittest.TestCase):
    def test_get_chunk_hash_is_sha256_hex(self):
        self.assertEqual(get_chunk_hash(b'hello world'),
                         'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9')

    def test_find_free_port_can_be_bound(self):
        port = find_free_port('127.0.0.1')
        self.assertTrue(0 < port < 65536)
        with socket.socket() as s:
            s.bind(('127.0.0.1', port))
        self.assertTrue(0 < find_free_port() < 65536)

    def test_only_stdlib_and_msgpack(self):
        with open(gfs_msgpack.__file__, encoding='utf-8') as f:
            imports = {line.split()[1].split('.')[0] for line in f if line.startswith(('import ', 'from '))}
        self.assertLessEqual(imports - set(sys.stdlib_module_names), {'msgpack'})


if __name__ == '__main__':
    unittest.main()
