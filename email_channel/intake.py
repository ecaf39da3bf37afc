"""The email intake: one message in, one decision out (created, replied, ignored).

Used by ``manage.py ingest_email`` (an MTA pipe) and the IMAP poller. The order:
noise (auto-replies, bounces, bulk, our own messages) → a message already seen →
the sender's rate limit → the queue's authentication rule → threading (our
Message-IDs in In-Reply-To/References, a message of the thread we received, then
``[HD-000123]`` in the subject) → may the sender comment there (``tickets.permissions``)
→ a reply, else a new ticket (or a refusal, by the mailbox's settings). Tickets and
replies are made by ``tickets.services`` (source email); every message is recorded
once in ``InboundMessage``, in the same transaction as its effect.
"""

import logging
import re
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import register_customer
from portal.notifications import threads
from portal.ratelimits import RateLimited, consume
from tickets import attachments as files
from tickets import defaults, permissions, services
from tickets.exceptions import PermissionDenied, TicketNotFound
from tickets.models import Queue, Source, Ticket

from . import parsing
from .models import InboundMessage, Mailbox, Outcome, StrangerReplies, UnknownSenders

logger = logging.getLogger(__name__)

RATE_SCOPE = "email_inbound"


class IngestFailed(Exception):
    """The intake could not decide (a bug or an outage); the message must be kept."""


@dataclass
class Result:
    outcome: str
    reference: str = ""
    reason: str = ""

    def line(self) -> str:
        if self.outcome == Outcome.IGNORED:
            return f"ignored: {self.reason}"
        return f"{self.outcome} {self.reference}"


class _Ignore(Exception):
    pass


def _subject_reference(subject: str) -> str | None:
    prefix = re.escape(settings.TICKETS_REFERENCE_PREFIX)
    found = re.search(rf"\[({prefix}-\d+)\]", subject or "")
    return found.group(1) if found else None


def _queue_for(parsed, queue, mailbox) -> Queue:
    if queue is not None:
        return queue
    if mailbox is not None:
        return mailbox.queue
    for address in parsed.recipients:
        found = Queue.objects.filter(inbound_address__iexact=address).first()
        if found:
            return found
    return defaults.default_queue()


def _mailbox_of(queue) -> Mailbox | None:
    return Mailbox.objects.filter(queue=queue).first()


def _thread_ticket(parsed) -> Ticket | None:
    """The ticket this message answers (a merged ticket's target)."""
    ticket = _threaded(parsed)
    for _hop in range(5):
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def _threaded(parsed) -> Ticket | None:
    """Our Message-IDs first, then a message of the thread we received, then the
    subject's reference."""
    chain = f"{parsed.in_reply_to} {parsed.references}"
    for reference in threads.references_in(chain):
        ticket = Ticket.objects.filter(reference=reference).first()
        if ticket:
            return ticket
    ids = re.findall(r"<[^<>]+>", chain)
    if ids:
        seen = (
            InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .select_related("ticket")
            .first()
        )
        if seen:
            return seen.ticket
    reference = _subject_reference(parsed.subject)
    if reference:
        return Ticket.objects.filter(reference=reference).first()
    return None


def _user_for(address: str) -> User | None:
    user = User.objects.filter(email__iexact=address).first()
    if user is None:
        verified = (
            EmailAddress.objects.filter(email__iexact=address, verified=True)
            .select_related("user")
            .first()
        )
        user = verified.user if verified else None
    return user


def _new_customer(parsed) -> User:
    """An unverified customer account: joins no organization (the verified-domain
    rule needs a verified address) until the person confirms it."""
    user = User.objects.create_user(
        email=parsed.sender, password=None, display_name=parsed.sender_name[:150]
    )
    register_customer(user)
    EmailAddress.objects.create(
        user=user, email=parsed.sender, verified=False, primary=True
    )
    return user


def _files(parsed) -> tuple[list[ContentFile], list[str]]:
    """Attachments through the portal's upload checks; refused ones are reported,
    the rest of the message is kept."""
    accepted, refused = [], []
    for attachment in parsed.attachments:
        upload = ContentFile(attachment.content, name=attachment.name)
        try:
            files.validate_upload(upload)
        except ValidationError as error:
            refused.append(" ".join(error.messages))
            continue
        accepted.append(upload)
    return accepted, refused


def _body(parsed, *, reply: bool, refused: list[str]) -> str:
    text = parsing.strip_reply(parsed.text) if reply else parsed.text.strip()
    text = text or "(no text)"
    if refused:
        text += "\n\n" + "\n".join(f"[Attachment not accepted: {r}]" for r in refused)
    return text[: services.MAX_BODY_LENGTH]


def _follow(parsed, ticket, queue) -> None:
    """People in Cc who may see the ticket follow it, so replies reach them too;
    a Cc never shows the ticket to anyone else."""
    for address in parsed.cc:
        if address in (parsed.sender, (queue.inbound_address or "").lower()):
            continue
        user = _user_for(address)
        if user is not None and permissions.can(user, "watch", ticket):
            services.add_watcher(user, ticket)


