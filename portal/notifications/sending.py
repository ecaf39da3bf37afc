"""Delivering the notification outbox: claim rows, render and send, record, retry.

Over 400 lines on purpose: writing and delivering the outbox share the row's lease and
outcome rules; the sections follow that order.

Rows are written by ``portal.notifications.dispatch`` in the transaction of the change
they report. ``deliver`` sends them:

* **Claimed, never sent twice by two workers.** A claim is one short transaction
  (``portal.outbox.claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
  UPDATE on SQLite) that counts the attempt and leases the rows for
  ``NOTIFICATIONS_LEASE_SECONDS`` under a token only this run knows; the outcome is
  recorded only while the token is still the row's.
* **Batched claims, outcomes at once.** The emails of one event (one wake-up job) are
  claimed in one transaction. Each outcome is recorded as soon as its email is sent,
  in a commit that does not wait for the disk (``portal.outbox.record``): a worker
  killed in the middle of an event leaves only its unsent emails, so nothing goes out
  twice, and an event's eleven emails still cost no more disk waits than before (one,
  for the claim; bench/FINDINGS.md, C-3). The claim's SELECT reads the rows with
  their recipients; each outcome is one prepared-once UPDATE. On PostgreSQL in
  autocommit (the worker), the outcomes of emails sent within ``RECORD_WITHIN``
  (10 ms) of each other share one UPDATE (an event's eleven emails to a fast mail
  server: one statement instead of eleven, bench/FINDINGS.md N-9); an email whose
  send takes that long is recorded alone, right after it.
* **One connection, shared renderings.** A claim's emails go out on one mail
  connection, and emails that differ only in the greeting's name (an event's alert
  to each agent) are rendered once (``portal.notifications.batch``); emails of a
  shape seen before are filled in from its skeleton without rendering
  (``portal.notifications.skeletons``); messages are flattened with less work, to
  the same bytes (``portal.notifications.mime``).
* **Nothing lost.** A worker killed before recording leaves the lease to expire, and
  the reconciliation (``deliver_due``, every minute) sends the row again; recording is
  retried on a new connection when the database connection broke, so a database blip
  between sending and recording does not make a second copy. Only a worker killed in
  the instant between sending and recording (with a fast mail server: the last
  ``RECORD_WITHIN`` of sending), or a crash of the database server in the second
  after, sends an email twice (at least once).
* **Retries.** A failed send is retried after ``NOTIFICATIONS_BACKOFF_BASE_SECONDS``,
  then twice as long each time (at most ``NOTIFICATIONS_BACKOFF_MAX_SECONDS``), until
  ``NOTIFICATIONS_MAX_ATTEMPTS`` attempts or ``NOTIFICATIONS_MAX_AGE_HOURS`` after
  the change; then the row is marked failed and shows in the admin.
"""

import functools
import html as html_lib
import json
import logging
import operator
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise

from portal import outbox
from portal.sql import ValueList

from . import kept_settings, mime, skeletons, threads
from .batch import Batch
from .models import SentNotification
from .rows import Row, insert_rows

logger = logging.getLogger(__name__)

#: A preference is a flag, the name of a boolean attribute of the user (e.g.
#: ``"notify_on_reply"``), or a callable taking the recipient (only when sending at
#: once: the outbox stores flags and attribute names).
Preference = bool | str | Callable[[object], bool] | None


class Outcome:
    SENT = "sent"
    FAILED = "failed"  # retried later with backoff (or given up: see the row)
    DUPLICATE = "duplicate"  # already sent, or being sent right now by another run
    SKIPPED_ACTOR = "skipped_actor"
    SKIPPED_PREFERENCE = "skipped_preference"
    SKIPPED_NO_ADDRESS = "skipped_no_address"


@dataclass(frozen=True)
class Address:
    """A recipient who may have no account yet (an invitation): an address and the
    language to write in. It stands in for a user in ``send_notification``."""

    email: str
    locale: str = ""
    pk = None
    is_active = True


def idempotency_key(event_id, recipient_id, kind: str) -> str:
    return f"{event_id}:{recipient_id}:{kind}"


def wants(recipient, preference: Preference) -> bool:
    if preference is None or preference == "":
        return True
    if isinstance(preference, bool):
        return preference
    if isinstance(preference, str):
        return bool(getattr(recipient, preference))
    return bool(preference(recipient))


