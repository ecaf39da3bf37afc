"""Attachments encrypted while they are received: no plaintext byte reaches the disk.

Django keeps an upload in memory up to ``FILE_UPLOAD_MAX_MEMORY_SIZE`` and writes a
larger one, in plaintext, to a temporary file before the view runs. For the views that
accept ticket attachments (marked with ``@encrypts_uploads``) and while encryption at
rest is on, ``EncryptingUploadHandler`` (first in ``FILE_UPLOAD_HANDLERS``) takes every
file instead: each chunk goes through the SHA-256, the type sniffing and the UTF-8 check
that ``attachments.validate_upload`` needs, then into ``filecrypt.StreamEncryptor``,
whose ciphertext goes to a temporary file (in memory for a small request). Storing the
attachment is then a move of that file (a stream of it to S3) under the data key chosen
here, not a second encryption pass. Other views (images, imports) keep Django's handlers.

The resulting ``EncryptedUploadedFile`` still reads as the plaintext (decrypted from the
temporary file on demand) for any code that reads it like an ordinary upload.
"""

import codecs
import hashlib
import io
import os
import tempfile
from functools import wraps

from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.urls import Resolver404, get_resolver

from portal import filecrypt
from portal.keyring import encryption_enabled

SNIFF_BYTES = 8192


def encrypts_uploads(view):
    """Mark a view whose uploaded files are ticket attachments (encrypted on receipt)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    wrapper.encrypts_uploads = True
    return wrapper


def _view_encrypts(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:  # POST read by a middleware before the URL was resolved
        try:
            match = get_resolver(getattr(request, "urlconf", None)).resolve(
                request.path_info
            )
        except Resolver404:
            return False
    return bool(getattr(match.func, "encrypts_uploads", False))


class _Window:
    """A stream over ``handle`` from its current position whose ``close`` leaves the
    handle open (``decrypt_range`` closes what it is given)."""

    def __init__(self, handle):
        self._handle = handle
        self.readinto = getattr(handle, "readinto", None) or self._readinto
        self.read = handle.read

    def _readinto(self, buffer):  # pragma: no cover - BytesIO and files have it
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        pass


class _PlainReader:
    """Read-only, seekable plaintext view of a ciphertext handle (decrypts on read)."""

    def __init__(self, upload):
        self._upload = upload
        self._pos = 0
        self._pieces = None
        self._left = b""
        self.closed = False

    def _open_at(self, offset):
        handle = self._upload.ciphertext
        handle.seek(offset)
        return _Window(handle)

    def seek(self, pos, whence=os.SEEK_SET):
        if whence == os.SEEK_CUR:
            pos += self._pos
        elif whence == os.SEEK_END:
            pos += self._upload.size
        self._pos = max(0, min(pos, self._upload.size))
        self._pieces, self._left = None, b""
        return self._pos

    def tell(self):
        return self._pos

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, size=-1):
        upload = self._upload
        if size is None or size < 0:
            size = upload.size - self._pos
        parts = []
        while size > 0 and self._pos < upload.size:
            if not self._left:
                if self._pieces is None:
                    self._pieces = filecrypt.decrypt_range(
                        self._open_at, upload.data_key, upload.size, self._pos
                    )
                self._left = next(self._pieces, b"")
                if not self._left:
                    break
            piece, self._left = self._left[:size], self._left[size:]
            parts.append(piece)
            size -= len(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def close(self):
        self.closed = True
        self._upload.close_ciphertext()


class _Ciphertext(File):
    """The sealed body handed to the storage (the upload owns the handle)."""

    def close(self):
        pass


class _CiphertextOnDisk(_Ciphertext):
    """With ``temporary_file_path``, ``FileSystemStorage`` moves the file instead of
    copying it."""

    def __init__(self, handle, name, path):
        super().__init__(handle, name=name)
        self._path = path

    def temporary_file_path(self):
        return self._path


class EncryptedUploadedFile(UploadedFile):
    """An upload whose bytes exist only as ciphertext (``self.ciphertext``).

    ``plain_summary`` is ``(size, sha256 hex, first bytes, is UTF-8 text)`` of the
    plaintext, computed on receipt; ``sealed_body()`` gives the data key and the
    ciphertext to store. Reading it (``read``, ``chunks``) yields the plaintext.
    """

    def __init__(self, name, content_type, charset, content_type_extra, in_memory):
        if in_memory:
            self.ciphertext = io.BytesIO()
            self._path = None
        else:
            self.ciphertext = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed with the upload
                suffix=".upload.enc", dir=settings.FILE_UPLOAD_TEMP_DIR
            )
            self._path = self.ciphertext.name
        self.data_key = filecrypt.new_data_key()
        self._encryptor = filecrypt.StreamEncryptor(
            self.data_key, self.ciphertext.write
        )
        self._digest = hashlib.sha256()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = True
        self._head = bytearray()
        self._moved = False
        self.too_large = False
        super().__init__(
            _PlainReader(self), name, content_type, 0, charset, content_type_extra
        )

    def receive(self, data) -> None:
        self.size += len(data)
        if self.size > settings.TICKETS_ATTACHMENT_MAX_BYTES:
            # validation refuses it by its size: no need to keep or seal the rest
            self.too_large = True
            return
        self._digest.update(data)
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
        if self._text:
            from .attachments import _is_text

            self._text = _is_text(self._decoder, data)
        self._encryptor.update(data)

    def complete(self) -> None:
        if self._text:
            from .attachments import _is_text

            self._text = _is_text(self._decoder, b"", final=True)
        if not self.too_large:
            self._encryptor.finish()
        self.ciphertext.flush()
        self.ciphertext.seek(0)

    @property
    def plain_summary(self):
        return self.size, self._digest.hexdigest(), bytes(self._head), self._text

    def sealed_body(self) -> tuple[bytes, File]:
        """``(data key, ciphertext File)``; the first call on disk may move the file
        (its open handle keeps the bytes readable afterwards)."""
        if self.too_large or not self._encryptor.finished:
            raise ValueError("This upload was not received completely.")
        self.ciphertext.seek(0)
        if self._path is None or self._moved:
            return self.data_key, _Ciphertext(self.ciphertext, name=self.name)
        self._moved = True
        return self.data_key, _CiphertextOnDisk(self.ciphertext, self.name, self._path)

    def close_ciphertext(self) -> None:
        try:
            self.ciphertext.close()
        except FileNotFoundError:
            pass  # moved into the storage: nothing left to delete


class EncryptingUploadHandler(FileUploadHandler):
    """Takes every file of a request to an ``@encrypts_uploads`` view while
    encryption is on; otherwise passes everything on to Django's handlers."""

    active = False
    in_memory = False

    def handle_raw_input(
        self, input_data, META, content_length, boundary, encoding=None
    ):
        self.active = encryption_enabled() and _view_encrypts(self.request)
        self.in_memory = content_length <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.active:
            self.file = EncryptedUploadedFile(
                self.file_name,
                self.content_type,
                self.charset,
                self.content_type_extra,
                self.in_memory,
            )
            raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if not self.active:
            return raw_data
        self.file.receive(raw_data)
        return None

    def upload_interrupted(self):
        if self.active and getattr(self, "file", None) is not None:
            self.file.close()

    def file_complete(self, file_size):
        if not self.active:
            return None
        self.file.complete()
        return self.file
