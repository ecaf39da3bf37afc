"""Fetch a queue's mailbox over IMAP (IMAPS or STARTTLS) and hand each message to the
intake.

A message is marked only after the intake has recorded it: processed ones are flagged
``\\Seen`` (or moved to the processed folder), ones the intake could not decide are
moved to the failure folder (the reason is on their ``InboundMessage`` row). When the
connection breaks in between, the next poll fetches the message again and the intake
recognises it by its Message-ID: nothing is lost and nothing is processed twice.
"""

import imaplib
import logging
import re
import ssl
from collections import Counter

from django.conf import settings
from django.utils import timezone

from . import intake
from .models import Mailbox, Security

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
BATCH = 50


class MailboxError(Exception):
    """The mailbox could not be read (server down, login refused, no such folder)."""


def _tls_context() -> ssl.SSLContext:
    cafile = getattr(settings, "EMAIL_IMAP_CA_FILE", "") or None
    return ssl.create_default_context(cafile=cafile)


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    try:
        if mailbox.security == Security.IMAPS:
            conn = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port,
                ssl_context=_tls_context(),
                timeout=TIMEOUT_SECONDS,
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
            if mailbox.security == Security.STARTTLS:
                conn.starttls(ssl_context=_tls_context())
        conn.login(mailbox.username, mailbox.password())
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"{mailbox.host}:{mailbox.port}: {error}") from error
    return conn


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _move(conn, uid: bytes, folder: str) -> None:
    conn.create(_quote(folder))  # "already exists" is fine
    try:
        typ, _data = conn.uid("MOVE", uid, _quote(folder))  # RFC 6851
    except conn.error:
        typ = "NO"
    if typ == "OK":
        return
    typ, _data = conn.uid("COPY", uid, _quote(folder))
    if typ != "OK":
        raise MailboxError(f"could not copy message {uid!r} to {folder}")
    conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
    conn.expunge()


def _raw(data) -> bytes | None:
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def poll(mailbox: Mailbox) -> Counter:
    """Process the unseen messages of ``mailbox``; returns counts by outcome.
    Raises ``MailboxError`` when the server cannot be reached or read."""
    counts: Counter = Counter()
    conn = connect(mailbox)
    try:
        typ, _data = conn.select(_quote(mailbox.folder))
        if typ != "OK":
            raise MailboxError(f"no folder {mailbox.folder}")
        typ, data = conn.uid("SEARCH", None, "UNSEEN", "UNDELETED")
        uids = (data[0] or b"").split()[:BATCH] if typ == "OK" else []
        for uid in uids:
            typ, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _raw(data) if typ == "OK" else None
            if raw is None:
                continue
            try:
                result = intake.ingest(raw, mailbox=mailbox)
            except intake.IngestFailed as error:
                logger.warning("email to %s failed: %s", mailbox, error)
                _move(conn, uid, mailbox.failure_folder)
                counts["failed"] += 1
                continue
            counts[str(result.outcome)] += 1
            if mailbox.processed_folder:
                _move(conn, uid, mailbox.processed_folder)
            else:
                conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"{mailbox.host}:{mailbox.port}: {error}") from error
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return counts


def poll_all() -> Counter:
    """Every enabled mailbox; a mailbox that fails records its error and is tried
    again at the next run (the schedule runs every minute)."""
    totals: Counter = Counter()
    for mailbox in Mailbox.objects.filter(enabled=True).exclude(host=""):
        try:
            totals.update(poll(mailbox))
            error = ""
        except MailboxError as failure:
            logger.warning("mailbox %s: %s", mailbox, failure)
            totals["unreachable"] += 1
            error = re.sub(r"\s+", " ", str(failure))[:2000]
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error=error
        )
    return totals
