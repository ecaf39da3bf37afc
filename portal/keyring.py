"""The master keys that protect data at rest (attachments, stored secrets).

A key ring is an ordered list of ``(key id, 32-byte AES key)``: the first key wraps new
data keys, every key can unwrap. Keys come from the environment, read at call time:

- ``ATTACHMENT_ENCRYPTION_KEYS``: ``"id:base64key,id2:base64key"``;
- or ``ATTACHMENT_ENCRYPTION_KEY_FILE``: a file with one ``id:base64key`` per line
  (``#`` comments allowed), first line first;
- in development only (``ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE``), when neither is set,
  a key file is generated under ``$XDG_DATA_HOME/support-portal/attachment-keys``
  (outside the repository) and a warning says where.

Production settings refuse to start without keys unless ``ATTACHMENT_ENCRYPTION=off``.
Rotation: put a new key first, keep the old ones after it, run
``manage.py rotate_attachment_keys``, then drop the old keys.
"""

import base64
import binascii
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

KEY_BYTES = 32
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class KeyRingError(Exception):
    """A key is missing, unknown or does not open what it should: never plaintext."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes:
        for candidate, key in self.keys:
            if candidate == key_id:
                return key
        raise KeyRingError(
            f"The key {key_id!r} is not in the key ring "
            "(ATTACHMENT_ENCRYPTION_KEYS / ATTACHMENT_ENCRYPTION_KEY_FILE)."
        )

    def wrap(self, secret: bytes, *, purpose: bytes) -> tuple[str, bytes]:
        """Encrypt a small secret (a data key) under the current key:
        ``(key id, nonce + ciphertext + tag)``. ``purpose`` is bound as AAD."""
        key_id, key = self.keys[0]
        nonce = os.urandom(12)
        aad = purpose + b"|" + key_id.encode()
        return key_id, nonce + AESGCM(key).encrypt(nonce, secret, aad)

    def unwrap(self, key_id: str, wrapped: bytes, *, purpose: bytes) -> bytes:
        key = self.key(key_id)
        aad = purpose + b"|" + key_id.encode()
        try:
            return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], aad)
        except (InvalidTag, ValueError) as error:
            raise KeyRingError(
                f"The wrapped key does not open with key {key_id!r}: "
                "wrong key or altered data."
            ) from error


def generate_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_keys(text: str, *, source: str) -> KeyRing:
    """``"id:b64,id2:b64"`` (commas or new lines) → KeyRing; a clear error otherwise."""
    keys: list[tuple[str, bytes]] = []
    entries = [
        entry.strip()
        for line in (text or "").splitlines()
        if not line.strip().startswith("#")
        for entry in line.split(",")
    ]
    for line in entries:
        if not line:
            continue
        key_id, sep, encoded = line.partition(":")
        key_id = key_id.strip()
        if not sep or not _ID.match(key_id):
            raise ImproperlyConfigured(
                f"{source}: each key must be written as 'id:base64key' with an id of "
                "letters, digits, '.', '_' or '-'."
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                f"{source}: the key {key_id!r} is not valid base64."
            ) from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"{source}: the key {key_id!r} must be {KEY_BYTES} bytes "
                f"(base64 of 32 random bytes), not {len(key)}."
            )
        if any(key_id == known for known, _ in keys):
            raise ImproperlyConfigured(f"{source}: the key id {key_id!r} repeats.")
        keys.append((key_id, key))
    if not keys:
        raise ImproperlyConfigured(f"{source} holds no key.")
    return KeyRing(tuple(keys))


def default_key_file() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "support-portal" / "attachment-keys"


def _generate_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = "dev1"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# Development key ring for attachments (generated; keep it, or the files\n"
            "# encrypted with it cannot be read). One 'id:base64key' per line.\n"
            f"{key_id}:{generate_key()}\n"
        )
    logger.warning(
        "No ATTACHMENT_ENCRYPTION_KEYS: generated a development key file at %s", path
    )


_cache: dict[tuple, KeyRing] = {}
_file_cache: dict[tuple, tuple[tuple, KeyRing]] = {}


def encryption_enabled() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "ATTACHMENT_ENCRYPTION", True))


def keyring() -> KeyRing:
    """The key ring from settings (read at call time, cached per configuration)."""
    from django.conf import settings

    text = getattr(settings, "ATTACHMENT_ENCRYPTION_KEYS", "") or ""
    key_file = getattr(settings, "ATTACHMENT_ENCRYPTION_KEY_FILE", "") or ""
    generate = getattr(settings, "ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE", False)
    cache_key = (text, key_file, generate)
    if cache_key in _cache:
        return _cache[cache_key]
    if text.strip():
        ring = parse_keys(text, source="ATTACHMENT_ENCRYPTION_KEYS")
    else:
        path = Path(key_file) if key_file else None
        if path is None and generate:
            path = default_key_file()
            if not path.exists():
                _generate_key_file(path)
        if path is None:
            raise KeyRingError(
                "No attachment encryption key: set ATTACHMENT_ENCRYPTION_KEYS or "
                "ATTACHMENT_ENCRYPTION_KEY_FILE (or ATTACHMENT_ENCRYPTION=off)."
            )
        try:
            # a key file may change on disk: its ring is kept only while the file's
            # identity, size and modification time stay the same (one stat per call,
            # not a read and parse per download)
            info = path.stat()
            stamp = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
            if _file_cache.get(cache_key, (None,))[0] == stamp:
                return _file_cache[cache_key][1]
            content = path.read_text()
        except OSError as error:
            raise ImproperlyConfigured(
                f"ATTACHMENT_ENCRYPTION_KEY_FILE {path} cannot be read: {error}"
            ) from error
        ring = parse_keys(content, source=f"ATTACHMENT_ENCRYPTION_KEY_FILE {path}")
        _file_cache[cache_key] = (stamp, ring)
        return ring
    _cache[cache_key] = ring
    return ring


def check_production_settings(*, enabled: bool, keys: str, key_file: str) -> None:
    """Called by production settings: refuse to start without usable keys."""
    if not enabled:
        return
    if keys.strip():
        parse_keys(keys, source="ATTACHMENT_ENCRYPTION_KEYS")
        return
    if key_file:
        try:
            content = Path(key_file).read_text()
        except OSError as error:
            raise ImproperlyConfigured(
                f"ATTACHMENT_ENCRYPTION_KEY_FILE {key_file} cannot be read: {error}"
            ) from error
        parse_keys(content, source=f"ATTACHMENT_ENCRYPTION_KEY_FILE {key_file}")
        return
    raise ImproperlyConfigured(
        "The environment variable ATTACHMENT_ENCRYPTION_KEYS (or "
        "ATTACHMENT_ENCRYPTION_KEY_FILE) must be set, or ATTACHMENT_ENCRYPTION=off "
        "to store attachments unencrypted."
    )
