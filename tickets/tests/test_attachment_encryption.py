"""Attachments at rest: ciphertext in storage, exact bytes back through the
permission-checked view, ranges, and a refused (never served) body when it was altered
or its key is wrong."""

import base64
import hashlib
from pathlib import Path

import pytest

from accounts.models import SecurityEvent
from portal import filecrypt
from tickets import attachments, services
from tickets.models import Attachment

from .factories import make_customer, upload

SECRET = b"TOP SECRET: the launch date is 2027-01-05.\n"
# ~1 MB: four 256 KiB chunks
BIG = b"".join(b"TOP SECRET line %06d\n" % i for i in range(50000))


def _path(settings, attachment) -> Path:
    root = settings.STORAGES["attachments"]["OPTIONS"]["location"]
    return Path(root) / attachment.file.name


def _attach(ticket, alice, content=SECRET, name="plan.txt"):
    services.reply(alice, ticket, body="see", attachments=[upload(name, content)])
    return Attachment.objects.get(original_name=name)


def _get(client, attachment, **headers):
    return client.get(attachment.get_absolute_url(), headers=headers)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_top_secret_file_is_not_readable_in_storage(settings, ticket, alice):
    attachment = _attach(ticket, alice)
    stored = _path(settings, attachment).read_bytes()
    assert b"TOP SECRET" not in stored
    assert stored.startswith(filecrypt.MAGIC)
    assert len(stored) == filecrypt.encrypted_size(len(SECRET))
    assert attachment.encryption_key_id == "test1"
    assert attachment.wrapped_key
    assert attachment.sha256 == hashlib.sha256(SECRET).hexdigest()
    assert attachment.size == len(SECRET)


def test_download_returns_the_exact_bytes(client, ticket, alice):
    big = _attach(ticket, alice, BIG, "big.txt")
    small = _attach(ticket, alice)
    client.force_login(alice)
    for attachment, content in ((small, SECRET), (big, BIG)):
        response = _get(client, attachment)
        assert response.status_code == 200
        assert response["Content-Length"] == str(len(content))
        assert response["Accept-Ranges"] == "bytes"
        assert response["Cache-Control"] == "private, no-store"
        assert _body(response) == content


def test_a_denied_user_gets_404_even_with_a_range(client, ticket, alice):
    attachment = _attach(ticket, alice)
    client.force_login(make_customer())
    assert _get(client, attachment).status_code == 404
    assert _get(client, attachment, Range="bytes=0-3").status_code == 404
    client.logout()
    assert _get(client, attachment, Range="bytes=0-3").status_code == 404


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=262140-262150", 262140, 262150),  # across a chunk boundary
        ("bytes=200000-", 200000, len(BIG) - 1),
        ("bytes=-100", len(BIG) - 100, len(BIG) - 1),
        ("bytes=10-99999999", 10, len(BIG) - 1),
    ],
)
def test_a_single_range_is_answered_206(client, ticket, alice, header, start, end):
    attachment = _attach(ticket, alice, BIG, "big.txt")
    client.force_login(alice)
    response = _get(client, attachment, Range=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(BIG)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert _body(response) == BIG[start : end + 1]


def test_a_range_past_the_end_is_416_and_odd_ranges_get_the_whole_file(
    client, ticket, alice
):
    attachment = _attach(ticket, alice)
    client.force_login(alice)
    response = _get(client, attachment, Range=f"bytes={len(SECRET)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(SECRET)}"
    for header in ("bytes=0-1,5-6", "items=0-3", "bytes=9-2"):
        response = _get(client, attachment, Range=header)
        assert response.status_code == 200
        assert _body(response) == SECRET


def test_a_tampered_byte_is_refused_and_recorded(settings, client, ticket, alice):
    attachment = _attach(ticket, alice)
    path = _path(settings, attachment)
    stored = bytearray(path.read_bytes())
    stored[filecrypt.HEADER_SIZE + filecrypt.NONCE_SIZE + 3] ^= 0x20
    path.write_bytes(bytes(stored))
    client.force_login(alice)

    response = client.get(
        attachment.get_absolute_url(), HTTP_USER_AGENT="pytest", REMOTE_ADDR="10.0.0.7"
    )

    assert response.status_code == 500
    assert b"failed its integrity check" in response.content
    assert b"TOP" not in response.content and b"SECRET" not in response.content
    event = SecurityEvent.objects.get(kind="attachment_tampered")
    assert (event.user, event.ip, event.user_agent) == (alice, "10.0.0.7", "pytest")
    assert event.data["attachment_id"] == attachment.pk
    assert "Chunk 0 of the stored file failed authentication" in event.data["reason"]


def test_tampering_in_a_later_chunk_stops_the_stream_before_that_chunk(
    settings, client, ticket, alice
):
    attachment = _attach(ticket, alice, BIG, "big.txt")
    path = _path(settings, attachment)
    record = filecrypt.NONCE_SIZE + filecrypt.CHUNK_SIZE + filecrypt.TAG_SIZE
    stored = bytearray(path.read_bytes())
    stored[filecrypt.HEADER_SIZE + 2 * record + 100] ^= 0x01  # third chunk
    path.write_bytes(bytes(stored))
    client.force_login(alice)

    response = _get(client, attachment)
    served = b""
    with pytest.raises(attachments.AttachmentUnreadable):
        for piece in response.streaming_content:
            served += piece
    assert served == BIG[: 2 * filecrypt.CHUNK_SIZE]
    assert SecurityEvent.objects.filter(kind="attachment_tampered").count() == 1


def test_a_truncated_body_is_refused(settings, client, ticket, alice):
    attachment = _attach(ticket, alice)
    path = _path(settings, attachment)
    path.write_bytes(path.read_bytes()[:-1])
    client.force_login(alice)
    assert _get(client, attachment).status_code == 500


def test_the_wrong_key_is_refused_and_recorded(settings, client, ticket, alice):
    attachment = _attach(ticket, alice)
    client.force_login(alice)
    settings.ATTACHMENT_ENCRYPTION_KEYS = (
        "test1:" + base64.b64encode(b"w" * 32).decode()
    )
    response = _get(client, attachment)
    assert response.status_code == 500
    assert SECRET not in response.content
    settings.ATTACHMENT_ENCRYPTION_KEYS = (
        "other:" + base64.b64encode(b"o" * 32).decode()
    )
    assert _get(client, attachment).status_code == 500
    reasons = list(
        SecurityEvent.objects.filter(kind="attachment_tampered")
        .order_by("pk")
        .values_list("data__reason", flat=True)
    )
    assert reasons == [
        "The wrapped key does not open with key 'test1': wrong key or altered data.",
        "The key 'test1' is not in the key ring "
        "(ATTACHMENT_ENCRYPTION_KEYS / ATTACHMENT_ENCRYPTION_KEY_FILE).",
    ]


def test_with_encryption_off_new_files_are_plain_and_old_ones_still_read(
    settings, client, ticket, alice
):
    encrypted = _attach(ticket, alice)
    settings.ATTACHMENT_ENCRYPTION = False
    plain = _attach(ticket, alice, b"plain text\n", "plain.txt")
    assert plain.encryption_key_id == ""
    assert _path(settings, plain).read_bytes() == b"plain text\n"
    client.force_login(alice)
    assert _body(_get(client, encrypted)) == SECRET
    assert _body(_get(client, plain)) == b"plain text\n"
    response = _get(client, plain, Range="bytes=6-9")
    assert (response.status_code, _body(response)) == (206, b"text")
