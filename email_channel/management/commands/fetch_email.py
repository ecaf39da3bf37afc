"""``manage.py fetch_email``: poll every enabled queue mailbox once (the schedule does
this every minute)."""

from django.core.management.base import BaseCommand

from ...imap import poll_all


class Command(BaseCommand):
    help = "Fetch new email from every queue mailbox over IMAP."

    def handle(self, *args, **options):
        counts = poll_all()
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        self.stdout.write(summary or "nothing new")
