"""IMAP polling against a real Dovecot (started here, in a temporary directory)."""

import imaplib
import shutil
import ssl
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from tickets.models import Source, Ticket

from .. import imap
from ..models import InboundMessage, Mailbox, Outcome, Security
from .conftest import make_email
from .imap_server import DOVECOT, PASSWORD, USER, Dovecot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        DOVECOT is None,
        reason="dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)",
    ),
]


@pytest.fixture
def dovecot():
    # not under pytest's tmp dir: its parents are private to us, and dovecot's
    # unprivileged auth process must read the passwd-file
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    server = Dovecot(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_mailbox(queue, dovecot, monkeypatch, settings):
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    settings.EMAIL_IMAP_CA_FILE = str(dovecot.cert)
    return Mailbox.objects.create(
        queue=queue,
        host="127.0.0.1",
        port=dovecot.port,
        security=Security.STARTTLS,
        username=USER,
        password_env="TEST_IMAP_PASSWORD",
    )


def deliver(server: Dovecot, raw: bytes, folder: str = "INBOX"):
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(USER, PASSWORD)
    assert conn.append(folder, None, None, raw)[0] == "OK"
    conn.logout()


def folder_state(server: Dovecot, folder: str = "INBOX") -> list[tuple[bool, bytes]]:
    """(seen, subject line) of each message in ``folder``."""
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(USER, PASSWORD)
    typ, _ = conn.select(folder, readonly=True)
    if typ != "OK":
        conn.logout()
        return []
    _typ, data = conn.uid("SEARCH", None, "ALL")
    state = []
    for uid in data[0].split():
        _typ, fetched = conn.uid(
            "FETCH", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
        )
        state.append((b"\\Seen" in fetched[0][0], fetched[0][1].strip()))
    conn.logout()
    return state


def test_a_new_ticket_by_imap_over_starttls(alice, imap_mailbox, dovecot):
    deliver(dovecot, make_email(subject="By IMAP"))
    call_command("fetch_email")
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.source, ticket.requester) == (
        "By IMAP",
        Source.EMAIL,
        alice,
    )
    assert folder_state(dovecot) == [(True, b"Subject: By IMAP")]
    assert imap.poll(imap_mailbox) == {}  # flagged: not fetched again


def test_imaps_and_the_processed_folder(alice, imap_mailbox, dovecot):
    imap_mailbox.security = Security.IMAPS
    imap_mailbox.port = dovecot.ssl_port
    imap_mailbox.processed_folder = "Done"
    imap_mailbox.save()
    deliver(dovecot, make_email(subject="Over IMAPS"))
    assert imap.poll(imap_mailbox) == {"created": 1}
    assert folder_state(dovecot) == []
    assert folder_state(dovecot, "Done") == [(False, b"Subject: Over IMAPS")]


def test_an_untrusted_certificate_is_refused(imap_mailbox, dovecot, settings):
    settings.EMAIL_IMAP_CA_FILE = ""
    deliver(dovecot, make_email())
    with pytest.raises(imap.MailboxError) as error:
        imap.poll(imap_mailbox)
    assert isinstance(error.value.__cause__, ssl.SSLCertVerificationError)
    assert not Ticket.objects.exists()


def test_a_failed_message_moves_to_the_failure_folder(
    alice, imap_mailbox, dovecot, monkeypatch
):
    from .. import intake

    def broken(*args, **kwargs):
        raise RuntimeError("storage unavailable")

    monkeypatch.setattr(intake, "_decide", broken)
    deliver(dovecot, make_email(subject="Will fail"))
    deliver(dovecot, make_email(subject="Also fails"))
    assert imap.poll(imap_mailbox) == {"failed": 2}
    assert folder_state(dovecot) == []
    assert [s for _seen, s in folder_state(dovecot, "Helpdesk-Failed")] == [
        b"Subject: Will fail",
        b"Subject: Also fails",
    ]
    reasons = set(InboundMessage.objects.values_list("outcome", "reason"))
    assert reasons == {(Outcome.FAILED, "RuntimeError: storage unavailable")}


def test_server_down_is_retried_and_nothing_is_lost_or_doubled(
    alice, imap_mailbox, dovecot, monkeypatch
):
    deliver(dovecot, make_email(subject="First"))
    deliver(dovecot, make_email(subject="Second"))
    dovecot.stop()
    assert imap.poll_all() == {"unreachable": 1}
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_error.startswith(f"127.0.0.1:{dovecot.port}:")
    assert not Ticket.objects.exists()

    dovecot.start()
    # the connection breaks after the intake recorded the first message and before
    # it was flagged: the next poll sees it again and must not make a second ticket
    real_ingest = imap.intake.ingest
    calls = []

    def ingest_then_drop(raw, **kwargs):
        result = real_ingest(raw, **kwargs)
        calls.append(result)
        if len(calls) == 1:
            raise OSError("connection reset by peer")
        return result

    monkeypatch.setattr(imap.intake, "ingest", ingest_then_drop)
    assert imap.poll_all() == {"unreachable": 1}
    monkeypatch.setattr(imap.intake, "ingest", real_ingest)
    counts = imap.poll_all()
    assert counts == {"ignored": 1, "created": 1}  # the first: already processed
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "First",
        "Second",
    ]
    assert [seen for seen, _s in folder_state(dovecot)] == [True, True]
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_error == ""
