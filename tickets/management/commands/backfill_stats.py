from django.core.management.base import BaseCommand, CommandError

from tickets.tasks import backfill_stats


class Command(BaseCommand):
    help = (
        "Rebuild the ticket statistics of the last N days (today included) and of "
        "the weeks, months and years containing them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days, **options):
        if days < 1 or days > 3660:
            raise CommandError("--days must be between 1 and 3660.")
        slices = backfill_stats(days)
        self.stdout.write(f"{slices} statistics slices for the last {days} days.")
