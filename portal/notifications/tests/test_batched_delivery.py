"""A claim's emails share one mail connection and their renderings, and are exactly
the emails rendered and sent one by one (the oracle).

Over 400 lines until split: the byte-for-byte oracle of ``mime.Building`` against
Django's ``EmailMultiAlternatives`` belongs in a test module of its own."""

import uuid
from email import message_from_bytes
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.utils import translation
from django.utils.html import conditional_escape

from portal.notifications import batch, mime, sending, threads
from portal.notifications.models import SentNotification

TICKET = {
    "reference": "HD-000042",
    "subject": "Printer <on fire> & smoking",
    "queue_name": "Support & Co",
    "priority_label": "High",
    "requester_name": "Seán O'Brien",
    "assignee_name": "",
    "ticket_url": "http://testserver/admin/tickets/42/",
    "reply_to": "support@example.com",
    "body": "It's <b>burning</b>.\nPlease help & hurry.",
}

NAMES = [  # (display name, language): escaping in the HTML part, three languages
    ("O'Brien <b>", ""),
    ("Zoë & Ana", "pl"),
    ('Иван "Ваня"', "ru"),
    ("Plain", "en"),
    ("Ola <i>", "pl"),
    ("Пётр", "ru"),
]


def _outgoing(users, event="evt-1"):
    messages = [
        sending.Outgoing(
            kind="ticket_created_agent",
            recipient=user,
            context=TICKET,
            idempotency_key=sending.idempotency_key(event, user.pk, "agent"),
        )
        for user in users
    ]
    messages += [  # another kind without a ticket, and an address without account
        sending.Outgoing(
            kind="account_approved",
            recipient=user,
            context={},
            idempotency_key=sending.idempotency_key(event, user.pk, "approved"),
        )
        for user in users[:3]
    ]
    messages.append(
        sending.Outgoing(
            kind="organization_invitation",
            recipient=sending.Address(email="new@example.com", locale="pl"),
            context={
                "organization_name": "Smith & Sons <EU>",
                "inviter_name": "Seán O'Brien",
                "accept_url": "http://testserver/account/invitations/abc/",
            },
            idempotency_key=f"{event}:invite",
        )
    )
    return messages


def _one_by_one(row: SentNotification):
    """The email as rendered for its recipient alone (the path before batching)."""
    recipient = sending._recipient(row)
    is_user = not isinstance(recipient, sending.Address)
    context = {"recipient": recipient if is_user else None, **row.context}
    with translation.override(sending.recipient_language(recipient, row.locale)):
        subject, text, html = sending.render_email(row.kind, context)
    if row.context.get("reference"):
        subject = threads.tagged_subject(subject, row.context["reference"])
    return recipient.email, subject, text, html


@pytest.fixture
def users(make_user):
    return [
        make_user(f"user{n}@example.com", display_name=name, locale=language)
        for n, (name, language) in enumerate(NAMES)
    ]


