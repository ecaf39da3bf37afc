from django.core.management.base import BaseCommand
from django.db import transaction

from portal import demo


class Command(BaseCommand):
    help = "Create or refresh the demo site (idempotent). Password from DEMO_PASSWORD."

    def handle(self, *args, **options):
        lines: list[str] = []
        with transaction.atomic():
            context = demo.load(lines.append)
        self.stdout.write(self.style.SUCCESS("Demo site ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(f"  Demo password: {context.password}")
