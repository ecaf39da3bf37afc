import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.tokens import create_token, revoke_token
from tickets import attachments, hooks, services
from tickets.models import Attachment, EventKind, Ticket, TicketEvent

from .factories import make_customer, png_bytes, upload

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def stored_files(settings):
    root = settings.STORAGES["attachments"]["OPTIONS"]["location"]
    from pathlib import Path

    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def test_valid_files_are_stored_privately_with_checksum(alice, queue, settings):
    data = png_bytes()
    ticket = services.create_ticket(
        alice,
        subject="Screenshot",
        description="See attached",
        attachments=[upload("screen.png", data), upload("sync.log", b"line 1\n")],
    )
    png, log = Attachment.objects.order_by("pk")
    assert (png.original_name, png.content_type, png.size) == (
        "screen.png",
        "image/png",
        len(data),
    )
    assert png.sha256 == hashlib.sha256(data).hexdigest()
    assert (log.content_type, log.comment) == ("text/plain", None)
    assert png.file.name.startswith(f"tickets/{ticket.reference}/")
    assert png.file.name.endswith("/screen.png")
    assert len(stored_files(settings)) == 2
    assert list(
        TicketEvent.objects.filter(kind="attachment_added").values_list(
            "new_value", flat=True
        )
    ) == ["screen.png", "sync.log"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "“empty.txt” is empty."),
        (
            "setup.exe",
            EXE,
            "“setup.exe”: this type of file (application/x-msdownload) is not accepted.",
        ),
        (
            "invoice.pdf",
            png_bytes(),
            "“invoice.pdf” does not look like a .pdf file: its content is image/png.",
        ),
        (
            "photo.png",
            PDF,
            "“photo.png” does not look like a .png file: its content is application/pdf.",
        ),
        ("notes.txt", b"abc\x00def", "“notes.txt”: this type of file is not accepted."),
        (
            "latin1.txt",
            "café".encode("latin-1"),
            "“latin1.txt”: this type of file is not accepted.",
        ),
        (
            "script.sh",
            b"#!/bin/sh\nrm -rf /\n",
            "“script.sh”: this type of file is not accepted.",
        ),
    ],
)
def test_bad_files_are_refused_and_nothing_is_left(
    alice, queue, settings, name, content, message
):
    with pytest.raises(ValidationError) as error:
        services.create_ticket(
            alice,
            subject="S",
            description="D",
            attachments=[upload("fine.png", png_bytes()), upload(name, content)],
        )
    assert error.value.messages == [message]
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_oversized_file_is_refused(alice, queue, settings):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as error:
        services.create_ticket(
            alice,
            subject="S",
            description="D",
            attachments=[upload("big.txt", b"x" * 101)],
        )
    assert error.value.messages == [
        "“big.txt” is larger than the limit of 100\xa0bytes."
    ]
    assert Ticket.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.png", "..\\..\\evil.png", "a/b.png", "..", "."]
)
def test_traversal_names_are_refused(ticket, agent, settings, name):
    with pytest.raises(ValidationError) as error:
        services.reply(
            agent, ticket, body="x", attachments=[ContentFile(png_bytes(), name=name)]
        )
    assert error.value.messages == ["File names cannot contain folders (“/” or “\\”)."]
    assert ticket.comments.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_names_are_cleaned():
    assert attachments.clean_filename("  inv\u202eoice\u0007 final .png ") == (
        "invoice final .png"
    )
    assert attachments.clean_filename("Cafe\u0301.txt") == "Café.txt"
    long = attachments.clean_filename("a" * 300 + ".png")
    assert len(long) == attachments.MAX_NAME_LENGTH
    assert long.endswith(".png")


def test_files_stored_before_a_later_failure_are_deleted(ticket, agent, settings):
    def boom(kind, ticket, event, **data):
        raise RuntimeError("outbox down")

    hooks.register(EventKind.COMMENTED, boom, in_transaction=True)
    try:
        with pytest.raises(RuntimeError):
            services.reply(
                agent, ticket, body="x", attachments=[upload("a.png", png_bytes())]
            )
    finally:
        hooks.unregister(EventKind.COMMENTED, boom, in_transaction=True)
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def _download(client, attachment):
    return client.get(f"/portal/attachments/{attachment.pk}/{attachment.original_name}")