@pytest.mark.django_db
def test_a_batch_sends_exactly_the_emails_rendered_one_by_one(users):
    outcomes, keys = sending.store(_outgoing(users))
    assert outcomes == [None] * 10
    with mock.patch(
        "portal.notifications.sending.render_to_string", wraps=sending.render_to_string
    ) as rendered:
        assert sending.deliver(keys) == {key: "sent" for key in keys}
    # one rendering per kind, language and context (the greeting aside): agents'
    # alerts in en, pl, ru; approvals in en, pl, ru; the invitation; three parts each
    assert rendered.call_count == 3 * 7
    by_key = {
        row.idempotency_key: row
        for row in SentNotification.objects.select_related("recipient")
    }
    assert len(mail.outbox) == 10
    roots = set()
    for message, key in zip(
        mail.outbox, sorted(keys, key=lambda k: by_key[k].pk), strict=True
    ):
        row = by_key[key]
        to, subject, text, html = _one_by_one(row)
        assert message.to == [to]
        assert message.subject == subject == row.subject
        assert message.body == text
        assert message.alternatives == [(html, "text/html")]
        headers = message.extra_headers
        if row.kind == "ticket_created_agent":
            root = threads.thread_root("HD-000042")
            assert headers["In-Reply-To"] == headers["References"] == root
            assert headers["Reply-To"] == "support@example.com"
            assert threads.reference_of(headers["Message-ID"]) == "HD-000042"
            roots.add(headers["Message-ID"])
        else:
            assert headers == {}
        parsed = message.message()
        assert parsed["To"] == to
    assert len(roots) == 6  # a Message-ID of its own per email
    texts = {m.to[0]: m.body for m in mail.outbox if "HD-000042" in m.subject}
    assert texts["user0@example.com"].startswith("Hello O'Brien <b>,\n")
    assert texts["user1@example.com"].startswith("Dzień dobry Zoë & Ana,\n")
    htmls = {m.to[0]: m.alternatives[0][0] for m in mail.outbox if "HD" in m.subject}
    assert "O&#x27;Brien &lt;b&gt;," in htmls["user0@example.com"]
    assert "Здравствуйте, Иван &quot;Ваня&quot;!" in htmls["user2@example.com"]


class CountingBackend(LocmemBackend):
    created = opened = closed = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CountingBackend.created += 1

    def open(self):
        CountingBackend.opened += 1

    def close(self):
        CountingBackend.closed += 1


@pytest.fixture
def counting(settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.created = CountingBackend.opened = CountingBackend.closed = 0
    return CountingBackend


@pytest.mark.django_db
def test_one_claim_opens_one_mail_connection(users, counting):
    outcomes, keys = sending.store(_outgoing(users))
    assert sending.deliver(keys) == {key: "sent" for key in keys}
    assert len(mail.outbox) == 10
    assert (counting.created, counting.opened, counting.closed) == (1, 1, 1)


@pytest.mark.django_db
def test_a_failed_send_closes_the_connection_and_the_next_email_opens_a_new_one(
    users, counting
):
    real_send = mail.EmailMultiAlternatives.send

    def flaky(message, *args, **kwargs):
        if message.to == ["user1@example.com"]:
            raise ConnectionError("SMTP down")
        return real_send(message, *args, **kwargs)

    outcomes, keys = sending.store(_outgoing(users)[:6])
    with mock.patch.object(mail.EmailMultiAlternatives, "send", flaky):
        outcomes = sending.deliver(keys)
    assert sorted(outcomes.values()) == ["failed"] + ["sent"] * 5
    assert (counting.created, counting.opened, counting.closed) == (2, 2, 2)


@pytest.mark.django_db
def test_the_claim_budget_reads_rows_with_their_recipients(
    users, django_assert_num_queries
):
    outcomes, keys = sending.store(_outgoing(users))
    # the claim: on PostgreSQL one statement (the UPDATE returning the rows, read
    # with their recipients); elsewhere SELECT (rows and recipients) + UPDATE in one
    # transaction (+ SAVEPOINT and RELEASE in tests); per email one UPDATE in its own
    # transaction (+ SAVEPOINT, RELEASE; PostgreSQL: + SET LOCAL synchronous_commit)
    postgresql = connection.vendor == "postgresql"
    claim, per_email = (1, 4) if postgresql else (4, 3)
    with django_assert_num_queries(claim + per_email * 10):
        sending.deliver(keys)
    assert len(mail.outbox) == 10


class _User:
    def __init__(self, name, email="x@example.com"):
        self.name, self.email = name, email

    def get_short_name(self):
        return self.name


@pytest.mark.parametrize(
    "template",
    [
        lambda r: f"Hi {str(r.get_short_name()).upper()}",  # changes the name
        lambda r: f"Hi {r.get_short_name()} <{r.email}>",  # asks for more
        lambda r: f"Hi {r}",  # its text
        lambda r: f"Hi {r.get_short_name()[:5]}",  # cuts it
    ],
    ids=["filtered", "attribute", "text", "truncated"],
)
def test_a_rendering_that_is_not_only_the_name_is_not_shared(template):
    shared = batch.Batch(connect=mail.get_connection)
    calls = []

    def render(recipient):
        calls.append(recipient)
        return "subject", template(recipient), template(recipient)

    for name in ["Ann", "O'Brien <b>"]:
        recipient = _User(name)
        got = shared.render(
            render, kind="k", context={}, language="en", recipient=recipient
        )
        assert got == ("subject", template(recipient), template(recipient))
    # the attempt with the stand-in, then each recipient rendered for itself
    assert len(calls) == 3


def test_a_name_in_the_subject_is_not_shared():
    shared = batch.Batch(connect=mail.get_connection)

    def render(recipient):
        return f"For {recipient.get_short_name()}", "text", "html"

    got = [
        shared.render(
            render, kind="k", context={}, language="en", recipient=_User(name)
        )
        for name in ["Ann", "Bo"]
    ]
    assert got == [("For Ann", "text", "html"), ("For Bo", "text", "html")]


def _same_bytes(ours, theirs):
    """Flatten both as every backend does, with Django's message given our random
    parts (boundaries, and the Date and Message-ID made up when not given)."""
    for part, boundary in zip(
        [p for p in theirs.walk() if p.is_multipart()],
        [p.get_boundary() for p in ours.walk() if p.is_multipart()],
        strict=True,
    ):
        part.set_boundary(boundary)
    for name in ("Date", "Message-ID"):
        theirs.replace_header(name, ours[name])
    for linesep in ("\n", "\r\n"):
        assert ours.as_bytes(linesep=linesep) == theirs.as_bytes(linesep=linesep)
    assert ours.as_string() == theirs.as_string()


def _both(email):
    """``email`` (a ``sending.Email``) and Django's own class's message of it."""
    theirs = mail.EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        reply_to=email.reply_to,
        headers=email.extra_headers,
        alternatives=email.alternatives,
    )
    theirs.attachments = list(email.attachments)
    return email.message(), theirs.message()


