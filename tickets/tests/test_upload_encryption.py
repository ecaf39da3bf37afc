"""Attachments are encrypted while they are received: a file larger than
FILE_UPLOAD_MAX_MEMORY_SIZE (which Django would write in plaintext to a temporary file)
never leaves its bytes on disk, during or after the request, and reads back exactly."""

from pathlib import Path

import pytest
from django.core.files.uploadhandler import FileUploadHandler
from django.urls import reverse

from portal import filecrypt
from tickets.models import Attachment

MARKER = b"TOP SECRET MARKER"
# 3 MB of text: over FILE_UPLOAD_MAX_MEMORY_SIZE (2 MB), 12 encrypted chunks
BIG = b"".join(b"%s line %07d\n" % (MARKER, i) for i in range(3 * 1024 * 1024 // 31))

_watched: list[Path] = []
_seen: dict[str, list] = {"files": [], "leaks": []}


def _scan() -> None:
    for root in _watched:
        for path in root.rglob("*"):
            if path.is_file():
                _seen["files"].append(path.name)
                if MARKER in path.read_bytes():
                    _seen["leaks"].append(str(path))


class WatchingHandler(FileUploadHandler):
    """Looks at every file under the temporary and storage folders after each chunk
    and at the end of the upload; passes the data on untouched."""

    def receive_data_chunk(self, raw_data, start):
        _scan()
        return raw_data

    def file_complete(self, file_size):
        return None

    def upload_complete(self):
        _scan()


HANDLERS = [
    "tickets.tests.test_upload_encryption.WatchingHandler",
    "tickets.uploads.EncryptingUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]


@pytest.fixture
def watched(settings, tmp_path):
    temp = tmp_path / "upload-tmp"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    settings.FILE_UPLOAD_HANDLERS = HANDLERS
    storage = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    storage.mkdir(parents=True, exist_ok=True)
    _watched[:] = [temp, storage]
    _seen["files"].clear()
    _seen["leaks"].clear()
    yield temp, storage
    _watched.clear()


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _reply(client, ticket, content, name="log.txt"):
    return client.post(
        reverse("tickets:portal_reply", args=[ticket.reference]),
        {"body": "The full log.", "attachments": [_named(name, content)]},
    )


def _named(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_large_upload_is_only_ever_ciphertext_on_disk(watched, client, ticket, alice):
    temp, storage = watched
    client.force_login(alice)
    response = _reply(client, ticket, BIG)
    assert response.status_code == 302
    # during the request: the encrypted temporary file was there, and never the marker
    assert any(name.endswith(".upload.enc") for name in _seen["files"])
    assert _seen["leaks"] == []
    # after it: the temporary file was moved into the storage, which holds ciphertext
    assert _files(temp) == []
    [stored] = _files(storage)
    body = stored.read_bytes()
    assert MARKER not in body
    assert body.startswith(filecrypt.MAGIC)
    assert len(body) == filecrypt.encrypted_size(len(BIG))
    attachment = Attachment.objects.get()
    assert attachment.size == len(BIG)
    assert attachment.encryption_key_id == "test1"
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == BIG
    response = client.get(
        attachment.get_absolute_url(), headers={"Range": "bytes=2097150-2097170"}
    )
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == BIG[2097150:2097171]


def test_with_encryption_off_django_keeps_its_plaintext_temporary_file(
    watched, settings, client, ticket, alice
):
    """The twin: the handler steps aside, so the marker is seen on disk."""
    settings.ATTACHMENT_ENCRYPTION = False
    client.force_login(alice)
    assert _reply(client, ticket, BIG).status_code == 302
    assert _seen["leaks"]  # Django's TemporaryFileUploadHandler wrote the plaintext
    attachment = Attachment.objects.get()
    assert not attachment.encryption_key_id
    assert MARKER in _files(watched[1])[0].read_bytes()


def test_a_desk_comment_is_encrypted_on_receipt(watched, client, ticket, agent):
    client.force_login(agent)
    response = client.post(
        f"/admin/helpdesk/tickets/{ticket.reference}/comment/",
        {"body": "Trace attached.", "attachments": [_named("trace.txt", BIG)]},
    )
    assert response.status_code in (200, 302)
    assert any(name.endswith(".upload.enc") for name in _seen["files"])
    assert _seen["leaks"] == []
    attachment = Attachment.objects.get()
    assert attachment.encryption_key_id
    assert MARKER not in _files(watched[1])[0].read_bytes()
    response = client.get(attachment.get_absolute_url())
    assert b"".join(response.streaming_content) == BIG


def test_a_small_upload_stays_in_memory_and_is_stored_encrypted(
    watched, client, ticket, alice
):
    small = MARKER + b" short\n"
    client.force_login(alice)
    assert _reply(client, ticket, small, "short.txt").status_code == 302
    assert not any(name.endswith(".upload.enc") for name in _seen["files"])
    attachment = Attachment.objects.get()
    [stored] = _files(watched[1])
    assert MARKER not in stored.read_bytes()
    assert len(stored.read_bytes()) == filecrypt.encrypted_size(len(small))
    response = client.get(attachment.get_absolute_url())
    assert b"".join(response.streaming_content) == small


def test_a_tampered_upload_is_refused(watched, client, ticket, alice):
    client.force_login(alice)
    assert _reply(client, ticket, BIG).status_code == 302
    [stored] = _files(watched[1])
    body = bytearray(stored.read_bytes())
    body[filecrypt.HEADER_SIZE + 40] ^= 1
    stored.write_bytes(bytes(body))
    response = client.get(Attachment.objects.get().get_absolute_url())
    assert response.status_code == 500
    assert MARKER not in response.content


def test_a_refused_upload_leaves_nothing_on_disk(
    watched, settings, client, ticket, alice
):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1024 * 1024
    client.force_login(alice)
    response = _reply(client, ticket, BIG)
    assert response.status_code == 400
    assert "larger than the limit of 1.0\xa0MB" in response.content.decode()
    assert not Attachment.objects.exists()
    assert _seen["leaks"] == []
    assert _files(watched[0]) == []
    assert _files(watched[1]) == []
    # a wrong type is refused from the bytes seen on receipt
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    response = _reply(client, ticket, b"\x00\x01" * (1536 * 1024), "blob.txt")
    assert response.status_code == 400
    assert "this type of file is not accepted" in response.content.decode()
    assert not Attachment.objects.exists()
    assert _files(watched[0]) == []
