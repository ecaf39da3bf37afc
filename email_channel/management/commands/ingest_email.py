"""``manage.py ingest_email [--queue SLUG] < message.eml``: one message from an MTA pipe.

The last line says what happened: ``created HD-000123``, ``replied HD-000123`` or
``ignored: <reason>`` (exit 0). When the intake cannot decide, the raw message is
written to ``EMAIL_SPOOL_DIR`` and the command exits 75 (EX_TEMPFAIL: MTAs retry).
"""

import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.models import Queue

from ...intake import ingest

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Turn one email read from standard input into a ticket or a reply."

    def add_arguments(self, parser):
        parser.add_argument("--queue", help="slug of the queue (default: by address)")

    def handle(self, *args, queue=None, **options):
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message on standard input.")
        try:
            target = Queue.objects.get(slug=queue) if queue else None
        except Queue.DoesNotExist:
            raise CommandError(f"No queue with slug “{queue}”.") from None
        try:
            result = ingest(raw, queue=target)
        except Exception as error:
            path = self._spool(raw)
            self.stderr.write(f"could not decide ({error}); message saved to {path}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(result.line())

    def _spool(self, raw: bytes) -> Path:
        folder = Path(settings.EMAIL_SPOOL_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(raw)
        return path
