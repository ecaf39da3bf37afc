"""``mime._alternatives_message`` (an email of ours: a text body, one HTML
alternative, a thread's headers) builds the message Django's own
``EmailMultiAlternatives.message()`` builds, byte for byte, and leaves every other
email to the step-by-step build."""

import random
from email.errors import HeaderParseError
from unittest import mock

import pytest
from django.utils.translation import gettext_lazy

from portal.notifications import mime, sending, threads

from .test_batched_delivery import _both, _same_bytes

SUBJECTS = [
    "[HD-000042] New ticket",
    "[HD-000042] Nowe zgłoszenie w kolejce «Wsparcie techniczne» & <Co>: " + "ż" * 40,
    "[HD-000042] Новое обращение: принтер <b>горит</b> & дым",
    "x" * 120,
    "tabs\tand {braces} %(pct)s",
    "a" * 70 + " " + "b" * 70,
]
TEXTS = [
    "Hello Ann,\nA ticket.\n",
    "Dzień dobry, Łukasz Żółć!\n" + "ą" * 300 + "\n",
    "Здравствуйте, Ольга!\r\nтекст\r\n",
    "long " + "y" * 1200 + "\n",  # quoted-printable
    "form feed\x0cand\x0bvertical tab\n",
    "==hd" + "0" * 32 + "==\n",
]
HTMLS = ["<p>Hello Ann</p>", "<p>Здравствуйте &quot;Ваня&quot;</p>", "<p>" + "ż" * 600]
TO = [
    "ann@example.com",
    "Zoë <zoe@example.com>",
    "Ольга Смирнова <olga@example.com>",
    '"O\'Brien & <Co>" <ob@example.com>',
]


def _headers(rng):
    choice = rng.randrange(4)
    if choice == 0:
        return {}
    if choice == 1:
        return threads.headers("HD-000042")
    if choice == 2:
        return threads.headers("HD-000042", reply_to="Wsparcie <pomoc@example.com>")
    return threads.headers("HD-00042" + "1" * rng.randrange(40), reply_to="a@b.c")


@pytest.mark.parametrize("seed", range(8))
def test_our_emails_are_built_as_django_builds_them(seed):
    rng = random.Random(seed)
    built = mock.patch.object(
        mime, "_alternatives_message", wraps=mime._alternatives_message
    )
    with built as spy:
        for _ in range(40):
            email = sending.Email(
                subject=rng.choice(SUBJECTS),
                body=rng.choice(TEXTS),
                to=[rng.choice(TO)],
                headers=_headers(rng),
            )
            email.attach_alternative(rng.choice(HTMLS), "text/html")
            ours, theirs = _both(email)
            _same_bytes(ours, theirs)
            assert [p.get_content_type() for p in ours.walk()] == [
                "multipart/alternative",
                "text/plain",
                "text/html",
            ]
    assert spy.call_count == 40


def test_a_lazy_subject_and_a_line_break_in_a_header_are_handled_as_django_does():
    email = sending.Email(subject=gettext_lazy("Ticket"), body="b", to=["a@b.c"])
    email.attach_alternative("<p>b</p>", "text/html")
    _same_bytes(*_both(email))
    email = sending.Email(
        subject="s", body="b", to=["a@b.c"], headers={"Message-ID": "<x>\n<y>"}
    )
    email.attach_alternative("<p>b</p>", "text/html")
    with pytest.raises(mime.django_message.BadHeaderError):
        email.message()


@pytest.mark.parametrize(
    "change",
    [
        {"cc": ["c@example.com"]},
        {"reply_to": ["r@example.com"]},
        {"headers": {"Date": "Fri, 04 Dec 2026 13:00:00 -0000"}},
        {"headers": {"message-id": "<x@y>"}},
        {"headers": {"From": "Other <o@example.com>"}},
        {"headers": {"X-Other": "1"}},
        {"attachments": [("a.txt", "x", "text/plain")]},
        {"body": ""},
        {"alternative": "text/x-other"},
        {"second": True},
    ],
    ids=str,
)
def test_other_emails_are_built_step_by_step_as_before(change):
    email = sending.Email(
        subject="s",
        body=change.get("body", "text"),
        to=["a@example.com"],
        cc=change.get("cc"),
        reply_to=change.get("reply_to"),
        headers=change.get("headers"),
        attachments=change.get("attachments"),
    )
    email.attach_alternative("<p>x</p>", change.get("alternative", "text/html"))
    if change.get("second"):
        email.attach_alternative("<p>y</p>", "text/html")
    assert mime._alternatives_message(email) is None
    _same_bytes(*_both(email))


def test_messages_built_from_one_prototype_share_nothing():
    def build(name):
        email = sending.Email(subject="s", body=f"Hi {name}", to=[f"{name}@e.com"])
        email.attach_alternative(f"<p>{name}</p>", "text/html")
        return email.message()

    first, second = build("ann"), build("bo")
    second["X-Test"] = "only here"
    second.get_payload()[0]["X-Part"] = "only here"
    second.attach(mime.text_part("more", "plain", "utf-8"))
    second.defects.append("only here")
    assert "X-Test" not in first and first.defects == []
    assert len(first.get_payload()) == 2
    assert "X-Part" not in first.get_payload()[0]
    assert first.get_payload()[0].get_payload() == "Hi ann"
    assert first.get_boundary() != second.get_boundary()


@pytest.mark.parametrize("seed", range(4))
def test_ascii_subjects_are_checked_as_django_checks_them(seed):
    rng = random.Random(seed)
    alphabet = "abc XYZ019\t;,:.()[]<>\"'=?-_!@#$%^&*{}|/\\~`\x00\x7f\x0b\x0c\x1c\r\n  "
    values = ["", " ", "\t", " lead", "trail ", "=?utf-8?q?x?=", "a" * 76, "a" * 77]
    values += ["x " * 38, "x " * 38 + "y", "[HD-000123] New ticket: Parts 3"]
    for _ in range(3000):
        length = rng.choice([rng.randint(0, 90), rng.randint(70, 80)])
        values.append("".join(rng.choice(alphabet) for _ in range(length)))
    for value in values:
        for name in ("Subject", "subject", "X-Other"):
            try:
                expected = mime.forbid_multi_line_headers(name, value, "utf-8")
            except (mime.django_message.BadHeaderError, HeaderParseError) as error:
                with pytest.raises(type(error)):
                    mime._checked.__wrapped__(name, value, "utf-8")
                continue
            assert mime._checked.__wrapped__(name, value, "utf-8") == expected
