"""Whole customer-facing pages for before/after comparisons (bench FINDINGS P-4): the
site's chrome (header, footer, ``<head>``) on public, portal and account pages for
anonymous readers, customers, an agent and an administrator, and the KB search over
many terms (pages, a category, bad page and category values; anonymous, a customer,
an agent), in en/pl/ru; byte for byte except what changes per request (the CSRF
token, the CSP nonce). Read-only apart from the search counters: run it against a
copy of ``bench_full``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_6_bench \\
    REDIS_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python bench/customer_pages_oracle.py DIR

then ``diff -r BEFORE AFTER``. Each page is asked twice (the second answer is the
one a warm process gives, kept chrome included) and both are written.
"""

import re
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up (GC settings)

# isort: split

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

LANGUAGES = ["en", "pl", "ru"]
PREFIX = {"en": "", "pl": "/pl", "ru": "/ru"}
TERMS = [
    "password",
    "reset password",
    "PASSWORD",
    "passw",
    "invoice",
    "billing",
    "account",
    "login",
    "email",
    "export",
    "the",
    "a",
    "how do I change my password",
    "no-such-word-anywhere",
    "zzzzqqq",
    "<b>\"&'",
    "%",
    "_",
    "  ",
    "пароль",
    "сбросить пароль",
    "hasło",
    "faktura",
    "konto",
    "日本語",
    "a" * 300,
    "password -reset",
    "pass*",
    "NEAR(",
]
CHROME_PAGES = [
    "/",
    "/kb/",
    "/kb/search/",
    "/portal/",
    "/portal/tickets/",
    "/portal/tickets/?status=all&page=2",
    "/portal/tickets/new/",
    "/account/profile/",
    "/accounts/login/",
    "/accounts/signup/",
    "/no-such-page/",
    "/kb/search/?q=password&next=%3Cx%3E",
]
SEARCHERS = ("anonymous", "big", "agent")  # the KB search: who asks each term
MASKS = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrf" value=""'),
    (re.compile(rb'nonce="[^"]*"'), b'nonce=""'),
]


def users() -> dict[str, str | None]:
    from django.db.models import Count

    from accounts.models import Organization

    User = get_user_model()
    picked = {"anonymous": None, "big": "customer0@load.example"}
    orgs = Organization.objects.annotate(n=Count("memberships")).filter(n__gte=2)
    for sharing in sorted(set(orgs.values_list("ticket_sharing", flat=True))):
        org = orgs.filter(ticket_sharing=sharing).order_by("pk").last()
        member = (
            User.objects.filter(memberships__organization=org).order_by("pk").first()
        )
        picked[f"org-{sharing}"] = member.email
    for label, found in (
        ("agent", User.objects.filter(email="agent0@load.example")),
        ("admin", User.objects.filter(is_superuser=True).order_by("pk")),
    ):
        user = found.first()
        if user is not None:
            picked[label] = user.email
    return picked


def _write(out: str, name: str, response, note: str) -> None:
    body = response.content
    for pattern, mask in MASKS:
        body = pattern.sub(mask, body)
    head = f"{note} {response.status_code} {response.get('Location', '')}\n"
    Path(out, name).write_bytes(head.encode() + body)


def main(out: str) -> None:
    from kb.models import CategoryPage

    User = get_user_model()
    Path(out).mkdir(parents=True, exist_ok=True)
    category = CategoryPage.objects.live().order_by("path").first()
    suffixes = ["", "&page=2", "&page=x", "&category=999999"]
    if category is not None:
        suffixes += [f"&category={category.pk}", f"&category={category.pk}&page=2"]
    for label, email in users().items():
        client = Client()
        if email is not None:
            client.force_login(User.objects.get(email=email))
        for language in LANGUAGES:
            for n, path in enumerate(CHROME_PAGES):
                for turn in (1, 2):
                    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
                    _write(
                        out,
                        f"chrome-{label}-{language}-{n:02d}-{turn}.html",
                        response,
                        f"{email} {path}",
                    )
            if label not in SEARCHERS:
                continue
            for n, term in enumerate(TERMS):
                for suffix in suffixes:
                    path = f"{PREFIX[language]}/kb/search/?q={quote(term)}{suffix}"
                    for turn in (1, 2):
                        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
                        tag = quote(suffix, safe="")
                        name = f"kb-{label}-{language}-{n:02d}-{tag}-{turn}.html"
                        _write(out, name, response, f"{email} {path}")
        print(label, email)


if __name__ == "__main__":
    main(sys.argv[1])
