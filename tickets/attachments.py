"""Upload checks and storage for ticket attachments.

A file is accepted by what its bytes are (magic numbers via ``filetype``), not by its
name: the detected type must be on the allowlist and the name's extension must agree
with it. Plain text is accepted when the bytes decode as UTF-8 without NULs and the name
ends in .txt/.log/.csv/.md. Names are reduced to a safe single file name.

``validate_upload`` never writes anything. Services validate every file first, then
store them; ``stored_files`` lets the service wrapper delete stored files when the
transaction fails, so a refused upload leaves no row and no file behind. A storage that
cannot be written (S3 unreachable, disk full) is reported as a ``ValidationError`` with
a clear message, so the whole service call rolls back and no ticket is half-created.

Bodies are stored encrypted (``portal.filecrypt``: a random data key per file, wrapped
by the key ring's current key and kept on the row) unless ``ATTACHMENT_ENCRYPTION`` is
off. ``read_range`` is the one way back to the plaintext: it refuses, with
``AttachmentUnreadable`` and a security event, any body that does not authenticate.

Over 400 lines until split: encryption at rest and ranged reads are due to move to
tickets/attachment_crypto.py, leaving upload checks and storage here.
"""

import codecs
import contextvars
import hashlib
import logging
import os
import unicodedata
from contextlib import contextmanager

import filetype
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from portal import filecrypt
from portal.keyring import KeyRingError, encryption_enabled, keyring

from .errors import TicketError, TicketErrorCode
from .storage import attachment_backend, open_at

logger = logging.getLogger(__name__)


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What a storage backend raises when it cannot write: the file system's OSError and,
    when S3 is in use, botocore's connection and service errors."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore comes with django-storages[s3]
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


STORAGE_ERRORS = _storage_errors()

