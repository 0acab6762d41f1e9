"""Framing of the GFS wire protocol with msgpack bodies (protocol/PROTOCOL.md).

A drop-in replacement for the reference system's pickle-based ``utils.py``: same function
names and signatures (``send_message``, ``receive_message``, ``find_free_port``,
``get_chunk_hash``), so the reference master, chunk servers and clients speak msgpack to
this project's servers once this file is copied over theirs.

Needs only the standard library and ``msgpack`` (Debian: python3-msgpack).

A frame is a 4-byte unsigned big-endian length, counting the body only, followed by the
body: one msgpack value, a map for every protocol message.
"""

import dataclasses
import hashlib
import socket
import struct

import msgpack

__all__ = [
    'MAX_MESSAGE_BYTES',
    'Message',
    'ProtocolError',
    'MessageTooLargeError',
    'IncompleteMessageError',
    'encode',
    'decode',
    'send_message',
    'receive_message',
    'find_free_port',
    'get_chunk_hash',
]

# The length prefix: 4 bytes, unsigned, big-endian; it counts the body, not itself.
LENGTH_PREFIX = struct.Struct('!I')
# The chunk server's default limit (max_message_mb = 80): a 64 MiB chunk and its fields fit.
MAX_MESSAGE_BYTES = 80 * 1024 * 1024
# The largest body a 4-byte prefix can describe.
MAX_FRAME_BODY_BYTES = 0xFFFFFFFF
# bytes values at least this large are handed to the socket as they are instead of being
# copied into the encoded body (a 64 MiB chunk would otherwise be copied once more).
SEPARATE_PAYLOAD_MIN_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The byte stream broke the framing rules; the connection should be closed."""


class MessageTooLargeError(ProtocolError):
    """A frame body is larger than the limit; raised before anything is allocated for it."""

    def __init__(self, size, limit):
        super().__init__(f'message of {size} bytes exceeds the limit of {limit} bytes')
        self.size = size
        self.limit = limit


class IncompleteMessageError(ProtocolError, ConnectionError):
    """The peer closed the connection in the middle of a frame body."""


class Message(dict):
    """A decoded msgpack map: a real dict whose keys also read as attributes.

    The reference pickled dataclasses (a master replies ``metadata`` as a FileMetadata
    object) and its clients read them as ``metadata.chunk_ids``; msgpack carries them as
    maps, so decoded maps answer attribute access too. dict methods win over keys of the
    same name (``m.items`` is the method; use ``m['items']``).
    """

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def _default(obj):
    """What the reference sends that msgpack cannot pack natively (tuples it packs as
    arrays by itself)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        # Sorted when possible, so that equal sets always give equal bytes.
        try:
            return sorted(obj)
        except TypeError:
            return list(obj)
    raise TypeError(f'cannot encode a {type(obj).__name__} in a GFS message')


def encode(obj):
    """The msgpack body for ``obj`` (no length prefix), as ``msgpack.packb(obj, use_bin_type=True)``
    produces it, with dataclasses sent as maps and sets and tuples as arrays."""
    return msgpack.packb(obj, use_bin_type=True, default=_default)


def decode(body):
    """The value of one msgpack body; maps come back as :class:`Message`."""
    try:
        return msgpack.unpackb(body, raw=False, object_hook=Message)
    except Exception as err:
        raise ProtocolError(f'undecodable body: {err}') from err


def _bin_header(length):
    if length < 0x100:
        return bytes((0xC4, length))
    if length < 0x10000:
        return b'\xc5' + length.to_bytes(2, 'big')
    return b'\xc6' + length.to_bytes(4, 'big')


def _is_large_payload(value):
    return isinstance(value, (bytes, bytearray)) and len(value) >= SEPARATE_PAYLOAD_MIN_BYTES


def _body_parts(obj):
    """The body as a list of buffers whose concatenation is exactly ``encode(obj)``.

    A top-level map holding a large bytes value is encoded field by field so the payload
    itself is never copied: a map header, then each key and value as packb writes them.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if not isinstance(obj, dict) or not any(_is_large_payload(v) for v in obj.values()):
        return [encode(obj)]
    parts = [msgpack.Packer(use_bin_type=True).pack_map_header(len(obj))]
    for key, value in obj.items():
        parts.append(encode(key))
        if _is_large_payload(value):
            if len(value) > MAX_FRAME_BODY_BYTES:
                raise MessageTooLargeError(len(value), MAX_FRAME_BODY_BYTES)
            parts.append(_bin_header(len(value)))
            parts.append(value)
        else:
            parts.append(encode(value))
    return parts


def _send_parts(sock, parts):
    total = sum(len(p) for p in parts)
    if total < SEPARATE_PAYLOAD_MIN_BYTES or not hasattr(sock, 'sendmsg'):
        # One write: a separate 4-byte write would meet Nagle and delayed ACKs.
        sock.sendall(b''.join(parts))
        return
    views = [memoryview(p).cast('B') for p in parts]
    while views:
        sent = sock.sendmsg(views)
        while views and sent >= len(views[0]):
            sent -= len(views[0])
            views.pop(0)
        if sent:
            views[0] = views[0][sent:]


def send_message(sock, message):
    """Sends ``message`` (normally a dict) as one frame."""
    parts = _body_parts(message)
    size = sum(len(p) for p in parts)
    if size > MAX_FRAME_BODY_BYTES:
        raise MessageTooLargeError(size, MAX_FRAME_BODY_BYTES)
    _send_parts(sock, [LENGTH_PREFIX.pack(size)] + parts)


def _fill(sock, view):
    """Reads into ``view`` until it is full or the peer closes; returns the bytes read."""
    got = 0
    size = len(view)
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            break
        got += n
    return got


def receive_message(sock, max_size=None):
    """Receives one frame and returns its decoded body.

    Returns None when the peer closed the connection before a whole length prefix arrived
    (the reference's convention for "no more messages"). Raises MessageTooLargeError when
    the prefix announces more than ``max_size`` bytes (default MAX_MESSAGE_BYTES),
    IncompleteMessageError when the peer closes inside a body, and ProtocolError when the
    body is not msgpack. The body is read straight into one buffer of its announced size.
    """
    limit = MAX_MESSAGE_BYTES if max_size is None else max_size
    prefix = bytearray(LENGTH_PREFIX.size)
    if _fill(sock, memoryview(prefix)) < LENGTH_PREFIX.size:
        return None
    (length,) = LENGTH_PREFIX.unpack(prefix)
    if length > limit:
        raise MessageTooLargeError(length, limit)
    body = bytearray(length)
    got = _fill(sock, memoryview(body))
    if got < length:
        raise IncompleteMessageError(f'connection closed after {got} of {length} body bytes')
    return decode(body)


def find_free_port(host=''):
    """A TCP port that was free a moment ago (as the reference picks chunk server ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        s.listen(1)
        return s.getsockname()[1]


def get_chunk_hash(data):
    """The id the reference gives a new chunk: the sha256 hex digest of its bytes."""
    return hashlib.sha256(data).hexdigest()
