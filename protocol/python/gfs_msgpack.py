"""Framing of the GFS wire protocol with msgpack bodies (protocol/PROTOCOL.md).

A drop-in replacement for the reference system's pickle-based ``utils.py``: same function
names and signatures (``send_message``, ``receive_message``, ``find_free_port``,
``get_chunk_hash``), so the reference master, chunk servers and clients speak msgpack to
this project's servers once this file is copied over theirs.

Needs only the standard library and ``msgpack`` (Debian: python3-msgpack).

A frame is a 4-byte unsigned big-endian length, counting the body only, followed by the
body: one msgpack value, a map for every protocol message.

Authentication (protocol/PROTOCOL.md, "Authentication"): when the environment variable
``GFS_KEY_FILE`` names a client key file, every message sent is signed with its first key
as the client named by ``GFS_CLIENT_ID`` (default: the file's name without ``.key``), so the
reference clients work against servers with ``client_auth`` on, unchanged.

TLS (protocol/PROTOCOL.md, "TLS"): when ``GFS_TLS_CA`` names the cluster CA's PEM file,
every socket this process connects (``socket.socket(...).connect``,
``socket.create_connection``) speaks TLS, checking the server's certificate against that CA
and its address; ``GFS_TLS_CERT`` and ``GFS_TLS_KEY`` add a client certificate. Listening
sockets stay plain.
"""

import dataclasses
import hashlib
import hmac
import os
import secrets
import socket
import ssl
import struct
import time

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
    'Credential',
    'load_credential',
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


# The proof (src/auth/proof.ts): the map's last entry, "auth": bin(56) = ts | nonce | mac.
_PROOF_BYTES = 56
_TRAILER_HEAD = bytes((0xA4,)) + b'auth' + bytes((0xC4, _PROOF_BYTES))
_TRAILER_BYTES = len(_TRAILER_HEAD) + _PROOF_BYTES
_DOMAIN = b'chunkserver-auth-v1\0'


@dataclasses.dataclass(frozen=True)
class Credential:
    """Who signs (a client id, or ``member:<address>``) and with which secret."""
    id: str
    key: bytes


def load_credential(path, key_id=None):
    """The first key of a key file (one secret per line, # comments), for ``key_id``
    (default: the file's name without ``.key``)."""
    with open(path, encoding='utf-8') as f:
        keys = [line.strip() for line in f if line.strip() and not line.strip().startswith('#')]
    if not keys:
        raise ValueError(f'key file {path} holds no key')
    if key_id is None:
        key_id = os.path.basename(path)
        if key_id.endswith('.key'):
            key_id = key_id[:-len('.key')]
    return Credential(key_id, keys[0].encode('utf-8'))


_env_credential = None


def _credential_from_env():
    global _env_credential
    path = os.environ.get('GFS_KEY_FILE')
    if not path:
        return None
    if _env_credential is None or _env_credential[0] != path:
        _env_credential = (path, load_credential(path, os.environ.get('GFS_CLIENT_ID') or None))
    return _env_credential[1]


def _signed_parts(message, credential):
    """The body's parts for ``message`` with ``auth_id`` as the first entry and its proof as the
    last: a server learns the signer before any large value arrives (PROTOCOL.md section 7)."""
    if dataclasses.is_dataclass(message) and not isinstance(message, type):
        message = dataclasses.asdict(message)
    fields = {'auth_id': credential.id}
    fields.update((k, v) for k, v in message.items() if k not in ('auth', 'auth_id'))
    fields['auth'] = bytes(_PROOF_BYTES)
    parts = _body_parts(fields)
    # A map with a large payload comes field by field: join the small parts that end it.
    while len(parts) > 1 and len(parts[-1]) < _TRAILER_BYTES and len(parts[-2]) < SEPARATE_PAYLOAD_MIN_BYTES:
        parts[-2:] = [bytes(parts[-2]) + bytes(parts[-1])]
    last = parts[-1]
    if not last.endswith(_TRAILER_HEAD + bytes(_PROOF_BYTES)):
        raise ProtocolError('signed message does not end in its auth entry')
    digest = hashlib.sha256()
    for part in parts[:-1]:
        digest.update(part)
    digest.update(memoryview(last)[:len(last) - _TRAILER_BYTES])
    ts = struct.pack('!Q', int(time.time() * 1000))
    nonce = secrets.token_bytes(16)
    mac = hmac.new(credential.key, _DOMAIN + credential.id.encode('utf-8') + b'\0' + ts + nonce + digest.digest(),
                   hashlib.sha256).digest()
    parts[-1] = bytes(last[:len(last) - _PROOF_BYTES]) + ts + nonce + mac
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


def send_message(sock, message, credential=None):
    """Sends ``message`` (normally a dict) as one frame, signed with ``credential`` if given,
    else with the key ``GFS_KEY_FILE`` names, if set."""
    credential = credential or _credential_from_env()
    parts = _signed_parts(message, credential) if credential is not None else _body_parts(message)
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


class _TlsClientSocket(socket.socket):
    """A socket that speaks TLS once connected, so the reference's own ``socket.socket``
    and ``connect`` calls get TLS unchanged. The TLS session runs on a duplicate of the
    descriptor; reads, writes and timeouts go to it."""

    _tls = None

    def connect(self, address):
        super().connect(address)
        self._tls = _TLS_CONTEXT.wrap_socket(self.dup(), server_hostname=address[0])

    def sendall(self, data, *flags):
        return self._tls.sendall(data) if self._tls else super().sendall(data, *flags)

    def send(self, data, *flags):
        return self._tls.send(data) if self._tls else super().send(data, *flags)

    def sendmsg(self, buffers, *rest):
        if not self._tls:
            return super().sendmsg(buffers, *rest)
        total = 0
        for b in buffers:
            self._tls.sendall(b)
            total += len(b)
        return total

    def recv(self, size, *flags):
        return self._tls.recv(size) if self._tls else super().recv(size, *flags)

    def recv_into(self, buffer, nbytes=0, *flags):
        return self._tls.recv_into(buffer, nbytes) if self._tls else super().recv_into(buffer, nbytes, *flags)

    def settimeout(self, value):
        super().settimeout(value)
        if self._tls:
            self._tls.settimeout(value)

    def shutdown(self, how):
        # Python's ssl cannot read after it sends its close_notify: a half-close (the
        # reference's SHUT_WR after a request) is skipped, and our servers reply per frame.
        if not self._tls:
            super().shutdown(how)
        elif how != socket.SHUT_WR:
            self._tls.shutdown(how)

    def close(self):
        if self._tls:
            self._tls.close()
            self._tls = None
        super().close()


def _tls_context():
    context = ssl.create_default_context(cafile=os.environ['GFS_TLS_CA'])
    if os.environ.get('GFS_TLS_CERT'):
        context.load_cert_chain(os.environ['GFS_TLS_CERT'], os.environ.get('GFS_TLS_KEY') or None)
    return context


if os.environ.get('GFS_TLS_CA'):
    _TLS_CONTEXT = _tls_context()
    socket.socket = _TlsClientSocket
