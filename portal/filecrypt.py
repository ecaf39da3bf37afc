"""Envelope encryption of files at rest, streamed in chunks (AES-256-GCM).

Over 400 lines until split: the streaming writers (EncryptingReader, StreamEncryptor) are due
to move to portal/filecrypt_stream.py, leaving the format and decryption here.

Each file gets a random 256-bit data key; the key ring (``portal.keyring``) wraps it and
the caller stores the wrapped key and the master key id *beside* the file (for
attachments: in the database row), so that a key rotation re-wraps a few bytes per file
and never rewrites a body.

Body layout::

    header  = b"PTAE" | version (1 byte) | chunk size (4 bytes, big endian)
    chunk i = nonce (12 random bytes) | AES-GCM(plaintext chunk) | tag (16 bytes)

Every chunk but the last holds exactly ``chunk size`` plaintext bytes (an empty file is
one empty last chunk). The AAD of chunk i is ``header | i (8 bytes) | last flag``, so a
reordered, duplicated, truncated or extended body fails authentication. Memory stays at
about one chunk whatever the file size; a chunk is released only after its tag checks,
so a tampered chunk never leaves this module as plaintext.
"""

import base64
import functools
import io
import mmap
import os
import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import File

from .keyring import KeyRing, KeyRingError

MAGIC = b"PTAE"
VERSION = 1
HEADER = struct.Struct(">4sBI")
HEADER_SIZE = HEADER.size
NONCE_SIZE = 12
TAG_SIZE = 16
CHUNK_SIZE = 256 * 1024
READ_SIZE = 1024 * 1024  # ciphertext read at once when decrypting (whole records)
DATA_KEY_PURPOSE = b"attachment-data-key"


class DecryptionError(Exception):
    """The body does not authenticate: altered, truncated, or the wrong data key."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(ring: KeyRing, data_key: bytes) -> tuple[str, str]:
    """``(key id, base64 wrapped key)`` under the ring's current key."""
    key_id, wrapped = ring.wrap(data_key, purpose=DATA_KEY_PURPOSE)
    return key_id, base64.b64encode(wrapped).decode()


def unwrap_data_key(ring: KeyRing, key_id: str, wrapped: str) -> bytes:
    return _unwrap(ring, key_id, wrapped)


@functools.lru_cache(maxsize=256)
def _unwrap(ring: KeyRing, key_id: str, wrapped: str) -> bytes:
    """Unwrapped data keys of recently read files (a download's ranges, a media
    player's many requests) are not unwrapped again; failures are not cached."""
    try:
        raw = base64.b64decode(wrapped, validate=True)
    except ValueError as error:
        raise KeyRingError("The wrapped data key is not valid base64.") from error
    return ring.unwrap(key_id, raw, purpose=DATA_KEY_PURPOSE)


def _header(chunk_size: int) -> bytes:
    return HEADER.pack(MAGIC, VERSION, chunk_size)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


