from django.core.management.base import BaseCommand

from portal.schedules import apply_schedules


class Command(BaseCommand):
    help = "Register every scheduled job (idempotent: upsert by name)."

    def handle(self, *args, **options):
        for name, created in apply_schedules():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
