"""``encrypt_attachments`` over a mixed folder and ``rotate_attachment_keys``: every
file stays readable, nothing is left in plaintext, a second run changes nothing."""

import base64
import getpass
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import SecurityEvent
from tickets import attachments, services
from tickets.models import Attachment

from .factories import upload

OLD = "test1:dGVzdC1vbmx5LWF0dGFjaG1lbnQta2V5LTMyYnl0ZXM="
NEW = "new:" + base64.b64encode(b"n" * 32).decode()
# a command run has no request: the host and the account that ran it are recorded
RUN_BY = {"host": socket.gethostname(), "os_user": getpass.getuser()}
BIG = b"".join(b"TOP SECRET %06d\n" % i for i in range(10000))


def _files(settings) -> dict[str, bytes]:
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }


def _run(command) -> str:
    out = StringIO()
    call_command(command, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def _plaintexts(ticket, alice):
    services.reply(
        alice,
        ticket,
        body="files",
        attachments=[upload("a.txt", b"TOP SECRET a\n"), upload("big.txt", BIG)],
    )


def _read(attachment) -> bytes:
    return b"".join(attachments.read_range(attachment))


def test_encrypt_attachments_over_a_mixed_folder_is_idempotent(settings, ticket, alice):
    settings.ATTACHMENT_ENCRYPTION = False
    _plaintexts(ticket, alice)
    settings.ATTACHMENT_ENCRYPTION = True
    services.reply(
        alice, ticket, body="new", attachments=[upload("c.txt", b"TOP SECRET c\n")]
    )
    assert sum(b"TOP SECRET" in body for body in _files(settings).values()) == 2

    assert (
        _run("encrypt_attachments")
        == "2 encrypted, 0 already encrypted, 0 failed (key test1)."
    )

    stored = _files(settings)
    assert len(stored) == 3
    assert not any(b"TOP SECRET" in body for body in stored.values())
    contents = {a.original_name: _read(a) for a in Attachment.objects.all()}
    assert contents == {
        "a.txt": b"TOP SECRET a\n",
        "big.txt": BIG,
        "c.txt": b"TOP SECRET c\n",
    }
    assert set(Attachment.objects.values_list("encryption_key_id", flat=True)) == {
        "test1"
    }

    assert (
        _run("encrypt_attachments")
        == "0 encrypted, 0 already encrypted, 0 failed (key test1)."
    )
    assert _files(settings) == stored
    assert SecurityEvent.objects.filter(kind="attachments_encrypted").count() == 2
    assert SecurityEvent.objects.filter(kind="attachments_encrypted").first().data == {
        "key_id": "test1",
        "encrypted": 0,
        "skipped": 0,
        "failed": 0,
        **RUN_BY,
    }


def test_a_plaintext_file_that_no_longer_matches_its_checksum_is_left_alone(
    settings, ticket, alice
):
    settings.ATTACHMENT_ENCRYPTION = False
    _plaintexts(ticket, alice)
    settings.ATTACHMENT_ENCRYPTION = True
    altered = Attachment.objects.get(original_name="a.txt")
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    (root / altered.file.name).write_bytes(b"TOP SECRET b\n")

    with pytest.raises(CommandError, match="1 files could not be encrypted"):
        _run("encrypt_attachments")

    altered.refresh_from_db()
    assert altered.encryption_key_id == ""
    assert (root / altered.file.name).read_bytes() == b"TOP SECRET b\n"
    assert Attachment.objects.get(original_name="big.txt").encryption_key_id == "test1"
    assert len(_files(settings)) == 2


def test_encrypt_attachments_refuses_when_encryption_is_off(settings, db):
    settings.ATTACHMENT_ENCRYPTION = False
    with pytest.raises(CommandError, match="ATTACHMENT_ENCRYPTION is off"):
        _run("encrypt_attachments")


def test_key_rotation_rewraps_without_rewriting_bodies(settings, ticket, alice):
    _plaintexts(ticket, alice)
    before = _files(settings)
    settings.ATTACHMENT_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    assert (
        _run("rotate_attachment_keys")
        == "2 attachment keys re-wrapped under 'new', 0 stored secrets re-encrypted, 0 failed."
    )

    assert _files(settings) == before
    assert set(Attachment.objects.values_list("encryption_key_id", flat=True)) == {
        "new"
    }
    settings.ATTACHMENT_ENCRYPTION_KEYS = NEW  # the old key is gone from the ring
    contents = {a.original_name: _read(a) for a in Attachment.objects.all()}
    assert contents == {"a.txt": b"TOP SECRET a\n", "big.txt": BIG}
    assert (
        _run("rotate_attachment_keys")
        == "0 attachment keys re-wrapped under 'new', 0 stored secrets re-encrypted, 0 failed."
    )
    event = SecurityEvent.objects.filter(kind="keys_rotated").last()
    assert event.data == {
        "key_id": "new",
        "attachments": 2,
        "secrets": 0,
        "failed": 0,
        **RUN_BY,
    }


def test_rotation_without_the_old_key_reports_the_files_it_cannot_open(
    settings, ticket, alice
):
    _plaintexts(ticket, alice)
    settings.ATTACHMENT_ENCRYPTION_KEYS = NEW
    with pytest.raises(CommandError, match="2 keys could not be re-wrapped"):
        _run("rotate_attachment_keys")
    assert set(Attachment.objects.values_list("encryption_key_id", flat=True)) == {
        "test1"
    }