# detected kind → (content type, extensions a name may use for it)
ALLOWED_TYPES = {
    "png": ("image/png", {"png"}),
    "jpg": ("image/jpeg", {"jpg", "jpeg"}),
    "gif": ("image/gif", {"gif"}),
    "webp": ("image/webp", {"webp"}),
    "pdf": ("application/pdf", {"pdf"}),
    "zip": ("application/zip", {"zip"}),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        {"docx"},
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        {"xlsx"},
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        {"pptx"},
    ),
    "odt": ("application/vnd.oasis.opendocument.text", {"odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {"ods"}),
}
TEXT_TYPES = {
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
}
MAX_NAME_LENGTH = 150
_SNIFF_BYTES = 8192


def clean_filename(name) -> str:
    """A single, printable, NFC file name of at most ``MAX_NAME_LENGTH`` characters.

    Names with folder parts are refused rather than trimmed: a client that sends one is
    not a browser uploading a file.
    """
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    if "/" in name or "\\" in name or name in (".", ".."):
        raise TicketError(
            _("File names cannot contain folders (“/” or “\\”)."),
            code=TicketErrorCode.FILE_NAME_HAS_FOLDERS,
        )
    # Control, format (bidi overrides, zero-width) and separator characters go.
    name = "".join(
        ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    name = " ".join(name.split()).strip(" .")
    if not name:
        raise TicketError(
            _("The file needs a name."), code=TicketErrorCode.FILE_NAME_MISSING
        )
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        name = stem[: MAX_NAME_LENGTH - len(ext)].rstrip(" .") + ext
    return name


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower().lstrip(".")


def _read(file):
    """(size, sha256, first bytes, whether the bytes are UTF-8 text without NULs).

    One pass in the file's chunks: memory stays at a chunk whatever the size (the text
    check decodes incrementally instead of joining and decoding the whole file)."""
    limit = settings.TICKETS_ATTACHMENT_MAX_BYTES
    summary = getattr(file, "plain_summary", None)  # uploads.EncryptedUploadedFile
    if summary is not None:
        if summary[0] > limit:
            raise _too_large(file, limit)
        return summary
    if not isinstance(file, File):
        file = File(file, name=getattr(file, "name", None))
    digest = hashlib.sha256()
    size = 0
    head = b""
    decoder = codecs.getincrementaldecoder("utf-8")()
    text = True
    if hasattr(file, "seek"):
        file.seek(0)
    for chunk in file.chunks():
        size += len(chunk)
        if size > limit:
            raise _too_large(file, limit)
        digest.update(chunk)
        if len(head) < _SNIFF_BYTES:
            head += chunk[: _SNIFF_BYTES - len(head)]
        text = text and _is_text(decoder, chunk)
    text = text and _is_text(decoder, b"", final=True)
    if hasattr(file, "seek"):
        file.seek(0)
    return size, digest.hexdigest(), head, text


def _too_large(file, limit) -> TicketError:
    return TicketError(
        _("“%(name)s” is larger than the limit of %(limit)s.")
        % {"name": getattr(file, "name", "file"), "limit": filesizeformat(limit)},
        code=TicketErrorCode.ATTACHMENT_TOO_LARGE,
    )


def _is_text(decoder, chunk: bytes, final: bool = False) -> bool:
    if b"\x00" in chunk:
        return False
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def validate_upload(file) -> tuple[str, str, int, str]:
    """Check one upload; return ``(clean_name, content_type, size, sha256)``.

    Raises ``ValidationError`` with a message naming the file when it is empty, too large
    (``TICKETS_ATTACHMENT_MAX_BYTES``, read at call time), of a type not accepted, or named
    with an extension that does not match its content.
    """
    name = clean_filename(getattr(file, "name", ""))
    size, sha256, head, text = _read(file)
    if size == 0:
        raise TicketError(
            _("“%(name)s” is empty.") % {"name": name},
            code=TicketErrorCode.ATTACHMENT_EMPTY,
        )
    extension = _extension(name)
    kind = filetype.guess(head)
    if kind is None:
        if extension in TEXT_TYPES and text:
            return name, TEXT_TYPES[extension], size, sha256
        raise TicketError(
            _("“%(name)s”: this type of file is not accepted.") % {"name": name},
            code=TicketErrorCode.ATTACHMENT_TYPE_REFUSED,
        )
    if kind.extension not in ALLOWED_TYPES:
        raise TicketError(
            _("“%(name)s”: this type of file (%(mime)s) is not accepted.")
            % {"name": name, "mime": kind.mime},
            code=TicketErrorCode.ATTACHMENT_TYPE_REFUSED,
        )
    content_type, extensions = ALLOWED_TYPES[kind.extension]
    if extension not in extensions:
        raise TicketError(
            _(
                "“%(name)s” does not look like a .%(extension)s file: its content is %(mime)s."
            )
            % {
                "name": name,
                "extension": extension or _("(no extension)"),
                "mime": kind.mime,
            },
            code=TicketErrorCode.ATTACHMENT_EXTENSION_MISMATCH,
        )
    return name, content_type, size, sha256


def validate_uploads(files) -> list[tuple[object, tuple[str, str, int, str]]]:
    """Validate every file before anything is written; all or nothing."""
    files = [f for f in (files or ()) if f is not None]
    return [(f, validate_upload(f)) for f in files]


# --- clean-up of stored files when the service's transaction fails -------------------

_stored: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "tickets_stored_files", default=None
)


@contextmanager
def stored_files():
    """Collect names of files stored inside the block; delete them if it raises.

    Nested blocks share the outermost list, so only the outermost one cleans up.
    """
    if _stored.get() is not None:
        yield
        return
    names: list[str] = []
    token = _stored.set(names)
    try:
        yield
    except BaseException:
        backend = attachment_backend()
        for name in names:
            try:
                backend.delete(name)
            except Exception:  # noqa: S110 - best effort; the original error matters
                pass
        raise
    finally:
        _stored.reset(token)


def store(*, ticket, comment, validated, uploaded_by):
    """Write validated files and their rows. Call inside a service."""
    from .models import Attachment

    made = []
    for file, (name, content_type, size, sha256) in validated:
        attachment = Attachment(
            ticket=ticket,
            comment=comment,
            original_name=name,
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_by=uploaded_by,
        )
        if hasattr(file, "seek"):
            file.seek(0)
        if encryption_enabled():
            content = encrypted_content(attachment, file, size)
        else:
            content = file if isinstance(file, File) else File(file, name=name)
        try:
            attachment.file.save(name, content, save=False)
        except STORAGE_ERRORS as error:
            logger.error("Attachment storage failed: %r", error)
            raise TicketError(
                _(
                    "“%(name)s” could not be stored right now; nothing was saved. "
                    "Please try again in a few minutes."
                )
                % {"name": name},
                code=TicketErrorCode.ATTACHMENT_STORAGE_UNAVAILABLE,
            ) from error
        names = _stored.get()
        if names is not None:
            names.append(attachment.file.name)
        attachment.save()
        made.append(attachment)
    return made


# --- encryption at rest ----------------------------------------------------------------


class AttachmentUnreadable(Exception):
    """The stored body cannot be turned back into the uploaded bytes (altered,
    truncated, or its key is missing): nothing of it may be served."""


def encrypted_content(attachment, plaintext, size: int) -> File:
    """A file object yielding the encryption of ``plaintext``; sets the row's key id
    and wrapped data key (the caller saves the row).

    An upload already encrypted on receipt (``uploads.EncryptedUploadedFile``) brings
    its data key and ciphertext: no second pass."""
    if hasattr(plaintext, "sealed_body"):
        data_key, sealed = plaintext.sealed_body()
        attachment.encryption_key_id, attachment.wrapped_key = filecrypt.wrap_data_key(
            keyring(), data_key
        )
        return sealed
    data_key = filecrypt.new_data_key()
    attachment.encryption_key_id, attachment.wrapped_key = filecrypt.wrap_data_key(
        keyring(), data_key
    )
    reader = filecrypt.EncryptingReader(plaintext, data_key, size)
    return filecrypt.EncryptedFile(reader, name=attachment.original_name)


def _refuse(attachment, error, *, request=None, user=None):
    from accounts import events

    logger.error(
        "Attachment %s (%s) refused: %s", attachment.pk, attachment.file.name, error
    )
    events.record(
        events.Kind.ATTACHMENT_TAMPERED,
        user=user,
        request=request,
        attachment_id=attachment.pk,
        ticket_id=attachment.ticket_id,
        file=attachment.file.name,
        reason=str(error),
    )
    return AttachmentUnreadable(str(error))


def read_range(
    attachment, start: int = 0, end: int | None = None, *, request=None, user=None
):
    """Plaintext bytes ``start..end`` (inclusive) of the attachment, streamed.

    The first piece is decrypted before this returns, so a body that fails
    authentication at the start raises ``AttachmentUnreadable`` here, before any
    response begins; a failure further on stops the stream at the bad chunk (its bytes
    are never released). Either way a security event is recorded.
    """
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if end is None:
        end = attachment.size - 1
    if not attachment.encryption_key_id:
        return _plain_range(attachment, start, end)
    try:
        data_key = filecrypt.unwrap_data_key(
            keyring(), attachment.encryption_key_id, attachment.wrapped_key
        )
        pieces = filecrypt.decrypt_range(
            lambda offset: open_at(attachment.file.name, offset),
            data_key,
            attachment.size,
            start,
            end,
        )
        first = next(pieces, b"")
    except (filecrypt.DecryptionError, KeyRingError) as error:
        raise _refuse(attachment, error, request=request, user=user) from error

    def stream():
        yield first
        try:
            yield from pieces
        except filecrypt.DecryptionError as error:
            raise _refuse(attachment, error, request=request, user=user) from error

    return stream()


def _plain_range(attachment, start: int, end: int):
    handle = open_at(attachment.file.name, start)
    remaining = end - start + 1

    def stream():
        nonlocal remaining
        try:
            while remaining > 0:
                piece = handle.read(min(remaining, filecrypt.CHUNK_SIZE))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece
        finally:
            handle.close()

    return stream()


class _Hashing:
    """Passes reads through, keeping the SHA-256 and length of what went by."""

    def __init__(self, stream):
        self._stream = stream
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size=-1):
        data = self._stream.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data