def _decide(parsed, record: InboundMessage, queue: Queue, mailbox) -> Result:
    if parsed.automated:
        raise _Ignore(parsed.automated)
    if threads.is_ours(parsed.message_id):
        raise _Ignore("our own message (mail loop)")
    if not parsed.sender:
        raise _Ignore("no sender address")
    try:
        consume(RATE_SCOPE, parsed.sender)
    except RateLimited:
        raise _Ignore(f"rate limit for {parsed.sender}") from None
    if mailbox and mailbox.require_authentication and not parsing.authenticated(parsed):
        raise _Ignore("no DKIM or SPF pass in Authentication-Results")
    user = _user_for(parsed.sender)
    accepted, refused = _files(parsed)
    ticket = _thread_ticket(parsed)
    followup = ""
    if ticket is not None:
        denial = permissions.why_not(user, "reply", ticket) if user else ("", "")
        if denial is None:
            comment = services.reply(
                user,
                ticket,
                body=_body(parsed, reply=True, refused=refused),
                attachments=accepted,
            )
            record.comment = comment
            _follow(parsed, ticket, queue)
            return Result(Outcome.REPLIED, ticket.reference)
        if denial[0] == permissions.INVALID:  # finished: a follow-up ticket
            followup = f"(Follow-up to {ticket.reference})\n\n"
        elif mailbox and mailbox.stranger_replies == StrangerReplies.REFUSE:
            raise _Ignore(f"{parsed.sender} may not comment on this ticket")
    if user is None:
        if mailbox and mailbox.unknown_senders == UnknownSenders.REFUSE:
            raise _Ignore(f"unknown sender {parsed.sender}")
        user = _new_customer(parsed)
    subject = parsed.subject.strip() or "(no subject)"
    if ticket is not None:  # never carry another ticket's tag into a new one
        subject = (
            " ".join(subject.replace(f"[{ticket.reference}]", "").split()) or subject
        )
    ticket = services.create_ticket(
        user,
        subject=subject[:200],
        description=followup + _body(parsed, reply=False, refused=refused),
        queue=queue,
        source=Source.EMAIL,
        attachments=accepted,
    )
    _follow(parsed, ticket, queue)
    return Result(Outcome.CREATED, ticket.reference)


def ingest(raw: bytes, *, queue: Queue | None = None, mailbox=None) -> Result:
    """Decide what one raw message becomes. Returns the result; raises
    ``IngestFailed`` only when it could not decide (nothing half-written)."""
    try:
        parsed = parsing.parse(raw)
    except Exception as error:  # pragma: no cover - parse is lenient by design
        raise IngestFailed(f"unparseable message: {error}") from error
    existing = InboundMessage.objects.filter(message_key=parsed.key).first()
    if existing is not None and existing.outcome != Outcome.FAILED:
        return Result(Outcome.IGNORED, reason="duplicate message (already processed)")
    try:
        with transaction.atomic():
            if existing is not None:
                existing.delete()
            queue = _queue_for(parsed, queue, mailbox)
            mailbox = mailbox or _mailbox_of(queue)
            record = InboundMessage.objects.create(
                message_key=parsed.key,
                message_id=parsed.message_id,
                mailbox=mailbox,
                queue=queue,
                sender=parsed.sender[:254],
                subject=parsed.subject[:255],
                headers=parsed.header_text(),
                raw=raw,
                outcome=Outcome.FAILED,
            )
            try:
                with transaction.atomic():
                    result = _decide(parsed, record, queue, mailbox)
            except _Ignore as reason:
                result = Result(Outcome.IGNORED, reason=str(reason))
            except (ValidationError, PermissionDenied, TicketNotFound) as error:
                messages = getattr(error, "messages", None) or [str(error)]
                result = Result(Outcome.IGNORED, reason=" ".join(messages))
            record.outcome = result.outcome
            record.reason = result.reason
            if result.reference:
                record.ticket = Ticket.objects.get(reference=result.reference)
            record.save()
            return result
    except IntegrityError:
        if InboundMessage.objects.filter(message_key=parsed.key).exists():
            return Result(
                Outcome.IGNORED, reason="duplicate message (already processed)"
            )
        raise IngestFailed("database integrity error") from None
    except Exception as error:
        logger.exception("email intake failed")
        _record_failure(parsed, raw, queue, mailbox, error)
        raise IngestFailed(f"{type(error).__name__}: {error}") from error


def _record_failure(parsed, raw, queue, mailbox, error) -> None:
    try:
        InboundMessage.objects.update_or_create(
            message_key=parsed.key,
            defaults={
                "message_id": parsed.message_id,
                "queue": queue if getattr(queue, "pk", None) else None,
                "mailbox": mailbox if getattr(mailbox, "pk", None) else None,
                "sender": parsed.sender[:254],
                "subject": parsed.subject[:255],
                "headers": parsed.header_text(),
                "raw": raw,
                "outcome": Outcome.FAILED,
                "reason": f"{type(error).__name__}: {error}"[:2000],
            },
        )
    except Exception:  # the database itself may be what failed
        logger.exception("could not record the failed email")
