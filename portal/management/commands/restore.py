from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Replace the database content and files with a backup archive's."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--yes", action="store_true", help="do not ask for confirmation"
        )

    def handle(self, *args, path, yes=False, **options):
        if not yes:
            answer = input(
                "This replaces ALL data with the backup's. Type 'restore' to go on: "
            )
            if answer.strip() != "restore":
                raise CommandError("Restore cancelled.")
        try:
            manifest = restore_backup(path)
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            self.style.SUCCESS(f"Restored the backup of {manifest['created_at']}")
        )