THREAD = {
    **threads.headers("HD-000042", reply_to="support@example.com"),
    "Date": "Fri, 04 Dec 2026 13:00:00 -0000",
    "References": " ".join(f"<hd.HD-{n:06}.thread.x@example.com>" for n in range(9)),
}

VARIANTS = {  # subject, body, html, to, headers, attachments
    "pl, long line (quoted-printable), csv": (
        "[HD-000042] Nowe zgłoszenie w kolejce Support: " + "ż" * 60,
        "Dzień dobry,\n" + "x" * 1200 + "\n",
        "<p>Здравствуйте</p>",
        "Zoë <zoe@example.com>",
        THREAD,
        [("report.csv", "a,b\n1,2\n", "text/csv")],
    ),
    "en, ascii (7bit)": (
        "[HD-000042] New ticket",
        "Hello Ann,\nA ticket.\n",
        "<p>Hello Ann,</p>",
        "ann@example.com",
        THREAD,
        [],
    ),
    "ru, 8bit, no thread headers": (
        "Новое обращение",
        "Здравствуйте, Иван!\n" + "щ" * 400 + "\n",  # 800 bytes: not long
        "<p>Здравствуйте, Иван &quot;Ваня&quot;!</p>",
        "Иван <ivan@example.com>",
        {},
        [("отчёт.csv", "имя,число\nы,1\n", "text/csv")],
    ),
    "pl, a line of 999 bytes, no html": (
        "Zgłoszenie",
        "ą" * 499 + "b\nkoniec\n",
        None,
        "ola@example.com",
        {"Reply-To": "Wsparcie <pomoc@example.com>"},
        [("a.txt", "x" * 2000, "text/plain")],
    ),
    "line ends bytes do not split (form feed)": (
        "s",
        ("y" * 600 + "\x0c") * 2 + "\n",
        "<p>x</p>",
        "a@example.com",
        {},
        [],
    ),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_our_messages_flatten_byte_for_byte_as_djangos(variant):
    subject, body, html, to, headers, attachments = VARIANTS[variant]
    for _ in range(3):  # the first from Django's classes, then from the prototypes
        email = sending.Email(subject=subject, body=body, to=[to], headers=headers)
        if html is not None:
            email.attach_alternative(html, "text/html")
        for attachment in attachments:
            email.attach(*attachment)
        ours, theirs = _both(email)
        multiparts = [p.get_boundary() for p in ours.walk() if p.is_multipart()]
        assert len(multiparts) == len(set(multiparts))
        _same_bytes(ours, theirs)


def test_parts_copied_from_one_prototype_share_nothing():
    first = mime.text_part("Hello Ann", "plain", "utf-8")
    second = mime.text_part("Hello Bo", "plain", "utf-8")
    second["X-Test"] = "only here"
    second.defects.append("only here")
    assert first.get_payload() == "Hello Ann"
    assert second.get_payload() == "Hello Bo"
    assert "X-Test" not in first and first.defects == []


@pytest.mark.django_db
def test_every_delivered_email_is_byte_for_byte_what_django_builds(users):
    """The whole path: agents' alerts in en, pl and ru (shared renderings), other
    kinds, an address and an attachment, each email compared with Django's own
    message of the same content; no recipient's text is in another's email."""
    messages = _outgoing(users)
    messages.append(
        sending.Outgoing(
            kind="account_approved",
            recipient=users[4],
            context={},
            idempotency_key="evt-1:report",
            attachments=(sending.EmailAttachment("raport.csv", "ą,b\n1,2\n"),),
        )
    )
    outcomes, keys = sending.store(messages)
    assert sending.deliver(keys) == {key: "sent" for key in keys}
    assert len(mail.outbox) == 11
    for email in mail.outbox:
        ours, theirs = _both(email)
        _same_bytes(ours, theirs)
        for name, _language in NAMES:
            if email.to[0] != f"user{NAMES.index((name, _language))}@example.com":
                assert name not in email.body
    assert [len(e.attachments) for e in mail.outbox].count(1) == 1


def test_a_boundary_found_in_the_content_is_drawn_again():
    taken = uuid.UUID(int=1)
    with mock.patch.object(
        mime.os,
        "urandom",
        side_effect=[taken.bytes, uuid.UUID(int=2).bytes, uuid.UUID(int=3).bytes],
    ):
        email = sending.Email(subject="s", body=f"--==hd{taken.hex}==\n", to=["a@b.c"])
        email.attach_alternative("<p>x</p>", "text/html")
        message = email.message()
    assert message.get_boundary() == f"==hd{uuid.UUID(int=2).hex}=="
    parsed = message_from_bytes(message.as_bytes())
    assert [p.get_payload(decode=True) for p in parsed.get_payload()] == [
        f"--==hd{taken.hex}==\n".encode(),
        b"<p>x</p>",
    ]


def test_names_side_by_side_raw_and_escaped_are_each_replaced_once():
    """The marker found as plain text: adjacent names, raw and escaped forms mixed,
    and names that look like escapes themselves give what rendering for each
    recipient gives, with one rendering for all."""
    shared = batch.Batch(connect=mail.get_connection)
    calls = []

    def render(recipient):
        calls.append(recipient)

        def raw():  # asked each time, as a template does
            return recipient.get_short_name()

        def safe():
            return str(conditional_escape(recipient.get_short_name()))

        return (
            "subject",
            f"{raw()}{raw()} & {raw()}",
            f"<p>{safe()}{raw()}{safe()}</p>{safe()}",
        )

    for name in ["Ann", "A&amp;B", "<i>&lt;", "Zq&Qz", ""]:
        recipient = _User(name)
        expected = render(_User(name))
        calls.pop()
        assert (
            shared.render(
                render, kind="k", context={}, language="en", recipient=recipient
            )
            == expected
        )
    assert len(calls) == 1  # the stand-in's rendering, shared by all five
