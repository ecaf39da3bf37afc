"""Every email goes through the notification layer (``portal/notifications/``): a row
in the outbox, written with the change, delivered and retried by workers. Code outside
it that calls Django's mail APIs directly sends mail that a passing SMTP outage loses,
with no record. This guard reads the source (AST) of the project's packages and fails on
such a call; the allow-list names each exception and why."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["portal", "accounts", "tickets", "kb", "email_channel", "graphql_api"]

#: Django's sending APIs (``django.core.mail``); ``mail.outbox`` in tests is fine.
SENDING = {
    "send_mail",
    "send_mass_mail",
    "mail_admins",
    "mail_managers",
    "EmailMessage",
    "EmailMultiAlternatives",
    "get_connection",
}

#: path → why it may call Django's mail APIs.
ALLOWED = {
    "portal/notifications/sending.py": "the notification layer itself: it renders an "
    "outbox row and hands it to Django's mail backend",
}
# Not in our code, so not seen here, and sent at once on purpose: allauth's own emails
# (sign-up verification, password reset, login codes) go through
# ``accounts.adapter.AccountAdapter.send_mail`` (inherited); see its comment.


def mail_calls(source: str) -> list[str]:
    """The uses of Django's sending APIs in ``source``: imported names and
    ``mail.<name>`` attributes."""
    found = []
    tree = ast.parse(source)
    mail_modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.core.mail":
            found += [
                f"{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name in SENDING
            ]
        elif isinstance(node, ast.ImportFrom) and node.module == "django.core":
            mail_modules |= {a.asname or a.name for a in node.names if a.name == "mail"}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("django.core.mail"):
                    mail_modules.add(alias.asname or "django")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in SENDING
            and (
                (isinstance(node.value, ast.Name) and node.value.id in mail_modules)
                or ast.unparse(node.value) == "django.core.mail"
            )
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative:
                continue
            yield relative, path


def test_no_code_outside_the_notification_layer_sends_mail_itself():
    offenders = {}
    for relative, path in source_files():
        calls = mail_calls(path.read_text())
        if calls and relative not in ALLOWED:
            offenders[relative] = calls
    assert offenders == {}


def test_every_allowed_file_still_sends_mail():
    """An exception that no longer applies is removed, not kept as a blank cheque."""
    stale = [name for name in ALLOWED if not mail_calls((ROOT / name).read_text())]
    assert stale == []


def test_the_guard_sees_each_way_of_calling_the_mail_api():
    assert mail_calls("from django.core.mail import send_mail\n") == [
        "1: import send_mail"
    ]
    assert mail_calls("from django.core.mail import mail_admins as m\n") == [
        "1: import mail_admins"
    ]
    assert mail_calls("from django.core import mail\nmail.send_mail('s', 'b')\n") == [
        "2: mail.send_mail"
    ]
    assert mail_calls("import django.core.mail\ndjango.core.mail.mail_admins()\n") == [
        "2: django.core.mail.mail_admins"
    ]
    assert (
        mail_calls(
            "from email.message import EmailMessage\nfrom django.core import mail\n"
            "print(mail.outbox)\n"
        )
        == []
    )
