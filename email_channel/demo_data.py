"""Demo: the Support queue's mailbox (disabled: there is no demo IMAP server) and a few
tickets that arrived by email, through the real intake. Idempotent: each demo message
has a fixed Message-ID, and the intake processes a Message-ID once."""

from email.message import EmailMessage

from portal.demo import DemoContext
from tickets import hooks
from tickets.models import Queue

from .intake import ingest
from .models import Mailbox, Security

MESSAGES = [
    (
        "<demo-email-1@acme.example>",
        "Alice <alice@acme.example>",
        "Invoice PDF will not open",
        "Hi,\n\nthe invoice you sent this morning will not open on my laptop.\n\n"
        "Thanks,\nAlice\n-- \nAlice, Acme Corp",
    ),
    (
        "<demo-email-2@newcustomer.example>",
        "Dana Newcomer <dana@newcustomer.example>",
        "How do I sign up for the team plan?",
        "Hello, we are five people and would like the team plan. Where do I start?",
    ),
    (
        "<demo-email-3@globex.example>",
        "Carol <carol@globex.example>",
        "Sync stuck at 99 %",
        "<p>Since <b>Monday</b> the sync stops at 99&nbsp;%.</p>"
        "<blockquote>earlier mail</blockquote>",
    ),
]


def _raw(message_id, sender, subject, body, to) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(body, subtype="html" if body.startswith("<p>") else "plain")
    return mail.as_bytes()


def load(context: DemoContext) -> None:
    queue = Queue.objects.filter(slug="support").first()
    if queue is None:
        return
    Mailbox.objects.get_or_create(
        queue=queue,
        defaults={
            "enabled": False,
            "host": "imap.example.com",
            "port": 993,
            "security": Security.IMAPS,
            "username": queue.inbound_address,
            "password_env": "SUPPORT_IMAP_PASSWORD",
        },
    )
    made = []
    with hooks.suppressed():
        for message_id, sender, subject, body in MESSAGES:
            result = ingest(
                _raw(message_id, sender, subject, body, queue.inbound_address)
            )
            if result.reference:
                made.append(result.reference)
        first = made[0] if made else None
        if first:
            ingest(
                _raw(
                    "<demo-email-1-reply@acme.example>",
                    "Alice <alice@acme.example>",
                    f"Re: [{first}] Invoice PDF will not open",
                    "It opens in another viewer, so it is my PDF reader.\n\n"
                    "On Tue, Support wrote:\n> Which viewer do you use?",
                    queue.inbound_address,
                ),
            )
    if made:
        context.log(f"Email: {len(made)} tickets arrived by email ({', '.join(made)})")
