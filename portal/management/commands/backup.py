from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.backup import create_backup


class Command(BaseCommand):
    help = "Write the database and attachments to one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", help="archive path (default: backup-<time>.tar.gz)"
        )

    def handle(self, *args, path=None, **options):
        target = Path(path or f"backup-{timezone.now():%Y%m%d-%H%M%S}.tar.gz")
        manifest = create_backup(target)
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
        for label, count in manifest["counts"].items():
            self.stdout.write(f"  {label}: {count}")
        for alias, count in manifest["files"].items():
            self.stdout.write(f"  files in {alias}: {count}")
