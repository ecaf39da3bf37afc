import io
import sys

import pytest
from django.core import mail
from django.core.management import call_command

from portal.notifications import threads
from tickets.models import Comment, Source, Ticket
from tickets.tests.factories import png_bytes

from ..intake import ingest
from ..models import InboundMessage, Outcome, StrangerReplies, UnknownSenders
from .conftest import make_email

pytestmark = pytest.mark.django_db


def run_command(raw: bytes, *args) -> str:
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("ingest_email", *args, stdout=out)
    finally:
        sys.stdin = stdin
    return out.getvalue().strip().splitlines()[-1]


def test_ingest_email_creates_a_ticket_from_a_known_customer(alice, queue):
    line = run_command(make_email(), "--queue", "support")
    ticket = Ticket.objects.get()
    assert line == f"created {ticket.reference}"
    assert ticket.requester == alice
    assert ticket.source == Source.EMAIL
    assert ticket.subject == "Printer on fire"
    assert ticket.description == "The printer in room 4 is on fire."
    record = InboundMessage.objects.get()
    assert (record.outcome, record.ticket) == (Outcome.CREATED, ticket)
    assert bytes(record.raw).startswith(b"From: alice@acme.example")


def test_the_queue_is_found_by_its_inbound_address(alice, queue):
    from tickets.tests.factories import QueueFactory

    billing = QueueFactory(slug="billing", inbound_address="billing@helpdesk.example")
    result = ingest(make_email(to="Billing <billing@helpdesk.example>"))
    assert Ticket.objects.get(reference=result.reference).queue == billing


def test_an_unknown_sender_gets_an_unverified_account_without_organization(queue):
    result = ingest(make_email(sender="Carol <carol@acme.example>"))
    ticket = Ticket.objects.get(reference=result.reference)
    carol = ticket.requester
    assert carol.email == "carol@acme.example"
    assert carol.display_name == "Carol"
    assert not carol.emailaddress_set.get().verified
    assert ticket.organization is None


def test_an_unknown_sender_is_refused_when_the_mailbox_says_so(mailbox):
    mailbox.unknown_senders = UnknownSenders.REFUSE
    mailbox.save()
    result = ingest(make_email(sender="carol@acme.example"))
    assert result.line() == "ignored: unknown sender carol@acme.example"
    assert not Ticket.objects.exists()


def test_a_reply_threads_by_in_reply_to_our_message_id(alice, ticket):
    ours = threads.message_id(ticket.reference)
    result = ingest(
        make_email(
            subject="Re: something else entirely",
            body="It works now.\n\nOn Mon, Support wrote:\n> try again\n",
            headers={"In-Reply-To": ours, "References": ours},
        )
    )
    assert result.line() == f"replied {ticket.reference}"
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.body, comment.is_internal) == (
        alice,
        "It works now.",
        False,
    )


def test_a_forged_message_id_is_not_ours(alice, ticket):
    forged = f"<hd.{ticket.reference}.abc.{'0' * 20}@helpdesk.example>"
    assert threads.reference_of(forged) is None
    result = ingest(make_email(headers={"In-Reply-To": forged}))
    assert result.outcome == Outcome.CREATED


def test_a_reply_threads_by_the_subject_reference(alice, ticket):
    result = ingest(make_email(subject=f"Re: [{ticket.reference}] Sync stopped"))
    assert result.line() == f"replied {ticket.reference}"


def test_a_colleague_under_read_write_sharing_may_reply(bob, ticket):
    result = ingest(
        make_email(sender="bob@acme.example", subject=f"[{ticket.reference}]")
    )
    assert result.line() == f"replied {ticket.reference}"


def test_a_stranger_never_lands_on_the_thread_refused(mailbox, ticket):
    mailbox.stranger_replies = StrangerReplies.REFUSE
    mailbox.save()
    from tickets.tests.factories import make_customer

    make_customer(email="mallory@evil.example")
    result = ingest(
        make_email(sender="mallory@evil.example", subject=f"Re: [{ticket.reference}]")
    )
    assert (
        result.line() == "ignored: mallory@evil.example may not comment on this ticket"
    )
    assert not Comment.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.count() == 1


def test_a_stranger_gets_a_new_ticket_by_default(mailbox, ticket):
    result = ingest(
        make_email(
            sender="mallory@evil.example", subject=f"Re: [{ticket.reference}] hi"
        )
    )
    assert result.outcome == Outcome.CREATED
    assert result.reference != ticket.reference
    assert not Comment.objects.filter(ticket=ticket).exists()
    new = Ticket.objects.get(reference=result.reference)
    assert new.subject == "Re: hi"
    assert new.requester.email == "mallory@evil.example"


