from django.core.management.base import BaseCommand, CommandError

from tickets.tasks import backfill_stats


class Command(BaseCommand):
    help = "Recompute the daily ticket statistics of the last N days (today included)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days, **options):
        if days < 1 or days > 3660:
            raise CommandError("--days must be between 1 and 3660.")
        rows = backfill_stats(days)
        self.stdout.write(f"{rows} rows for the last {days} days.")