def email_context(context: dict) -> dict:
    """The context the email templates get: the site's name and address, then
    ``context``."""
    return {
        "site_name": settings.WAGTAIL_SITE_NAME,
        "base_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/"),
        **context,
    }


def _render_raw(kind: str, context: dict) -> tuple[str, str, str]:
    """The three templates rendered with ``context`` as it is (the subject not yet
    cleaned up)."""
    subject_name, text_name, html_name = skeletons.template_names(kind)
    return (
        render_to_string(subject_name, context),
        render_to_string(text_name, context),
        render_to_string(html_name, context),
    )


def _clean_subject(subject: str) -> str:
    # Subjects are plain text: undo the HTML escaping of the template engine.
    return html_lib.unescape(" ".join(subject.split()))[:255]


def render_email(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) from ``emails/<kind>_subject.txt``, ``emails/<kind>.txt``
    and ``emails/<kind>.html``."""
    subject, text, html = _render_raw(kind, email_context(context))
    return _clean_subject(subject), text, html


def _rendered(kind: str, context: dict, language: str, recipient, batch=None):
    """``render_email`` for ``recipient`` (a user or None) in ``language`` from the
    skeleton of the email's shape (``portal.notifications.skeletons``), or None. With
    a ``batch``, the texts of a context are filled in once per claim (an event's
    alerts differ only in the greeting's name)."""
    if "recipient" in context:
        return None
    greeted = recipient is not None
    name = None
    if greeted:
        name = recipient.get_short_name()
        if name.__class__ is not str:
            return None

    def prepare():
        full = email_context({"recipient": recipient, **context})
        return skeletons.prepared(kind, language, full, greeted, _render_raw)

    if batch is None:
        filling = prepare()
    else:
        filling = batch.kept(("skeleton", kind, language, greeted, context), prepare)
    if filling is None:
        return None
    subject, text, html = filling.fill(name)
    return _clean_subject(subject), text, html


@dataclass(frozen=True)
class EmailAttachment:
    """A small text file sent with an email (a report's CSV). Stored in the row with
    the context, as it was when the email was written, so a retry sends the same."""

    filename: str
    content: str
    mimetype: str = "text/plain"


#: Where a row's context keeps its attachments; never passed to the templates.
ATTACHMENTS_KEY = "_attachments"


@dataclass
class Outgoing:
    """One email: a user (or an ``Address``), a kind, plain-data context and its
    idempotency key, optionally text attachments. ``dispatch.write_notifications``
    stores a list of them."""

    kind: str
    recipient: object
    context: dict
    idempotency_key: str
    actor: object = None
    preference: Preference = None
    attachments: tuple[EmailAttachment, ...] = ()


def _with_attachments(context: dict, attachments) -> dict:
    if not attachments:
        return context
    return {
        **context,
        ATTACHMENTS_KEY: [
            {"filename": a.filename, "content": a.content, "mimetype": a.mimetype}
            for a in attachments
        ],
    }


def skip_reason(recipient, *, actor_id=None, preference: Preference = None):
    """Why ``recipient`` gets no email, or None: they are the actor (nobody is told
    about their own action), have no usable address, or said no (``preference``)."""
    if recipient is None:
        return Outcome.SKIPPED_NO_ADDRESS
    if actor_id is not None and actor_id == recipient.pk:
        return Outcome.SKIPPED_ACTOR
    if not recipient.is_active or not recipient.email:
        return Outcome.SKIPPED_NO_ADDRESS
    if not wants(recipient, preference):
        return Outcome.SKIPPED_PREFERENCE
    return None


# --- writing ------------------------------------------------------------------------


class NotPlainData(TypeError):
    pass


def _lazy_text(value):
    if isinstance(value, Promise):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not plain data")


def _plain_json(context: dict, lazy_text=_lazy_text, encoder=None) -> str:
    """The context as stored, as JSON text: JSON types only, so that the email
    written later says what was true at the change and never depends on a model
    instance. Lazy translations are written in the language active now (``store``
    activates each recipient's; ``lazy_text``: its ``_Languages.lazy_text``). The
    text is what Django's JSONField would store. ``encoder``: a ``JSONEncoder`` with
    that ``default``, made once for several contexts (``json.dumps`` makes one each
    time)."""
    try:
        if encoder is not None:
            return encoder.encode(context)
        return json.dumps(context, default=lazy_text)
    except (TypeError, ValueError) as error:
        raise NotPlainData(
            f"Notification context must be plain data (str, numbers, lists): {error}"
        ) from None


class _Languages:
    """Each recipient's language while their context is written, switched only when
    it changes (eleven rows of a filing are one or two languages, not eleven
    activations); the language active before is back at the end."""

    def __enter__(self):
        self._before = translation.get_language()
        self._active = self._before
        self._texts = {}
        self.encoder = json.JSONEncoder(default=self.lazy_text)  # json.dumps's
        return self

    def lazy_text(self, value):
        """``_lazy_text`` once per lazy object and language: a filing's eleven
        contexts share one priority label, translated once per language, not once
        per recipient. The object is kept with its text, so an id is never reused."""
        key = (self._active, id(value))
        found = self._texts.get(key)
        if found is None or found[0] is not value:
            found = self._texts[key] = (value, _lazy_text(value))
        return found[1]

    def use(self, language: str) -> None:
        if language != self._active:
            translation.activate(language)
            self._active = language

    def __exit__(self, *exc_info):
        if self._active != self._before:
            if self._before is None:
                translation.deactivate_all()
            else:
                translation.activate(self._before)


def recipient_language(recipient, *fallbacks) -> str:
    """The language an email to ``recipient`` is written in: their profile language
    (``User.locale``, ``Address.locale``), else the first known ``fallbacks``, else
    English; never the language of whoever triggered it. An unknown value is skipped
    silently."""
    kept = kept_settings.kept()
    known = kept.languages
    for code in (getattr(recipient, "locale", ""), *fallbacks):
        if code and code in known:
            return code
    return kept.language_code


def _actor_id(actor):
    return getattr(actor, "pk", actor)


def store(messages: list[Outgoing]) -> tuple[list[str | None], list[str]]:
    """Write the rows of ``messages`` (one INSERT, ``rows.insert_rows``; a key written
    before keeps its row). Returns the skip reason known now per message (None: stored) and the keys
    stored. The recipient may be a user, an ``Address`` or a user id; a user at hand
    is checked now (actor, address, preference) so that no row is written for an
    email that cannot go out, and checked again when sending."""
    outcomes, written = [], []
    actor, actor_id = None, None  # an event's messages share their actor: read once
    with _Languages() as languages:
        for message in messages:
            recipient, preference = message.recipient, message.preference
            if callable(preference):  # decided now: the outbox stores no code
                preference = None if wants(recipient, message.preference) else False
            if preference is False:
                outcomes.append(Outcome.SKIPPED_PREFERENCE)
                continue
            if message.actor is not actor:
                actor = message.actor
                actor_id = _actor_id(actor)
            is_id = isinstance(recipient, int)
            reason = None
            if is_id:
                reason = Outcome.SKIPPED_ACTOR if actor_id == recipient else None
            else:
                reason = skip_reason(
                    recipient, actor_id=actor_id, preference=preference
                )
            outcomes.append(reason)
            if reason is not None:
                continue
            is_address = isinstance(recipient, Address)
            languages.use(recipient_language(recipient))
            written.append(
                Row(
                    idempotency_key=message.idempotency_key,
                    kind=message.kind,
                    recipient_id=recipient if is_id else recipient.pk,
                    to_email="" if is_id else recipient.email,
                    locale=recipient.locale if is_address else "",
                    context_json=_plain_json(
                        _with_attachments(message.context, message.attachments),
                        languages.lazy_text,
                        languages.encoder,
                    ),
                    actor_id=actor_id,
                    preference=preference if isinstance(preference, str) else "",
                )
            )
    insert_rows(written)
    return outcomes, [row.idempotency_key for row in written]


# --- delivery -----------------------------------------------------------------------


class Email(mime.Building, EmailMultiAlternatives):
    """Django's email, built and flattened with less work to the same bytes (``mime``)."""


def _recipient(row: SentNotification):
    if row.recipient_id is None:
        return Address(email=row.to_email, locale=row.locale) if row.to_email else None
    return row.recipient


def _send(row: SentNotification, recipient, batch: Batch, known=None) -> str:
    """Render and send one email on the claim's connection; returns its subject
    (``known``: the kept settings, when read)."""
    known = known or kept_settings.kept()
    is_user = not isinstance(recipient, Address)
    context = dict(row.context)
    attachments = context.pop(ATTACHMENTS_KEY) if ATTACHMENTS_KEY in context else []
    language = recipient_language(recipient, row.locale)

    def render(greeted):
        with translation.override(language):
            return render_email(row.kind, {"recipient": greeted, **context})

    rendered = _rendered(
        row.kind, context, language, recipient if is_user else None, batch
    )
    if rendered is None:
        rendered = batch.render(
            render,
            kind=row.kind,
            context=row.context,
            language=language,
            recipient=recipient if is_user else None,
        )
    subject, text, html = rendered
    headers = {}
    reference = row.context.get("reference")
    if reference:  # an email about a ticket: one thread per ticket in mail clients
        subject = threads.tagged_subject(subject, reference)
        headers = threads.headers(reference, reply_to=row.context.get("reply_to", ""))
    email = Email(
        subject=subject,
        body=text,
        from_email=known.default_from_email,  # "": Django reads it
        to=[recipient.email],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    for attachment in attachments:
        email.attach(
            attachment["filename"], attachment["content"], attachment["mimetype"]
        )
    try:
        email.connection = batch.connection()
        email.send()
    except Exception:
        batch.close()  # the next email opens a new connection
        raise
    return subject


def _due(now: datetime, keys: Iterable[str] | ValueList | None):
    unleased = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pending = Q(status=SentNotification.Status.PENDING)
    if keys is None:
        rows = SentNotification.objects.filter(
            unleased, pending, next_attempt_at__lte=now
        )
    else:  # a wake-up job or a direct call: now, whatever the backoff says
        keys = keys if isinstance(keys, ValueList) else list(keys)
        # Found by the unique key's index, never by the pending rows' partial index:
        # ``OR status IS NULL`` (never true: the column is NOT NULL) keeps the
        # condition from implying that index's predicate. Statistics taken while
        # nothing was pending (the usual state) make the planner think that index
        # holds one row; it then walked every pending row for each claim, and a
        # backlog (a worker down for a while) drained in quadratic time (bench
        # FINDINGS, status of session 25).
        rows = SentNotification.objects.filter(
            unleased, pending | Q(status__isnull=True), idempotency_key__in=keys
        )
    return rows.order_by("next_attempt_at", "id")


#: The claim of a job's keys (every wake-up job and direct send), written once.
_KEYS_CLAIM = outbox.KeptClaim(
    lambda keys, now: _due(
        now,
        ValueList(
            keys, output_field=SentNotification._meta.get_field("idempotency_key")
        ),
    ).select_related("recipient"),
    ("keys", "now"),
    datetimes=("now",),
    lists=("keys",),
    writes=("claimed_at", "claimed_until", "claim_token"),
    write_datetimes=("claimed_at", "claimed_until"),
    increment=("attempts",),
)


#: a row's primary key, read as its attribute (``row.pk`` is a property)
_ID = operator.attrgetter(SentNotification._meta.pk.attname)


def _claim(now: datetime, keys, limit: int) -> list[SentNotification]:
    """Claim due rows and return them with their recipients, in ``id`` order:
    ``limit`` of the due ones, or (``keys`` given, at most ``limit`` of them) the
    due ones among ``keys``. The claim is the job's first statement: the
    connection's health check is left to it (``outbox.checked_by_use``). Run again
    after its connection broke, it takes only rows still due: a row the lost claim
    took waits for its lease to expire (then the reconciliation sends it, once)."""
    lease = timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    writes = {
        "claimed_at": now,
        "claimed_until": now + lease,
        "claim_token": uuid.uuid4().hex,
    }
    if keys is None:
        rows = outbox.checked_by_use(
            lambda: outbox.claim_rows(
                _due(now, None).select_related("recipient"),
                limit=limit,
                increment=("attempts",),
                **writes,
            )
        )
    else:  # a key is unique: no more rows than keys
        keys = list(keys)
        if len(keys) > limit:
            raise ValueError("More keys than the claim's limit")
        values = {"keys": keys, "now": now}
        rows = outbox.checked_by_use(lambda: _KEYS_CLAIM.claim(values, **writes))
    return sorted(rows, key=_ID)


def _gave_up(row: SentNotification, now: datetime) -> bool:
    age = timedelta(hours=settings.NOTIFICATIONS_MAX_AGE_HOURS)
    return row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS or now >= (
        row.created_at + age
    )


def _process(row: SentNotification, now: datetime, batch: Batch) -> str:
    """Deliver one claimed row and set its outcome on the instance (not saved)."""
    row.claimed_until = None
    known = kept_settings.kept()
    if row.attempts > known.max_attempts:
        # Claimed that often without an outcome: workers die on it. Stop trying.
        row.status = SentNotification.Status.FAILED
        row.last_error = (
            f"Gave up after {row.attempts - 1} attempts without an outcome."
        )
        return Outcome.FAILED
    recipient = _recipient(row)
    reason = skip_reason(
        recipient, actor_id=row.actor_id, preference=row.preference or None
    )
    if reason is not None:
        row.status, row.last_error = SentNotification.Status.SKIPPED, reason
        return reason
    try:
        row.subject = _send(row, recipient, batch, known)
    except Exception as exc:
        logger.exception("Notification %s to %s failed", row.kind, recipient.email)
        row.error = exc
        row.last_error = repr(exc)[:2000]
        finished = max(now, timezone.now())
        retry_at = finished + outbox.backoff(
            row.attempts,
            base=settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS,
            cap=settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS,
        )
        if _gave_up(row, finished) or retry_at >= row.created_at + timedelta(
            hours=settings.NOTIFICATIONS_MAX_AGE_HOURS
        ):
            row.status = SentNotification.Status.FAILED
        else:
            row.next_attempt_at = retry_at
        return Outcome.FAILED
    row.status, row.sent_at, row.last_error = (
        SentNotification.Status.SENT,
        # ``timezone.now()``, with USE_TZ as kept
        datetime.now(tz=UTC if known.use_tz else None),
        "",
    )
    row.to_email = recipient.email
    return Outcome.SENT


_RECORDED = [
    "status",
    "subject",
    "to_email",
    "sent_at",
    "last_error",
    "next_attempt_at",
    "claimed_until",
]


@functools.cache
def _outcome_sql(vendor: str) -> str:
    """The outcome's UPDATE, written once per database vendor: the same statement
    for every row (no query compiled per email)."""
    meta, quote = SentNotification._meta, connection.ops.quote_name
    columns = ", ".join(
        f"{quote(meta.get_field(name).column)} = %s" for name in _RECORDED
    )
    token = quote(meta.get_field("claim_token").column)
    # its own commit does not wait for the disk (``outbox.recording``)
    no_wait = f" AND {outbox.NO_WAIT}" if vendor == "postgresql" else ""
    # only the model's own table and column names, quoted; values are parameters
    return (
        f"UPDATE {quote(meta.db_table)} SET {columns} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s AND {token} = %s{no_wait}"
    )


@functools.cache
def _recorded_fields() -> tuple[tuple[object, str], ...]:
    """The recorded fields, each with the kind of value whose database value is the
    value itself: "text" (None or a text, for a text field: ``get_db_prep_save``
    gives the same object back), "moment" (None or an aware datetime, for a
    ``DateTimeField`` on PostgreSQL, whose ``adapt_datetimefield_value`` is the value
    itself), "" (through ``get_db_prep_save``)."""
    fields = (SentNotification._meta.get_field(name) for name in _RECORDED)
    kinds = {"CharField": "text", "TextField": "text", "DateTimeField": "moment"}
    return tuple((field, kinds.get(field.get_internal_type(), "")) for field in fields)


@functools.cache
def _recorded_values():
    """What reads the recorded fields' values of a row at once (one tuple)."""
    return operator.attrgetter(*(field.attname for field, _ in _recorded_fields()))


def _outcome_params(row: SentNotification, db=connection) -> list:
    """What ``get_db_prep_save`` gives for each recorded field of ``row`` on ``db``:
    None, the texts of text fields and (PostgreSQL) the aware datetimes of datetime
    fields as they are, anything else through it."""
    postgresql = db.vendor == "postgresql"
    return [
        value
        if value is None
        or (kind == "text" and (value.__class__ is str or isinstance(value, str)))
        or (
            kind == "moment"
            and postgresql
            and value.__class__ is datetime
            and value.utcoffset() is not None
        )
        else field.get_db_prep_save(value, db)
        for (field, kind), value in zip(
            _recorded_fields(), _recorded_values()(row), strict=True
        )
    ]


def _record(row: SentNotification) -> None:
    """Save the outcome of one row right away, only while the claim is still ours."""

    def write(cursor):
        db = cursor.db  # the cursor's connection: a retry's new one, the same object
        params = _outcome_params(row, db)
        params += (row.pk, row.claim_token)
        cursor.execute(_outcome_sql(db.vendor), params)
        return cursor.rowcount

    outbox.record(write)


@functools.cache
def _outcomes_sql() -> str:
    """The outcomes of several rows in one UPDATE (PostgreSQL): one JSON parameter,
    an array with an array per row (the recorded values, the id, the token; moments
    as ISO 8601 texts with their offset), each value read as its column's type; a
    row is written only while the token is still its own, as by ``_outcome_sql``."""
    meta, quote = SentNotification._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    fields = [meta.get_field(name) for name in _RECORDED]
    fields += [meta.pk, meta.get_field("claim_token")]
    values = [
        f"(v.outcome ->> {n})::{field.db_type(connection)}"
        for n, field in enumerate(fields)
    ]
    columns = ", ".join(
        f"{quote(field.column)} = {value}"
        for field, value in zip(fields[:-2], values, strict=False)
    )
    pk, token = (quote(field.column) for field in fields[-2:])
    # only the model's own table, column names and types; values are the parameter
    return (
        f"UPDATE {table} SET {columns} "  # noqa: S608
        "FROM json_array_elements(%s::json) AS v(outcome) "
        f"WHERE {table}.{pk} = {values[-2]} AND {table}.{token} = {values[-1]} "
        f"AND {outbox.NO_WAIT}"
    )


def _json_value(value):
    """A recorded value as JSON holds it: a moment as its ISO 8601 text (with its
    offset: the same instant once read as ``timestamptz``), anything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def _json_outcome(row: SentNotification, db) -> list:
    """``_outcome_params(row, db)`` (PostgreSQL) as the joint UPDATE's JSON holds
    them (``_json_value``), then the id and the token, read in one pass: None and
    texts as they are, an aware ``datetime`` as its ISO 8601 text, anything else
    through ``get_db_prep_save`` first."""
    return [
        value
        if value is None or value.__class__ is str
        else value.isoformat()
        if kind == "moment"
        and value.__class__ is datetime
        and value.utcoffset() is not None
        else _json_value(
            value
            if kind == "text" and isinstance(value, str)
            else field.get_db_prep_save(value, db)
        )
        for (field, kind), value in zip(
            _recorded_fields(), _recorded_values()(row), strict=True
        )
    ] + [_ID(row), row.claim_token]


def _record_together(rows: list[SentNotification]) -> None:
    """Save the outcomes of ``rows`` in one statement (within ``outbox.recording``
    on PostgreSQL in autocommit: its own transaction), each only while the claim is
    still ours."""
    if len(rows) == 1:
        _record(rows[0])
        return

    def write(cursor):
        db = cursor.db
        found = [_json_outcome(row, db) for row in rows]
        cursor.execute(_outcomes_sql(), [json.dumps(found, ensure_ascii=False)])
        return cursor.rowcount

    outbox.record(write)


#: Outcomes are recorded together while sending is fast: those of emails sent within
#: this many seconds of the first one not yet recorded wait for one UPDATE (with the
#: claim's last email, or with the one after which this much time has passed). An
#: email whose send alone took that long is recorded right after it.
RECORD_WITHIN = 0.01

#: the clock of ``RECORD_WITHIN``
_clock = time.monotonic


def _deliver_recording_together(rows, now, batch, outcomes) -> None:
    """``deliver_claim``'s loop when one ``record`` may write several outcomes: a
    worker killed while sending sends again at most the emails it sent in its last
    ``RECORD_WITHIN`` seconds (with a slow mail server, as each email alone: the one
    whose send the kill split from its record), never one it did not send."""
    waiting, since = [], 0.0
    try:
        for row in rows:
            if not waiting:
                since = _clock()
            outcomes[row.idempotency_key] = _process(row, now, batch)
            waiting.append(row)
            if _clock() - since >= RECORD_WITHIN:
                done, waiting = waiting, []  # not again below if this fails
                _record_together(done)
    finally:
        if waiting:  # the claim's last ones, or those sent before a failure
            _record_together(waiting)


def deliver_claim(rows: list[SentNotification], now: datetime) -> dict[str, str]:
    """Deliver rows claimed together, recording each outcome as soon as it is known
    (a worker killed after five of eleven emails leaves six to send, not eleven;
    on PostgreSQL in autocommit, the outcomes of emails sent within ``RECORD_WITHIN``
    of each other in one UPDATE); returns the outcome by key. The emails share one
    mail connection and their renderings (``portal.notifications.batch``)."""
    outcomes = {}
    batch = Batch(connect=get_connection)
    try:
        with outbox.recording() as together:
            if together:
                _deliver_recording_together(rows, now, batch, outcomes)
            else:
                for row in rows:
                    outcomes[row.idempotency_key] = _process(row, now, batch)
                    _record(row)
    finally:
        batch.close()
    return outcomes


def deliver(keys: Iterable[str], now: datetime | None = None) -> dict[str, str]:
    """Send the pending emails among ``keys`` now, whatever their backoff says
    (``NOTIFICATIONS_CLAIM_SIZE`` per claim and record); returns an ``Outcome`` per
    key that this run handled (the others are sent, or being sent by another run)."""
    keys = list(dict.fromkeys(keys))
    size = settings.NOTIFICATIONS_CLAIM_SIZE
    outcomes = {}
    for start in range(0, len(keys), size):
        moment = now or timezone.now()
        chunk = keys[start : start + size]
        outcomes.update(deliver_claim(_claim(moment, chunk, len(chunk)), moment))
    return outcomes


def deliver_due(now: datetime | None = None, limit: int | None = None) -> Counter:
    """The reconciliation: send every row that is due, including those whose claim
    expired (a worker died, its job was lost) and retries whose backoff has passed.
    Claims ``NOTIFICATIONS_CLAIM_SIZE`` rows at a time and stops after ``limit``
    rows or ``NOTIFICATIONS_RUN_SECONDS``; returns outcome counts."""
    limit = limit or settings.NOTIFICATIONS_BATCH_SIZE
    deadline = time.monotonic() + settings.NOTIFICATIONS_RUN_SECONDS
    counts: Counter = Counter()
    done = 0
    while done < limit and time.monotonic() < deadline:
        moment = now or timezone.now()
        size = min(limit - done, settings.NOTIFICATIONS_CLAIM_SIZE)
        rows = _claim(moment, None, size)
        if not rows:
            break
        counts.update(deliver_claim(rows, moment).values())
        done += len(rows)
    return counts


def send_notifications(messages: list[Outgoing]) -> list[str]:
    """Store ``messages`` and send them at once, each at most once per idempotency
    key; returns an ``Outcome`` value per message, in order. For jobs and commands
    that run after the change committed; services write to the outbox instead
    (``portal.notifications.dispatch``). An email that fails is left to the retries
    (its row says when); the others still go out, and the first error is raised at
    the end."""
    outcomes, keys = store(messages)
    now = timezone.now()
    rows = _claim(now, keys, len(keys)) if keys else []  # one claim, however many
    delivered = deliver_claim(rows, now)
    for index, message in enumerate(messages):
        if outcomes[index] is None:
            outcomes[index] = delivered.pop(message.idempotency_key, Outcome.DUPLICATE)
    errors = [row.error for row in rows if getattr(row, "error", None) is not None]
    if errors:
        raise errors[0]
    return outcomes


def send_notification(
    kind: str,
    recipient,
    *,
    context: dict,
    idempotency_key: str,
    actor=None,
    preference: Preference = None,
) -> str:
    """Email ``recipient`` (a user, or an ``Address``) about something, once. Returns
    an ``Outcome`` value. One message of ``send_notifications``, whose rules apply."""
    [outcome] = send_notifications(
        [
            Outgoing(
                kind=kind,
                recipient=recipient,
                context=context,
                idempotency_key=idempotency_key,
                actor=actor,
                preference=preference,
            )
        ]
    )
    return outcome
