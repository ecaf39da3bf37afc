"""An email backend that several processes can share: each message becomes one file
in ``OUTBOX_MAIL_DIR``, after ``OUTBOX_MAIL_DELAY`` seconds (a slow SMTP server, so
that a test can kill a worker in the middle of its work). A file appears whole or
not at all (written aside, then renamed)."""

import os
import time
import uuid
from email import message_from_bytes
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(settings.OUTBOX_MAIL_DIR)
        for message in email_messages:
            time.sleep(settings.OUTBOX_MAIL_DELAY)
            name = uuid.uuid4().hex
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            os.replace(partial, folder / f"{name}.eml")
        return len(email_messages)


def received(folder) -> list[tuple[str, str]]:
    """(To, Subject) of every message delivered to ``folder``."""
    result = []
    for path in sorted(Path(folder).glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes())
        result.append((parsed["To"], str(parsed["Subject"])))
    return result
