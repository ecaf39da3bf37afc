"""The key ring and the chunked envelope format: round trips, and every alteration of
a body (flipped byte, truncation, reordered or appended chunks, wrong key) refused."""

import base64
import io
import logging
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import filecrypt, keyring
from portal.keyring import KeyRingError, parse_keys

K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()
SMALL = 16  # chunk size for the tests: many chunks from few bytes


def _encrypt(plain: bytes, key: bytes, chunk_size=SMALL) -> bytes:
    reader = filecrypt.EncryptingReader(io.BytesIO(plain), key, len(plain), chunk_size)
    body = reader.read()
    assert len(body) == reader.size
    return body


def _opener(body: bytes):
    def open_at(offset):
        stream = io.BytesIO(body)
        stream.seek(offset)
        return stream

    return open_at


def _decrypt(body, key, size, start=0, end=None):
    return b"".join(filecrypt.decrypt_range(_opener(body), key, size, start, end))


@pytest.mark.parametrize("size", [1, 15, 16, 17, 32, 100])
def test_round_trip_over_chunk_boundaries(size):
    plain = os.urandom(size)
    key = filecrypt.new_data_key()
    body = _encrypt(plain, key)
    assert size < 8 or plain not in body
    assert len(body) == filecrypt.encrypted_size(size, SMALL)
    assert _decrypt(body, key, size) == plain


def test_default_chunk_size_round_trip_of_a_large_file():
    plain = os.urandom(3 * filecrypt.CHUNK_SIZE + 5)
    key = filecrypt.new_data_key()
    body = _encrypt(plain, key, filecrypt.CHUNK_SIZE)
    assert b"".join(filecrypt.decrypt_all(_opener(body), key, len(plain))) == plain


@pytest.mark.parametrize(
    ("start", "end"), [(0, 0), (5, 40), (16, 31), (15, 16), (99, 99), (0, 99)]
)
def test_ranges_decrypt_only_the_asked_bytes(start, end):
    plain = bytes(range(100))
    key = filecrypt.new_data_key()
    body = _encrypt(plain, key)
    assert _decrypt(body, key, 100, start, end) == plain[start : end + 1]


def test_a_flipped_byte_in_any_chunk_is_refused():
    plain = b"TOP SECRET " * 10
    key = filecrypt.new_data_key()
    body = _encrypt(plain, key)
    for position in range(filecrypt.HEADER_SIZE, len(body), 7):
        altered = bytearray(body)
        altered[position] ^= 0x01
        with pytest.raises(filecrypt.DecryptionError):
            _decrypt(bytes(altered), key, len(plain))


def test_truncation_reordering_and_appending_are_refused():
    plain = bytes(range(64))  # four chunks of 16
    key = filecrypt.new_data_key()
    body = _encrypt(plain, key)
    record = filecrypt.NONCE_SIZE + SMALL + filecrypt.TAG_SIZE
    head, chunks = body[: filecrypt.HEADER_SIZE], body[filecrypt.HEADER_SIZE :]
    parts = [chunks[i : i + record] for i in range(0, len(chunks), record)]
    truncated = head + b"".join(parts[:3])
    swapped = head + parts[1] + parts[0] + parts[2] + parts[3]
    appended = body + b"x"
    for altered in (truncated, swapped, appended):
        with pytest.raises(filecrypt.DecryptionError):
            _decrypt(altered, key, 64)
    # a body cut to three chunks does not pass as a 48-byte file either
    with pytest.raises(filecrypt.DecryptionError):
        _decrypt(truncated, key, 48)


def test_the_wrong_data_key_is_refused():
    body = _encrypt(b"TOP SECRET", filecrypt.new_data_key())
    with pytest.raises(filecrypt.DecryptionError):
        _decrypt(body, filecrypt.new_data_key(), 10)


def test_plaintext_is_not_mistaken_for_a_body():
    with pytest.raises(filecrypt.DecryptionError, match="not an encrypted body"):
        _decrypt(b"TOP SECRET plain file", filecrypt.new_data_key(), 21)


def test_the_first_key_wraps_and_every_key_unwraps():
    old = parse_keys(K1, source="test")
    new = parse_keys(f"{K2},{K1}", source="test")
    data_key = filecrypt.new_data_key()
    key_id, wrapped = filecrypt.wrap_data_key(old, data_key)
    assert key_id == "k1"
    assert filecrypt.unwrap_data_key(new, key_id, wrapped) == data_key
    assert filecrypt.wrap_data_key(new, data_key)[0] == "k2"


