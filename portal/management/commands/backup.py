from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, apply_retention, create_backup


class Command(BaseCommand):
    help = (
        "Take one consistent backup of the database and files: to PATH, or to "
        "BACKUP_LOCATION (a folder or s3://bucket/prefix), encrypted when "
        "BACKUP_ENCRYPTION_KEY is set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", help="write here instead of BACKUP_LOCATION"
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="then delete old backups in BACKUP_LOCATION (7 daily, 4 weekly, "
            "12 monthly by default)",
        )

    def handle(self, *args, path=None, prune=False, **options):
        try:
            where, manifest = create_backup(path)
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Backup written to {where}"))
        rows = sum(manifest["counts"].values())
        self.stdout.write(f"  {rows} rows of {len(manifest['counts'])} models")
        for alias, count in manifest["files"].items():
            self.stdout.write(f"  files in {alias}: {count}")
        if prune:
            for name in apply_retention():
                self.stdout.write(f"  deleted old backup {name}")
