"""Where attachment files live.

``STORAGES["attachments"]`` is a private FileSystemStorage on a laptop and a private S3 bucket in
production. The FileField keeps this proxy, which looks the real backend up on every call, so
``override_settings(STORAGES=...)`` in tests and per-deployment settings take effect without
re-importing the models.
"""

from django.core.files.storage import Storage, storages
from django.utils.deconstruct import deconstructible


def attachment_backend() -> Storage:
    return storages["attachments"]


def _delegate(name):
    def method(self, *args, **kwargs):
        return getattr(attachment_backend(), name)(*args, **kwargs)

    method.__name__ = name
    return method


@deconstructible(path="tickets.storage.AttachmentStorage")
class AttachmentStorage(Storage):
    """A stand-in that forwards every storage call to ``storages["attachments"]``."""

    def __getattr__(self, name):
        return getattr(attachment_backend(), name)


for _name in (
    "open",
    "save",
    "get_valid_name",
    "get_alternative_name",
    "get_available_name",
    "generate_filename",
    "path",
    "delete",
    "exists",
    "listdir",
    "size",
    "url",
    "get_accessed_time",
    "get_created_time",
    "get_modified_time",
):
    setattr(AttachmentStorage, _name, _delegate(_name))


def attachment_storage() -> AttachmentStorage:
    """Callable given to ``FileField(storage=...)`` (kept stable for migrations)."""
    return AttachmentStorage()


def open_at(name: str, offset: int = 0):
    """A readable stream of the stored file ``name`` from byte ``offset``.

    On S3 this is one ranged GET (only the asked bytes travel); elsewhere the storage's
    own file, seeked. Used to stream encrypted bodies chunk by chunk.
    """
    backend = attachment_backend()
    connection = getattr(backend, "connection", None)
    if connection is not None and hasattr(backend, "bucket_name"):
        from storages.utils import clean_name

        key = backend._normalize_name(clean_name(name))
        response = connection.meta.client.get_object(
            Bucket=backend.bucket_name, Key=key, Range=f"bytes={offset}-"
        )
        return response["Body"]
    handle = backend.open(name, "rb")
    if offset:
        handle.seek(offset)
    return handle
