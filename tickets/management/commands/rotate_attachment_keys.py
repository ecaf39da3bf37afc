from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts import events
from portal.fields import reencrypt_all
from portal.keyring import KeyRingError, keyring
from tickets.attachments import rewrap_key
from tickets.models import Attachment


class Command(BaseCommand):
    help = (
        "Re-wrap every attachment's data key under the first key of "
        "ATTACHMENT_ENCRYPTION_KEYS, without rewriting the files, and re-encrypt stored "
        "secrets (webhook secrets). Afterwards the older "
        "keys can be removed from the ring."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(self, *args, no_progress=False, **options):
        try:
            ring = keyring()
        except KeyRingError as error:
            raise CommandError(str(error)) from error
        current = ring.current_id
        pending = (
            Attachment.objects.exclude(encryption_key_id="")
            .exclude(encryption_key_id=current)
            .order_by("pk")
        )
        total = pending.count()
        rewrapped = 0
        failures = []
        with tqdm(
            total=total, desc="re-wrapping", unit="file", disable=no_progress
        ) as bar:
            for attachment in pending.iterator():
                try:
                    rewrapped += rewrap_key(attachment, ring)
                except KeyRingError as error:
                    failures.append(f"attachment {attachment.pk}: {error}")
                bar.update(1)
        try:
            secrets = reencrypt_all(ring)
        except KeyRingError as error:
            secrets = 0
            failures.append(f"stored secrets: {error}")
        events.record_command(
            events.Kind.KEYS_ROTATED,
            key_id=current,
            attachments=rewrapped,
            secrets=secrets,
            failed=len(failures),
        )
        self.stdout.write(
            f"{rewrapped} attachment keys re-wrapped under {current!r}, "
            f"{secrets} stored secrets re-encrypted, {len(failures)} failed."
        )
        for failure in failures:
            self.stderr.write(failure)
        if failures:
            raise CommandError(f"{len(failures)} keys could not be re-wrapped.")