def test_an_agents_email_reply_is_a_public_reply(agent, ticket, act):
    ours = threads.message_id(ticket.reference)
    result = act(
        ingest,
        make_email(
            sender="agent@example.com",
            body="Please restart.",
            headers={"In-Reply-To": ours},
        ),
    )
    assert result.line() == f"replied {ticket.reference}"
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.is_internal) == (agent, False)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


@pytest.mark.parametrize(
    "headers, sender, reason",
    [
        ({"Auto-Submitted": "auto-replied"}, "alice@acme.example", "auto-submitted"),
        ({"Precedence": "bulk"}, "alice@acme.example", "bulk mail"),
        ({"X-Autoreply": "yes"}, "alice@acme.example", "auto-reply"),
        ({}, "MAILER-DAEMON@mx.acme.example", "automated sender"),
        ({}, "postmaster@acme.example", "automated sender"),
    ],
)
def test_auto_replies_and_bounces_are_ignored(alice, queue, headers, sender, reason):
    result = ingest(make_email(sender=sender, headers=headers))
    assert result.outcome == Outcome.IGNORED
    assert result.reason.startswith(reason)
    assert not Ticket.objects.exists()


def test_our_own_message_is_a_loop(alice, ticket):
    result = ingest(make_email(message_id=threads.message_id(ticket.reference)))
    assert result.line() == "ignored: our own message (mail loop)"


def test_a_duplicate_message_is_processed_once(alice, queue):
    raw = make_email(message_id="<same@acme.example>")
    assert ingest(raw).outcome == Outcome.CREATED
    assert run_command(raw) == "ignored: duplicate message (already processed)"
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_the_sender_rate_limit(alice, queue, settings):
    settings.PORTAL_RATE_LIMITS = {"email_inbound": "2/h"}
    outcomes = [ingest(make_email()).outcome for _ in range(3)]
    assert outcomes == [Outcome.CREATED, Outcome.CREATED, Outcome.IGNORED]


def test_a_9_mb_attachment_is_accepted_and_an_exe_refused_keeping_the_rest(
    alice, queue
):
    big = png_bytes() + b"\x00" * (9 * 1024 * 1024)
    raw = make_email(
        attachments=[
            ("photo.png", big, "image", "png"),
            ("setup.exe", b"MZ\x90\x00" + b"\x00" * 200, "application", "octet-stream"),
        ]
    )
    result = ingest(raw)
    ticket = Ticket.objects.get(reference=result.reference)
    assert [a.original_name for a in ticket.attachments.all()] == ["photo.png"]
    assert ticket.attachments.get().size == len(big)
    assert ticket.description.startswith("The printer in room 4 is on fire.")
    assert "[Attachment not accepted: “setup.exe”" in ticket.description


def test_a_malformed_mime_message_is_handled(alice, queue):
    raw = (
        b"From: alice@acme.example\r\nTo: support@helpdesk.example\r\n"
        b"Subject: broken\r\nMessage-ID: <broken@acme.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="nope"\r\n\r\n'
        b"no boundary ever comes\r\n"
    )
    result = ingest(raw)
    assert result.outcome == Outcome.CREATED
    assert "no boundary ever comes" in Ticket.objects.get().description


def test_a_wrong_charset_is_handled(alice, queue):
    raw = (
        b"From: =?utf-8?q?Alice_M=C3=BCller?= <alice@acme.example>\r\n"
        b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\nMessage-ID: <cs@acme.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ) + "Grüße aus Köln\r\n".encode("latin-1")
    result = ingest(raw)
    ticket = Ticket.objects.get(reference=result.reference)
    assert ticket.subject == "Grüße"
    assert ticket.description == "Grüße aus Köln"


def test_an_unknown_charset_is_handled(alice, queue):
    raw = (
        b"From: alice@acme.example\r\nSubject: x\r\nMessage-ID: <cs2@acme.example>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nplain words\r\n"
    )
    assert ingest(raw).outcome == Outcome.CREATED
    assert Ticket.objects.get().description == "plain words"


def test_an_html_only_message_is_sanitised_into_text(alice, queue):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "alice@acme.example"
    message["Subject"] = "html"
    message["Message-ID"] = "<html@acme.example>"
    message.set_content(
        "<p>Hello <b>team</b></p><script>alert('x')</script>"
        "<div>Line two</div><blockquote>old quoted mail</blockquote>",
        subtype="html",
    )
    ingest(message.as_bytes())
    assert Ticket.objects.get().description == "Hello team\n\nLine two"


