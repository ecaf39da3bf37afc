"""The bytes of a set of notification emails, for comparing two trees (an oracle).

Not part of the suite. Sends 15 kinds x 6 events, each to four users (en; pl with a
long name; ru; default language with ``O'Brien & <Co>``) and a bare address (with a
CSV attachment on every third event), through the outbox (``sending.send_notifications``,
the locmem backend), with contexts of ``test_skeletons``' random values, Polish and
Russian subjects, a reference and Reply-To on half. Every random draw comes from one
seeded sequence (``os.urandom``, what ``secrets`` and ``uuid4`` read), the clock of
``time.time`` steps 0.37 s a call and ``make_msgid`` is a counter. Each email is
written as ``as_bytes()`` and ``as_bytes(linesep="\\r\\n")`` of one message:

    OUT=/tmp/a.bin .venv/bin/python -m pytest -p no:cacheprovider -q \
        bench/notification_bytes_oracle.py

Run it in both trees (SQLite, and ``DATABASE_URL`` on PostgreSQL) and ``cmp`` the files.
"""

import itertools
import os
import random
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import message as django_message

from portal.notifications import sending
from portal.notifications.tests.test_skeletons import KINDS, TEXTS, _names, _value

USERS = [
    ("Plain Person", "en"),
    ("Zbigniew Brzęczyszczykiewicz-Chrząszczyżewoszycki z Łęk", "pl"),
    ("Ольга Смирнова", "ru"),
    ("O'Brien & <Co>", ""),
]
REPLY_TO = ["", "support@example.com", "Wsparcie «techniczne» <help@example.com>"]
SUBJECTS = ["Drukarka się pali: pilne!", "Принтер горит", "x" * 90, "Printer"]


@pytest.mark.django_db
def test_bytes(settings, make_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seeded = random.Random("notification-bytes")
    clock = itertools.count()

    def urandom(n):
        return seeded.randbytes(n)

    def now():
        return 1_780_000_000 + 0.37 * next(clock)

    ids = itertools.count()
    users = [
        make_user(f"user{n}@example.com", display_name=name, locale=language)
        for n, (name, language) in enumerate(USERS)
    ]
    out = []
    rng = random.Random("notification-bytes-contexts")
    with (
        mock.patch("os.urandom", urandom),
        mock.patch("random._urandom", urandom),
        mock.patch("time.time", now),
        mock.patch.object(
            django_message,
            "make_msgid",
            lambda domain=None, **kw: f"<{next(ids)}@{domain}>",
        ),
    ):
        for kind, event in itertools.product(KINDS, range(6)):
            names = _names(kind)
            context = {n: _value(rng, n) for n in names if rng.random() > 0.1}
            if "days" in names:
                context["days"] = _value(rng, "days")
            if event % 2:
                context["reference"] = f"HD-{rng.randint(1, 999999):06d}"
                context["reply_to"] = REPLY_TO[event % 3]
            if "subject" in names:
                context["subject"] = rng.choice([*SUBJECTS, *TEXTS[:4]])
            key = f"{kind}-{event}"
            attachments = ()
            if event % 3 == 0:
                attachments = (
                    sending.EmailAttachment("r.csv", "a,b\nŁ,«x»\n", "text/csv"),
                )
            messages = [
                sending.Outgoing(kind, user, context, f"{key}:{user.pk}")
                for user in users
            ]
            messages.append(
                sending.Outgoing(
                    kind,
                    sending.Address(
                        email="addr@example.com", locale=["", "pl", "ru"][event % 3]
                    ),
                    context,
                    f"{key}:address",
                    attachments=attachments,
                )
            )
            mail.outbox.clear()
            try:
                sending.send_notifications(messages)
            except Exception as exc:  # the same in both trees
                out.append(f"{key} raised {type(exc).__name__}\n".encode())
            for email in mail.outbox:
                message = email.message()
                out += (message.as_bytes(), message.as_bytes(linesep="\r\n"))
    with open(os.environ["OUT"], "wb") as f:
        f.write(b"\n=====\n".join(out))
    print(f"\n{len(out) // 2} emails, {sum(map(len, out))} bytes")