def chunk_count(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    return max(1, -(-plain_size // chunk_size))


def encrypted_size(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    return (
        HEADER_SIZE
        + chunk_count(plain_size, chunk_size) * (NONCE_SIZE + TAG_SIZE)
        + plain_size
    )


def is_encrypted_header(head: bytes) -> bool:
    return len(head) >= HEADER_SIZE and head[:4] == MAGIC


def _read_full(stream, size: int) -> bytes:
    first = stream.read(size)
    if len(first) == size or not first:
        return first
    parts = [first]
    size -= len(first)
    remaining = size
    while remaining > 0:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _read_into(stream, buffer: bytearray, size: int) -> memoryview:
    """Fill ``buffer[:size]`` from ``stream`` (reused between chunks: no allocation per
    chunk); returns the filled part, shorter at the end of the stream."""
    view = memoryview(buffer)[:size]
    if not hasattr(stream, "readinto"):
        data = _read_full(stream, size)
        view[: len(data)] = data
        return view[: len(data)]
    filled = 0
    while filled < size:
        count = stream.readinto(view[filled:])
        if not count:
            break
        filled += count
    return view[:filled]


def _records(
    source: BinaryIO, data_key: bytes, chunk_size: int
) -> Iterator[tuple[bytes, bytes]]:
    """``(nonce, ciphertext + tag)`` per plaintext chunk read from ``source``; kept
    apart so that writers need not copy a whole record to glue 12 bytes in front."""
    cipher = AESGCM(data_key)
    header = _header(chunk_size)
    current = _read_full(source, chunk_size)
    index = 0
    while True:
        following = (
            _read_full(source, chunk_size) if len(current) == chunk_size else b""
        )
        last = not following
        nonce = os.urandom(NONCE_SIZE)
        yield nonce, cipher.encrypt(nonce, current, _aad(header, index, last))
        if last:
            return
        current = following
        index += 1


def _pieces(source: BinaryIO, data_key: bytes, chunk_size: int) -> Iterator[bytes]:
    """The body as a stream of pieces: header, then nonce, ciphertext, nonce, ..."""
    yield _header(chunk_size)
    for nonce, sealed in _records(source, data_key, chunk_size):
        yield nonce
        yield sealed


def encrypt_chunks(
    source: BinaryIO, data_key: bytes, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Header, then one encrypted record per plaintext chunk read from ``source``."""
    yield _header(chunk_size)
    for nonce, sealed in _records(source, data_key, chunk_size):
        yield nonce + sealed


class EncryptingReader:
    """A read-only file object whose bytes are the encryption of ``source``: storages
    (local ``chunks()``, S3 ``upload_fileobj``) pull ciphertext from it as they write.

    ``read(n)`` copies each ciphertext byte at most once (a cursor into the current
    piece, no re-slicing of a shrinking buffer); ``pieces()`` hands the records out
    without any copy, for writers that take whatever size comes (``EncryptedFile``).
    """

    def __init__(self, source, data_key: bytes, plain_size: int, chunk_size=CHUNK_SIZE):
        self._chunks = _pieces(source, data_key, chunk_size)
        self._piece = b""
        self._pos = 0
        self.size = encrypted_size(plain_size, chunk_size)
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def pieces(self) -> Iterator[bytes]:
        if self._pos < len(self._piece):
            yield self._piece[self._pos :]
        self._piece, self._pos = b"", 0
        yield from self._chunks

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(self.pieces())
        parts = []
        while size > 0:
            if self._pos >= len(self._piece):
                self._piece = next(self._chunks, b"")
                self._pos = 0
                if not self._piece:
                    break
            available = len(self._piece) - self._pos
            if self._pos == 0 and available <= size:
                parts.append(self._piece)
                self._pos = available
                size -= available
            else:
                take = min(available, size)
                parts.append(self._piece[self._pos : self._pos + take])
                self._pos += take
                size -= take
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        self._chunks.close()
        self.closed = True


class EncryptedFile(File):
    """A Django ``File`` over an ``EncryptingReader`` whose ``chunks()`` are the
    ciphertext records themselves (``FileSystemStorage`` writes each as it comes):
    no 64 KiB re-slicing, no copy between the cipher and the write."""

    def __init__(self, reader: EncryptingReader, name=None):
        super().__init__(reader, name=name)

    def chunks(self, chunk_size=None):
        return self.file.pieces()

    def multiple_chunks(self, chunk_size=None):
        return True


def _mapped(stream) -> mmap.mmap | None:
    """A read-only map of a local file (no copy into a buffer before decrypting);
    ``None`` for other streams (S3) or an empty file."""
    try:
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    try:
        return mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _record_bounds(plain_size, chunk_size, count):
    record = NONCE_SIZE + chunk_size + TAG_SIZE
    total = HEADER_SIZE + (count - 1) * record
    total += NONCE_SIZE + plain_size - (count - 1) * chunk_size + TAG_SIZE
    return record, total


def _decrypt_mapped(mapped, cipher, header, plain_size, start, end, chunk_size):
    count = chunk_count(plain_size, chunk_size)
    record, total = _record_bounds(plain_size, chunk_size, count)
    if len(mapped) < total:
        raise DecryptionError("The stored file is truncated.")
    if len(mapped) > total:
        raise DecryptionError("The stored file has bytes after its end.")
    first = start // chunk_size if plain_size else 0
    last_index = end // chunk_size if plain_size else 0
    base = HEADER_SIZE + first * record
    with memoryview(mapped) as whole:
        view = whole[base:total]
        try:
            yield from _open_records(
                cipher,
                header,
                view,
                first,
                last_index + 1,
                count,
                start,
                end,
                chunk_size,
            )
        finally:
            view.release()


def _open_records(cipher, header, view, index, upto, count, start, end, chunk_size):
    """Decrypt records ``index..upto-1`` laid out from the start of ``view``; yield the
    part of each inside ``start..end``."""
    offset = 0
    first = start // chunk_size
    last_index = end // chunk_size if end >= 0 else 0
    for current in range(index, upto):
        is_last = current == count - 1
        size = len(view) - offset if is_last else NONCE_SIZE + chunk_size + TAG_SIZE
        try:
            plain = cipher.decrypt(
                view[offset : offset + NONCE_SIZE],
                view[offset + NONCE_SIZE : offset + size],
                _aad(header, current, is_last),
            )
        except InvalidTag:
            raise DecryptionError(
                f"Chunk {current} of the stored file failed authentication."
            ) from None
        offset += size
        lo = start - current * chunk_size if current == first else 0
        hi = end - current * chunk_size + 1 if current == last_index else len(plain)
        yield plain if lo <= 0 and hi >= len(plain) else plain[max(lo, 0) : hi]


def decrypt_range(
    open_at: Callable[[int], BinaryIO],
    data_key: bytes,
    plain_size: int,
    start: int = 0,
    end: int | None = None,
) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` (inclusive) of an encrypted body.

    ``open_at(offset)`` returns a readable stream positioned at that ciphertext offset
    (a seek on disk, a ranged GET on S3). Only the chunks covering the range are read.
    Raises ``DecryptionError`` before yielding any byte of a chunk that fails.
    """
    if end is None:
        end = plain_size - 1
    stream = open_at(0)
    try:
        header = _read_full(stream, HEADER_SIZE)
        if not is_encrypted_header(header):
            raise DecryptionError("The stored file is not an encrypted body.")
        magic, version, chunk_size = HEADER.unpack(header)
        if version != VERSION or not 0 < chunk_size <= 16 * 1024 * 1024:
            raise DecryptionError("The stored file has an unknown format.")
        cipher = AESGCM(data_key)
        count = chunk_count(plain_size, chunk_size)
        record = NONCE_SIZE + chunk_size + TAG_SIZE
        first = start // chunk_size if plain_size else 0
        last_index = end // chunk_size if plain_size else 0
        mapped = _mapped(stream)
        if mapped is not None:  # a local file: decrypt straight from the page cache
            try:
                yield from _decrypt_mapped(
                    mapped, cipher, header, plain_size, start, end, chunk_size
                )
            finally:
                try:
                    mapped.close()
                except BufferError:  # pragma: no cover - a view still alive: GC closes
                    pass
            return
        batch = max(1, round(READ_SIZE / record))  # records per read: one buffer
        buffer = bytearray(record * min(batch, last_index + 1 - first))
        if first:
            stream.close()
            stream = open_at(HEADER_SIZE + first * record)
        index = first
        while index <= last_index:
            upto = min(index + batch, last_index + 1)  # records index..upto-1
            ends_file = upto == count
            wanted = (upto - index) * record
            if ends_file:
                wanted -= chunk_size - (plain_size - (count - 1) * chunk_size)
            view = _read_into(stream, buffer, wanted)
            if len(view) != wanted:
                raise DecryptionError("The stored file is truncated.")
            if ends_file and stream.read(1):
                raise DecryptionError("The stored file has bytes after its end.")
            yield from _open_records(
                cipher, header, view, index, upto, count, start, end, chunk_size
            )
            index = upto
    finally:
        stream.close()


def decrypt_all(
    open_at: Callable[[int], BinaryIO], data_key: bytes, plain_size: int
) -> Iterator[bytes]:
    if plain_size == 0:
        # still authenticate the (empty) last chunk
        for _ in decrypt_range(open_at, data_key, 0, 0, 0):
            pass
        return
    yield from decrypt_range(open_at, data_key, plain_size, 0, plain_size - 1)


class StreamEncryptor:
    """The body of ``encrypt_chunks``, built from plaintext pushed in pieces of any size
    (an upload handler's chunks): ``write`` receives the header, then each record's
    nonce and sealed chunk as soon as the chunk is full *and* more data follows (the
    last chunk's AAD says it is last, so a full chunk waits for the next byte or
    ``finish``). Same layout, byte for byte, as ``encrypt_chunks``.

    One plaintext buffer and one output buffer serve every record (``encrypt_into``):
    no allocation per chunk, so no fresh pages to fault in; ``write`` gets a view of
    the output buffer and must copy what it keeps (a file's ``write`` does).
    """

    def __init__(
        self, data_key: bytes, write: Callable[[bytes], object], chunk_size=CHUNK_SIZE
    ):
        self._cipher = AESGCM(data_key)
        self._header = _header(chunk_size)
        self._write = write
        self._chunk_size = chunk_size
        self._buffer = bytearray(chunk_size)
        self._filled = 0
        self._out = bytearray(chunk_size + TAG_SIZE)
        self._index = 0
        self.finished = False
        write(self._header)

    def update(self, data) -> None:
        view = memoryview(data)
        size = self._chunk_size
        while view:
            if self._filled == size:
                self._seal(last=False)
            take = min(size - self._filled, len(view))
            self._buffer[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]

    def finish(self) -> None:
        if not self.finished:
            self._seal(last=True)
            self.finished = True

    def _seal(self, *, last: bool) -> None:
        nonce = os.urandom(NONCE_SIZE)
        filled = self._filled
        with memoryview(self._buffer) as plain, memoryview(self._out) as out:
            self._cipher.encrypt_into(
                nonce,
                plain[:filled],
                _aad(self._header, self._index, last),
                out[: filled + TAG_SIZE],
            )
            self._write(nonce)
            self._write(out[: filled + TAG_SIZE])
        self._filled = 0
        self._index += 1
