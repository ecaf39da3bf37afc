from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts import events
from portal.keyring import KeyRingError, encryption_enabled, keyring
from tickets.attachments import STORAGE_ERRORS, AttachmentUnreadable, encrypt_existing
from tickets.models import Attachment


class Command(BaseCommand):
    help = (
        "Encrypt attachment files stored in plaintext (before encryption at rest was "
        "on). Resumable and idempotent: run it again after an interruption."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(self, *args, no_progress=False, **options):
        if not encryption_enabled():
            raise CommandError("ATTACHMENT_ENCRYPTION is off: nothing to encrypt with.")
        try:
            key_id = keyring().current_id
        except KeyRingError as error:
            raise CommandError(str(error)) from error
        pending = Attachment.objects.filter(encryption_key_id="").order_by("pk")
        total = pending.count()
        encrypted = skipped = 0
        failures = []
        with tqdm(
            total=total, desc="encrypting", unit="file", disable=no_progress
        ) as bar:
            for attachment in pending.iterator():
                try:
                    if encrypt_existing(attachment):
                        encrypted += 1
                    else:
                        skipped += 1
                except (AttachmentUnreadable, *STORAGE_ERRORS) as error:
                    failures.append(f"attachment {attachment.pk}: {error}")
                bar.update(1)
        events.record_command(
            events.Kind.ATTACHMENTS_ENCRYPTED,
            key_id=key_id,
            encrypted=encrypted,
            skipped=skipped,
            failed=len(failures),
        )
        self.stdout.write(
            f"{encrypted} encrypted, {skipped} already encrypted, "
            f"{len(failures)} failed (key {key_id})."
        )
        for failure in failures:
            self.stderr.write(failure)
        if failures:
            raise CommandError(f"{len(failures)} files could not be encrypted.")
