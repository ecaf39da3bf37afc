"""Bulk data for the benchmarks: ``manage.py generate_load_data --tickets 250000 ...``.

The work is done by ``portal.loaddata``; see bench/README.md for the shapes it makes.
"""

from time import monotonic

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.loaddata import AlreadyGenerated, Sizes, generate


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Generate organizations, customers, agents, queues, tickets and KB articles."

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=_non_negative, default=200)
        parser.add_argument("--tickets", type=_non_negative, default=10000)
        parser.add_argument("--organizations", type=_non_negative, default=100)
        parser.add_argument("--customers", type=_non_negative, default=1000)
        parser.add_argument("--agents", type=_non_negative, default=20)
        parser.add_argument("--queues", type=_non_negative, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw progress bars."
        )

    def handle(self, *args, **options):
        sizes = Sizes(
            articles=options["articles"],
            tickets=options["tickets"],
            organizations=options["organizations"],
            customers=options["customers"],
            agents=options["agents"],
            queues=options["queues"],
            seed=options["seed"],
        )
        started = monotonic()
        try:
            result = generate(sizes, progress=not options["no_progress"])
        except (AlreadyGenerated, ValueError) as exc:
            raise CommandError(str(exc))
        if result.tickets:
            # The desk reports read the statistics roll-ups: fill them for the whole
            # generated history (about 760 days).
            call_command("backfill_stats", "--days", "800", stdout=self.stdout)
        for what in result.skipped:
            self.stderr.write(f"Skipped {what}.")
        self.stdout.write(
            f"Generated {len(result.people.organizations)} organizations, "
            f"{len(result.people.customers)} customers, {len(result.people.agents)} "
            f"agents, {len(result.article_ids)} articles"
            + (f", {result.tickets.count} tickets" if result.tickets else "")
            + f" in {monotonic() - started:.1f}s."
        )
