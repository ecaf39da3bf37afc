from django.core.management.base import BaseCommand

from portal.notifications.sending import Outcome, deliver_due


class Command(BaseCommand):
    help = (
        "Send the notification emails that are due: never sent, retries whose time "
        "has come, and those a stopped worker had claimed (what the "
        "notifications-deliver-due schedule does every minute)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="At most this many emails."
        )

    def handle(self, *args, limit=None, **options):
        counts = deliver_due(limit=limit)
        skipped = sum(n for outcome, n in counts.items() if outcome.startswith("skip"))
        self.stdout.write(
            f"sent: {counts[Outcome.SENT]}, failed: {counts[Outcome.FAILED]}, "
            f"skipped: {skipped}"
        )
