"""The portal ticket list's whole pages for before/after comparisons (bench FINDINGS
P-3): every (customer, filter/sort/page variant, language) of the list written to a
directory, byte for byte except what changes per request (the CSRF token, the CSP
nonce), with "now" fixed for the "… ago" cells; and the call counts of the bench
scenario's request. Read-only: run it against a copy of ``bench_full``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_6_bench \\
    REDIS_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python bench/portal_list_pages.py DIR

then ``diff -r BEFORE AFTER``. The customers: the big organization's (customer0), a
small organization's with sharing and one without, a customer of no organization, an
agent (the staff branch of the same page).
"""

import datetime as _datetime
import re
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up (GC settings)

# isort: split

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timesince  # noqa: E402

NOW = _datetime.datetime(2026, 12, 5, 12, 0, tzinfo=_datetime.UTC)


class _FixedDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)


# ``timesince`` reads ``datetime.datetime.now``: one fixed instant for both runs
timesince.datetime = types.SimpleNamespace(
    datetime=_FixedDatetime, date=_datetime.date, timedelta=_datetime.timedelta
)

VARIANTS = [
    "",
    "?status=all",
    "?status=closed",
    "?scope=mine",
    "?scope=organization&status=all",
    "?order=priority",
    "?order=created&status=all",
    "?order=-created",
    "?page=2",
    "?status=all&page=3&order=priority",
    "?page=999999",
    "?page=x",
    "?q=a",
    "?q=no-such-ticket-at-all",
    "?q=%3Cb%3E%22%26",
    "?status=bogus&scope=bogus&order=bogus",
]
LANGUAGES = ["en", "pl", "ru"]
MASKS = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrf" value=""'),
    (re.compile(rb'nonce="[^"]*"'), b'nonce=""'),
]


def users() -> dict[str, str]:
    from django.db.models import Count

    from accounts.models import Organization

    User = get_user_model()
    picked = {"big": "customer0@load.example"}
    orgs = Organization.objects.annotate(n=Count("memberships")).filter(n__gte=2)
    for sharing in sorted(set(orgs.values_list("ticket_sharing", flat=True))):
        org = orgs.filter(ticket_sharing=sharing).order_by("pk").last()
        member = (
            User.objects.filter(memberships__organization=org).order_by("pk").first()
        )
        picked[f"org-{sharing}"] = member.email
    lone = (
        User.objects.filter(is_staff=False, memberships__isnull=True)
        .exclude(requested_tickets=None)
        .order_by("pk")
        .first()
    )
    if lone is not None:
        picked["no-org"] = lone.email
    agent = User.objects.filter(email="agent0@load.example").first()
    if agent is not None:
        picked["agent"] = agent.email
    return picked


def main(out: str) -> None:
    User = get_user_model()
    Path(out).mkdir(parents=True, exist_ok=True)
    for label, email in users().items():
        client = Client()
        client.force_login(User.objects.get(email=email))
        for language in LANGUAGES:
            for n, variant in enumerate(VARIANTS):
                response = client.get(
                    "/portal/tickets/" + variant, HTTP_ACCEPT_LANGUAGE=language
                )
                body = response.content
                for pattern, mask in MASKS:
                    body = pattern.sub(mask, body)
                name = f"{label}-{language}-{n:02d}.html"
                Path(out, name).write_bytes(
                    f"{email} {variant} {response.status_code}\n".encode() + body
                )
        print(label, email)


if __name__ == "__main__":
    main(sys.argv[1])
