#!/usr/bin/python3
"""Checks protocol/vectors/*.json against Python's msgpack and against gfs_msgpack.

For every case: packb(value) gives exactly `hex`, unpackb(hex) gives exactly `value` (types
included: an int is not a float, a str is not bytes), and gfs_msgpack carries the value
over a real socket pair with those bytes on the wire.

    /usr/bin/python3 protocol/python/test_vectors.py
"""

import glob
import importlib.util
import json
import os
import socket
import sys
import threading
import unittest

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, '..', 'vectors')
sys.path.insert(0, HERE)

import gfs_msgpack  # noqa: E402


def from_json(v):
    """The Python value a vector's JSON `value` renders (PROTOCOL.md, "Conformance vectors")."""
    if isinstance(v, list):
        return [from_json(x) for x in v]
    if isinstance(v, dict):
        if '$bin' in v:
            return bytes.fromhex(v['$bin']) * v.get('$repeat', 1)
        if '$str' in v:
            return v['$str'] * v.get('$repeat', 1)
        if '$int' in v:
            return int(v['$int'])
        if '$float' in v:
            return float(v['$float'])
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, float) and v.is_integer():
        raise AssertionError(f'integral float {v!r} must be written as {{"$float": ...}}')
    return v


def same(a, b):
    """Equality that also requires the same types (dict subclasses count as dict)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a == 0.0:
        return str(a) == str(b)
    return a == b


def load_cases():
    cases = []
    for path in sorted(glob.glob(os.path.join(VECTORS, '*.json'))):
        with open(path, encoding='utf-8') as f:
            doc = json.load(f)
        for c in doc['cases']:
            cases.append((os.path.basename(path), c))
    return cases


CASES = load_cases()


class VectorTest(unittest.TestCase):
    def test_there_are_vectors(self):
        self.assertGreater(len(CASES), 100)

    def test_packb_gives_the_bytes(self):
        for file, c in CASES:
            with self.subTest(file=file, name=c['name']):
                self.assertEqual(msgpack.packb(from_json(c['value']), use_bin_type=True).hex(), c['hex'])

    def test_unpackb_gives_the_value(self):
        for file, c in CASES:
            with self.subTest(file=file, name=c['name']):
                got = msgpack.unpackb(bytes.fromhex(c['hex']), raw=False)
                self.assertTrue(same(got, from_json(c['value'])), f'{got!r:.200}')

    def test_gfs_msgpack_encodes_and_decodes_the_same(self):
        for file, c in CASES:
            with self.subTest(file=file, name=c['name']):
                value = from_json(c['value'])
                body = bytes.fromhex(c['hex'])
                self.assertEqual(gfs_msgpack.encode(value), body)
                self.assertEqual(b''.join(bytes(p) for p in gfs_msgpack._body_parts(value)), body)
                self.assertTrue(same(gfs_msgpack.decode(body), value))

    def test_every_case_over_a_socket_pair(self):
        """All cases on one connection, in order: the raw frames and the decoded values."""
        values = [from_json(c['value']) for _, c in CASES]
        expected = b''.join(len(b).to_bytes(4, 'big') + b for b in (bytes.fromhex(c['hex']) for _, c in CASES))

        a, b = socket.socketpair()
        b.settimeout(10)
        with a, b:
            sender = threading.Thread(target=lambda: [gfs_msgpack.send_message(a, v) for v in values])
            sender.start()
            raw = bytearray()
            while len(raw) < len(expected):
                block = b.recv(1 << 20)
                self.assertTrue(block, 'sender closed early')
                raw += block
            sender.join()
        self.assertEqual(bytes(raw), expected)

        a, b = socket.socketpair()
        b.settimeout(10)
        with a, b:
            sender = threading.Thread(target=lambda: ([gfs_msgpack.send_message(a, v) for v in values],
                                                      a.shutdown(socket.SHUT_WR)))
            sender.start()
            for (_, c), value in zip(CASES, values):
                got = gfs_msgpack.receive_message(b)
                self.assertTrue(same(got, value), c['name'])
            self.assertIsNone(gfs_msgpack.receive_message(b))
            sender.join()

    def test_files_match_the_generator(self):
        spec = importlib.util.spec_from_file_location('generate', os.path.join(VECTORS, 'generate.py'))
        generate = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generate)
        for name, text in generate.render().items():
            with open(os.path.join(VECTORS, name), encoding='utf-8') as f:
                self.assertEqual(f.read(), text, f'{name} is stale: run protocol/vectors/generate.py')
        self.assertEqual(sorted(generate.FILES), sorted(os.path.basename(p) for p in glob.glob(os.path.join(VECTORS, '*.json'))))


if __name__ == '__main__':
    unittest.main()
