"""Messages ingested per second through ``ingest_email``'s code path, in process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_email \\
        .venv/bin/python bench/email_ingest.py [--messages 1000]

Migrates the database named by ``DATABASE_URL`` (SQLite file by default), makes a queue
and 50 customers, builds the messages first (each with a PNG and a PDF attachment; one
in five a reply to an earlier ticket by ``[HD-…]`` in the subject), then times
``email_channel.intake.ingest`` on each: parsing, checks, threading, the ticket or
reply with its files stored, its audit events and notification outbox rows. The
sender rate limit is off (the limiter still runs). Results: bench/results/email-ingest.*
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(range(64)) * 2 for _ in range(64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 128, 64, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 20_000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-email-media-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "email_inbound": ""}
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.services import register_customer
    from email_channel.intake import ingest
    from email_channel.models import InboundMessage
    from tickets.models import Queue, Ticket

    group, _ = Group.objects.get_or_create(name="Bench email agents")
    queue, _ = Queue.objects.get_or_create(
        slug="bench-email",
        defaults={
            "name": "Bench email",
            "inbound_address": "bench@helpdesk.example",
            "agent_group": group,
        },
    )
    senders = []
    for n in range(50):
        address = f"bench.sender{n}@customer.example"
        user = User.objects.filter(email=address).first()
        if user is None:
            user = register_customer(User(email=address))
        senders.append(address)
    run = time.strftime("%Y%m%d%H%M%S")
    png = _png()

    def message(n: int, subject: str, sender: int | None = None) -> bytes:
        mail = EmailMessage()
        mail["From"] = senders[(n if sender is None else sender) % len(senders)]
        mail["To"] = "bench@helpdesk.example"
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(
            idstring=f"{run}.{n}", domain="customer.example"
        )
        mail.set_content(f"Message {n} of the run.\n\n-- \nA sender\n")
        mail.add_attachment(png, maintype="image", subtype="png", filename="shot.png")
        mail.add_attachment(
            PDF, maintype="application", subtype="pdf", filename="log.pdf"
        )
        return mail.as_bytes()

    created = []
    timings = []
    outcomes = {}
    started = time.perf_counter()
    for n in range(args.messages):
        if n % 5 == 4 and created:  # the requester answers their last ticket
            reference, by = created[-1]
            raw = message(n, f"Re: [{reference}] follow-up", sender=by)
        else:
            raw = message(n, f"Bench message {n}")
        t0 = time.perf_counter()
        result = ingest(raw, queue=queue)
        timings.append(time.perf_counter() - t0)
        outcomes[str(result.outcome)] = outcomes.get(str(result.outcome), 0) + 1
        if result.outcome == "created":
            created.append((result.reference, n))
    elapsed = time.perf_counter() - started
    timings.sort()
    result = {
        "messages": args.messages,
        "attachments_per_message": 2,
        "message_bytes_approx": len(message(0, "x")),
        "outcomes": outcomes,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(args.messages / elapsed, 1),
        "p50_ms": round(statistics.median(timings) * 1000, 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 1),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "tickets_total": Ticket.objects.count(),
        "inbound_total": InboundMessage.objects.count(),
    }
    out = ROOT / "bench" / "results"
    (out / "email-ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "email-ingest.md").write_text(
        "# Email intake: messages per second (bench/email_ingest.py)\n\n"
        f"{args.messages} messages, each with a PNG and a PDF attachment "
        f"(~{result['message_bytes_approx'] // 1024} KiB), one in five a reply by "
        f"subject reference, in process on {result['database']} "
        f"({result['cpus']} shared cores):\n\n"
        f"- **{result['messages_per_second']} messages/s** "
        f"({result['seconds']} s in total)\n"
        f"- per message: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms\n"
        f"- outcomes: {outcomes}\n"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
