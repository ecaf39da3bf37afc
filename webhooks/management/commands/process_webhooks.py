from django.core.management.base import BaseCommand

from webhooks.delivery import deliver_due


class Command(BaseCommand):
    help = "Deliver the webhook deliveries that are due (retries included)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="At most this many attempts."
        )

    def handle(self, *args, limit=None, **options):
        outcomes = deliver_due(limit=limit)
        self.stdout.write(
            "delivered: {delivered}, to retry: {retry}, failed: {failed}".format(
                delivered=outcomes["delivered"],
                retry=outcomes["retry"],
                failed=outcomes["failed"],
            )
        )