def encrypt_existing(attachment) -> bool:
    """Replace a plaintext body by its encryption; ``False`` when already encrypted.

    The ciphertext goes to a new name first; the row then points at it (in a
    transaction that re-checks the row), and only then is the plaintext deleted, so an
    interrupted run leaves every row readable and a second run carries on. The body must
    still match the row's size and SHA-256, or nothing changes.
    """
    from .models import Attachment

    if attachment.encryption_key_id:
        return False
    backend = attachment_backend()
    old_name = attachment.file.name
    data_key = filecrypt.new_data_key()
    key_id, wrapped = filecrypt.wrap_data_key(keyring(), data_key)
    folder, base = os.path.split(old_name)
    target = backend.get_available_name(os.path.join(folder, "enc-" + base))
    with backend.open(old_name, "rb") as handle:
        hashing = _Hashing(handle)
        reader = filecrypt.EncryptingReader(hashing, data_key, attachment.size)
        new_name = backend.save(target, filecrypt.EncryptedFile(reader, name=base))
    if (
        hashing.count != attachment.size
        or hashing.digest.hexdigest() != attachment.sha256
    ):
        backend.delete(new_name)
        raise AttachmentUnreadable(
            f"{old_name}: the stored bytes do not match the recorded size and SHA-256; "
            "left as it is."
        )
    with transaction.atomic():
        row = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if row.encryption_key_id or row.file.name != old_name:
            backend.delete(new_name)
            return False
        Attachment.objects.filter(pk=row.pk).update(
            file=new_name, encryption_key_id=key_id, wrapped_key=wrapped
        )
    backend.delete(old_name)
    attachment.file.name = new_name
    attachment.encryption_key_id, attachment.wrapped_key = key_id, wrapped
    return True


def rewrap_key(attachment, ring=None) -> bool:
    """Re-wrap the data key under the ring's current key (the body is not touched);
    ``False`` when the file is plaintext or already under the current key."""
    from .models import Attachment

    ring = ring or keyring()
    if (
        not attachment.encryption_key_id
        or attachment.encryption_key_id == ring.current_id
    ):
        return False
    data_key = filecrypt.unwrap_data_key(
        ring, attachment.encryption_key_id, attachment.wrapped_key
    )
    key_id, wrapped = filecrypt.wrap_data_key(ring, data_key)
    changed = Attachment.objects.filter(
        pk=attachment.pk,
        encryption_key_id=attachment.encryption_key_id,
        wrapped_key=attachment.wrapped_key,
    ).update(encryption_key_id=key_id, wrapped_key=wrapped)
    return bool(changed)