def test_an_unknown_key_id_or_a_wrong_key_is_a_clear_error():
    ring = parse_keys(K1, source="test")
    key_id, wrapped = filecrypt.wrap_data_key(ring, filecrypt.new_data_key())
    with pytest.raises(KeyRingError, match="'k1' is not in the key ring"):
        filecrypt.unwrap_data_key(parse_keys(K2, source="test"), key_id, wrapped)
    impostor = parse_keys("k1:" + base64.b64encode(b"9" * 32).decode(), source="t")
    with pytest.raises(KeyRingError, match="wrong key or altered data"):
        filecrypt.unwrap_data_key(impostor, key_id, wrapped)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no key"),
        ("nocolon", "'id:base64key'"),
        ("k1:!!!", "not valid base64"),
        ("k1:c2hvcnQ=", "must be 32 bytes"),
        (f"{K1},{K1}", "repeats"),
    ],
)
def test_malformed_key_lists_are_refused(text, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_keys(text, source="ATTACHMENT_ENCRYPTION_KEYS")


def test_a_key_file_is_read_with_comments(tmp_path, settings):
    path = tmp_path / "keys"
    path.write_text(f"# rotated 2026\n{K2}\n{K1}\n")
    settings.ATTACHMENT_ENCRYPTION_KEYS = ""
    settings.ATTACHMENT_ENCRYPTION_KEY_FILE = str(path)
    ring = keyring.keyring()
    assert [key_id for key_id, _ in ring.keys] == ["k2", "k1"]


def test_dev_generates_a_key_file_outside_the_repository_and_says_so(
    tmp_path, settings, monkeypatch, caplog
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings.ATTACHMENT_ENCRYPTION_KEYS = ""
    settings.ATTACHMENT_ENCRYPTION_KEY_FILE = ""
    settings.ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE = True
    keyring._cache.clear()
    with caplog.at_level(logging.WARNING, logger="portal.keyring"):
        ring = keyring.keyring()
    path = tmp_path / "support-portal" / "attachment-keys"
    assert path.exists()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert ring.current_id == "dev1"
    assert f"generated a development key file at {path}" in caplog.text
    keyring._cache.clear()
    assert keyring.keyring() == ring  # the same file is reused, not replaced
    keyring._cache.clear()


def test_without_keys_outside_dev_nothing_is_generated(settings):
    settings.ATTACHMENT_ENCRYPTION_KEYS = ""
    settings.ATTACHMENT_ENCRYPTION_KEY_FILE = ""
    settings.ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE = False
    with pytest.raises(KeyRingError, match="No attachment encryption key"):
        keyring.keyring()


# --- the copy-free writers and the on-disk format they must keep --------------------


def _v1_body_by_hand(plain: bytes, key: bytes, chunk_size: int) -> bytes:
    """The documented version-1 layout, written without filecrypt's writer: bodies
    stored before the writer changed must keep opening."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header = b"PTAE" + bytes([1]) + chunk_size.to_bytes(4, "big")
    pieces = [plain[i : i + chunk_size] for i in range(0, len(plain), chunk_size)]
    pieces = pieces or [b""]
    body = [header]
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        nonce = os.urandom(12)
        aad = header + index.to_bytes(8, "big") + bytes([1 if last else 0])
        body.append(nonce + AESGCM(key).encrypt(nonce, piece, aad))
    return b"".join(body)


@pytest.mark.parametrize("size", [0, 1, 16, 17, 100])
def test_a_version_1_body_written_by_hand_still_decrypts(size):
    plain = os.urandom(size)
    key = filecrypt.new_data_key()
    body = _v1_body_by_hand(plain, key, SMALL)
    assert len(body) == filecrypt.encrypted_size(size, SMALL)
    assert b"".join(filecrypt.decrypt_all(_opener(body), key, size)) == plain
    # and the writer still produces that layout: same size, same header
    ours = _encrypt(plain, key)
    assert len(ours) == len(body)
    assert ours[: filecrypt.HEADER_SIZE] == body[: filecrypt.HEADER_SIZE]


@pytest.mark.parametrize("piece", [1, 5, 12, 16, 28, 29, 1000])
def test_reading_the_ciphertext_in_any_piece_size_gives_a_whole_body(piece):
    plain = os.urandom(100)
    key = filecrypt.new_data_key()
    reader = filecrypt.EncryptingReader(io.BytesIO(plain), key, len(plain), SMALL)
    parts = []
    while part := reader.read(piece):
        assert len(part) <= piece
        parts.append(part)
    body = b"".join(parts)
    assert len(body) == reader.size == filecrypt.encrypted_size(100, SMALL)
    assert all(len(part) == piece for part in parts[:-1])
    assert reader.read(piece) == b""
    assert reader.read() == b""
    assert _decrypt(body, key, 100) == plain


def test_encrypted_file_chunks_are_whole_records_and_decrypt():
    plain = os.urandom(3 * filecrypt.CHUNK_SIZE + 5)
    key = filecrypt.new_data_key()
    reader = filecrypt.EncryptingReader(io.BytesIO(plain), key, len(plain))
    content = filecrypt.EncryptedFile(reader, name="x.bin")
    assert content.size == filecrypt.encrypted_size(len(plain))
    assert content.multiple_chunks()
    chunks = list(content.chunks())
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert max(len(chunk) for chunk in chunks) == filecrypt.CHUNK_SIZE + 16
    body = b"".join(chunks)
    assert len(body) == content.size
    assert plain[:64] not in body
    assert b"".join(filecrypt.decrypt_all(_opener(body), key, len(plain))) == plain


def test_a_partly_read_body_continues_in_chunks_without_a_gap():
    plain = os.urandom(100)
    key = filecrypt.new_data_key()
    reader = filecrypt.EncryptingReader(io.BytesIO(plain), key, len(plain), SMALL)
    head = reader.read(11)
    body = head + b"".join(filecrypt.EncryptedFile(reader).chunks())
    assert _decrypt(body, key, 100) == plain


def test_a_flipped_byte_in_a_copy_free_body_is_still_refused():
    plain = b"TOP SECRET " * 10
    key = filecrypt.new_data_key()
    reader = filecrypt.EncryptingReader(io.BytesIO(plain), key, len(plain), SMALL)
    body = bytearray(b"".join(filecrypt.EncryptedFile(reader).chunks()))
    body[filecrypt.HEADER_SIZE + 3] ^= 0x01  # inside the first nonce
    with pytest.raises(filecrypt.DecryptionError, match="Chunk 0"):
        _decrypt(bytes(body), key, len(plain))


def test_a_key_file_is_parsed_once_and_read_again_when_it_changes(tmp_path, settings):
    path = tmp_path / "keys"
    path.write_text(f"{K1}\n")
    settings.ATTACHMENT_ENCRYPTION_KEYS = ""
    settings.ATTACHMENT_ENCRYPTION_KEY_FILE = str(path)
    first = keyring.keyring()
    assert first.current_id == "k1"
    assert keyring.keyring() is first  # unchanged file: no second read and parse
    path.write_text(f"# rotated\n{K2}\n{K1}\n")  # a rotation, edited in place
    rotated = keyring.keyring()
    assert [key_id for key_id, _ in rotated.keys] == ["k2", "k1"]
    path.unlink()
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        keyring.keyring()
    path.write_text("k1:c2hvcnQ=\n")
    with pytest.raises(ImproperlyConfigured, match="must be 32 bytes"):
        keyring.keyring()


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        filecrypt.CHUNK_SIZE - 1,
        filecrypt.CHUNK_SIZE,
        filecrypt.CHUNK_SIZE + 1,
        3 * filecrypt.CHUNK_SIZE,
        1_000_000,
    ],
)
def test_a_body_pushed_in_pieces_is_the_same_format(size):
    """StreamEncryptor (the upload handler's) writes what decrypt_all reads back, for
    every chunk boundary; a flipped byte is still refused."""
    import io
    import os

    data = os.urandom(size)
    key = filecrypt.new_data_key()
    out = io.BytesIO()
    encryptor = filecrypt.StreamEncryptor(key, out.write)
    for offset in range(0, size, 65536):
        encryptor.update(data[offset : offset + 65536])
    encryptor.finish()
    body = out.getvalue()
    assert len(body) == filecrypt.encrypted_size(size)
    assert (
        b"".join(filecrypt.decrypt_all(lambda o: io.BytesIO(body[o:]), key, size))
        == data
    )
    altered = bytearray(body)
    altered[-1] ^= 1
    with pytest.raises(filecrypt.DecryptionError):
        b"".join(
            filecrypt.decrypt_all(lambda o: io.BytesIO(bytes(altered[o:])), key, size)
        )
