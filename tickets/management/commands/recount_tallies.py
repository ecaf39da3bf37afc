"""``manage.py recount_tallies``: the ticket numbers the triggers keep (``QueueTally``,
``GrantTally``, ``TalliedUser``), counted again from the rows as they are. The
restore runs it after ``loaddata`` (``portal.backup.load_database``)."""

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from tickets.models import tallies


class Command(BaseCommand):
    help = "Count the visibility tallies again from the tickets and grants."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        tallies.recount(database)