def test_download_streams_to_permitted_users_only(client, ticket, alice, agent):
    services.reply(
        alice, ticket, body="logs", attachments=[upload("a.png", png_bytes())]
    )
    services.add_internal_note(
        agent, ticket, body="ours", attachments=[upload("internal.txt", b"secret")]
    )
    public, internal = Attachment.objects.order_by("pk")
    assert public.get_absolute_url() == f"/portal/attachments/{public.pk}/a.png"

    client.force_login(alice)
    response = _download(client, public)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Disposition"] == 'attachment; filename="a.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert _download(client, internal).status_code == 404
    assert client.get(f"/portal/attachments/{public.pk}/other.png").status_code == 404

    client.force_login(agent)
    assert _download(client, internal).status_code == 200

    client.force_login(make_customer())
    assert _download(client, public).status_code == 404
    client.logout()
    assert _download(client, public).status_code == 404


# --- bearer tokens (GraphQL's Attachment.url) --------------------------------------------


def _bearer(client, attachment, secret):
    return client.get(
        f"/portal/attachments/{attachment.pk}/{attachment.original_name}",
        headers={"Authorization": f"Bearer {secret}"},
    )


def _note_with_file(ticket, alice, agent):
    services.reply(
        alice, ticket, body="logs", attachments=[upload("a.png", png_bytes())]
    )
    services.add_internal_note(
        agent, ticket, body="ours", attachments=[upload("internal.txt", b"secret")]
    )
    return Attachment.objects.order_by("pk")


def test_bearer_token_owner_who_may_see_the_file_gets_it(client, ticket, alice, agent):
    public, internal = _note_with_file(ticket, alice, agent)
    read_only = create_token(alice, name="ci", scopes="read").secret

    response = _bearer(client, public, read_only)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Disposition"] == 'attachment; filename="a.png"'
    assert response["Cache-Control"] == "private, no-store"
    # the same policy as with a session: internal-note files stay with the team
    assert _bearer(client, internal, read_only).status_code == 404
    agent_secret = create_token(agent, name="ci", scopes="read").secret
    response = _bearer(client, internal, agent_secret)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret"


def test_bearer_token_of_a_user_who_may_not_see_the_file_is_404(
    client, ticket, alice, agent, other_agent
):
    public, _ = _note_with_file(ticket, alice, agent)
    for stranger in (make_customer(), other_agent):
        secret = create_token(stranger, name="ci", scopes="read,write").secret
        assert _bearer(client, public, secret).status_code == 404


def test_bearer_token_does_not_borrow_the_session(client, ticket, alice, agent):
    """A session that may see the file does not rescue a token that may not."""
    public, _ = _note_with_file(ticket, alice, agent)
    client.force_login(alice)
    stranger = create_token(make_customer(), name="ci", scopes="read").secret
    assert _bearer(client, public, stranger).status_code == 404


@pytest.mark.parametrize("how", ["revoked", "expired", "forged", "malformed"])
def test_bad_bearer_is_401_without_falling_back_to_the_session(
    client, ticket, alice, agent, how
):
    public, _ = _note_with_file(ticket, alice, agent)
    new = create_token(alice, name="ci", scopes="read")
    secret = new.secret
    if how == "revoked":
        assert revoke_token(alice, new.token.pk)
    elif how == "expired":
        new.token.expires_at = timezone.now() - timedelta(seconds=1)
        new.token.save(update_fields=["expires_at"])
    elif how == "forged":
        secret = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    client.force_login(alice)  # the session alone would be allowed

    if how == "malformed":
        response = client.get(
            f"/portal/attachments/{public.pk}/a.png",
            headers={"Authorization": f"Token {secret}"},
        )
        message = "Malformed Authorization header: use 'Authorization: Bearer <token>'."
    else:
        response = _bearer(client, public, secret)
        message = "Invalid, expired or revoked API token."

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="attachments"'
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


CHUNK = 64 * 1024  # Django's File.chunks() size: the text check sees the file in these
STRADDLE = b"a" * (CHUNK - 1) + "é".encode() + b" fin\n"  # é split over two chunks


@pytest.mark.parametrize(
    ("content", "accepted"),
    [
        (STRADDLE, True),
        ("日本語のログ\n".encode() * 20000, True),  # ~400 KB of multibyte text
        (b"a" * (CHUNK + 10) + b"\xff", False),  # invalid byte in the second chunk
        (b"a" * (CHUNK + 10) + b"\x00", False),  # a NUL in the second chunk
        (b"a" * CHUNK + "é".encode()[:1], False),  # cut in the middle of a character
    ],
)
def test_text_is_checked_chunk_by_chunk_across_boundaries(content, accepted):
    file = upload("log.txt", content)
    if accepted:
        name, content_type, size, sha256 = attachments.validate_upload(file)
        assert (name, content_type, size) == ("log.txt", "text/plain", len(content))
        assert sha256 == hashlib.sha256(content).hexdigest()
    else:
        with pytest.raises(ValidationError) as error:
            attachments.validate_upload(file)
        assert error.value.messages == ["“log.txt”: this type of file is not accepted."]
