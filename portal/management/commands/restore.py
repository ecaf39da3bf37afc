from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive (a path, or a backup name in BACKUP_LOCATION): "
        "checks its manifest and checksums, migrates an empty database first, "
        "restores the data and files and rebuilds the search index."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete everything in a database that already holds data",
        )
        parser.add_argument(
            "--yes", action="store_true", help="do not ask for confirmation"
        )
        parser.add_argument(
            "--database-only",
            action="store_true",
            help="load and check the data only (no files, no search index)",
        )

    def handle(
        self, *args, path, replace=False, yes=False, database_only=False, **options
    ):
        if replace and not yes:
            answer = input(
                "This replaces ALL data with the backup's. Type 'restore' to go on: "
            )
            if answer.strip() != "restore":
                raise CommandError("Restore cancelled.")
        try:
            manifest = restore_backup(
                path, replace=replace, database_only=database_only
            )
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            self.style.SUCCESS(f"Restored the backup of {manifest['created_at']}")
        )