def test_dkim_or_spf_pass_can_be_required(alice, mailbox):
    mailbox.require_authentication = True
    mailbox.save()
    result = ingest(make_email())
    assert result.line() == "ignored: no DKIM or SPF pass in Authentication-Results"
    passed = make_email(
        headers={
            "Authentication-Results": "mx.helpdesk.example; dkim=pass header.d=acme.example"
        }
    )
    assert ingest(passed).outcome == Outcome.CREATED


def test_the_command_exits_75_and_spools_when_it_cannot_decide(
    alice, queue, settings, tmp_path, monkeypatch
):
    settings.EMAIL_SPOOL_DIR = tmp_path / "spool"
    from .. import intake

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake, "_decide", broken)
    raw = make_email()
    err = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        with pytest.raises(SystemExit) as exit_:
            call_command("ingest_email", stderr=err)
    finally:
        sys.stdin = stdin
    assert exit_.value.code == 75
    [saved] = (tmp_path / "spool").iterdir()
    assert saved.read_bytes() == raw
    assert str(saved) in err.getvalue()
    assert InboundMessage.objects.get().outcome == Outcome.FAILED
    monkeypatch.undo()
    assert ingest(raw).outcome == Outcome.CREATED  # a failed message may be retried


def test_the_acknowledgement_and_replies_form_one_thread(alice, agent, queue, act):
    from tickets import services

    result = act(ingest, make_email())
    ticket = Ticket.objects.get(reference=result.reference)
    act(services.reply, agent, ticket, body="On it.")
    to_alice = [m for m in mail.outbox if m.to == ["alice@acme.example"]]
    assert len(to_alice) == 2  # acknowledgement, then the reply
    root = threads.thread_root(ticket.reference)
    ids = set()
    for message in to_alice:
        assert f"[{ticket.reference}]" in message.subject
        assert message.extra_headers["In-Reply-To"] == root
        assert message.extra_headers["References"] == root
        assert message.extra_headers["Reply-To"] == "support@helpdesk.example"
        assert (
            threads.reference_of(message.extra_headers["Message-ID"])
            == ticket.reference
        )
        ids.add(message.extra_headers["Message-ID"])
    assert len(ids) == 2
    # the customer answers the acknowledgement from her mail client
    reply = make_email(
        subject="Re: " + to_alice[0].subject,
        body="Thanks!",
        headers={"In-Reply-To": to_alice[0].extra_headers["Message-ID"]},
    )
    assert act(ingest, reply).line() == f"replied {ticket.reference}"


def test_the_acknowledgement_suggests_articles_and_invites_a_reply(alice, queue, act):
    from kb.models import ArticlePage, KnowledgeBasePage

    index = KnowledgeBasePage.objects.first()
    article = ArticlePage(
        title="Printer troubleshooting",
        slug="printer-troubleshooting",
        summary="When the printer stops.",
        audience="public",
        body=[("paragraph", "<p>Turn the printer off and on.</p>")],
    )
    index.add_child(instance=article)
    article.save_revision().publish()
    from wagtail.search.backends import get_search_backend

    get_search_backend().add(article)
    act(ingest, make_email(subject="Printer is broken"))
    [ack] = [m for m in mail.outbox if m.to == ["alice@acme.example"]]
    assert "Reply to this email to add to your request." in ack.body
    assert "- Printer troubleshooting: " in ack.body


def test_cc_parties_who_may_see_the_ticket_follow_it(alice, bob, queue):
    from tickets.tests.factories import make_customer

    make_customer(email="outsider@other.example")
    raw = make_email(
        headers={"Cc": "Bob <bob@acme.example>, outsider@other.example"},
    )
    ticket = Ticket.objects.get(reference=ingest(raw).reference)
    assert [u.email for u in ticket.watchers.all()] == ["bob@acme.example"]


def test_nul_characters_in_headers_and_body_are_dropped(alice, queue):
    raw = (
        b"From: alice@acme.example\r\nSubject: nul\x00here\r\n"
        b"X-Odd: a\x00b\r\nMessage-ID: <nul@acme.example>\r\n"
        b"Content-Type: text/plain\r\n\r\nbody\x00text\r\n"
    )
    assert ingest(raw).outcome == Outcome.CREATED
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.description) == ("nulhere", "bodytext")
    assert "X-Odd: ab" in InboundMessage.objects.get().headers


def test_a_reply_to_a_merged_ticket_lands_on_its_target(alice, agent, queue, acme):
    from tickets import services
    from tickets.tests.factories import TicketFactory

    first = TicketFactory(requester=alice, queue=queue, organization=acme)
    second = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.merge(agent, first, second)
    result = ingest(make_email(subject=f"Re: [{first.reference}] still broken"))
    assert result.line() == f"replied {second.reference}"
