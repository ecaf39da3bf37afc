from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, verify_backup


class Command(BaseCommand):
    help = (
        "Restore the newest backup in BACKUP_LOCATION (or PATH) into a scratch "
        "database and compare every model's row count with its manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?")

    def handle(self, *args, path=None, **options):
        try:
            summary = verify_backup(path)
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['backup']} restores: {summary['rows']} rows of "
                f"{summary['models']} models match its manifest"
            )
        )
