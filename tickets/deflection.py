"""Ticket deflection: did a suggested article answer the customer before they filed?

The new-ticket form carries a random token and, once JavaScript shows suggestions, the
number shown and the article clicked. Clicking a suggestion sends a beacon
(``record_deflected``); filing the ticket records ``filed`` for the same token
(``record_filed``), which wins over an earlier "deflected" because the customer came
back; a filing with a fresh token (the form was reloaded) takes over the same session's
deflection from the last ``COME_BACK_WINDOW``. ``deflection_rate(since)`` is what the agent desk reports.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from portal import instances
from portal.sql import KeptInsert, KeptStatement

from .grants import NEW_TICKET_PART
from .models import DeflectionEvent, DeflectionOutcome

MAX_QUERY = 255
MAX_URL = 500
MAX_SHOWN = 50


def clean_token(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        return None


def clean_article_url(value) -> str:
    """Only a path on this site is kept (never another host, never a script URL)."""
    value = str(value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value[:MAX_URL]


def clean_shown(value) -> int:
    try:
        return max(0, min(int(value), MAX_SHOWN))
    except (TypeError, ValueError):
        return 0


def _text(value) -> str:
    return str(value or "").replace("\x00", "").strip()


def _values(user, session_key, query, shown, clicked_url):
    return {
        "user": user if getattr(user, "is_authenticated", False) else None,
        "session_key": _text(session_key)[:40],
        "query": _text(query)[:MAX_QUERY],
        "shown_count": clean_shown(shown),
        "clicked_url": clean_article_url(_text(clicked_url)),
    }


def _upsert(token, values, outcome, *, ticket=None, keep_filed=False):
    # no savepoint of its own inside the caller's transaction: an error ends both
    with transaction.atomic(savepoint=False):
        event = DeflectionEvent.objects.select_for_update().filter(token=token).first()
        if event is None:
            try:
                with transaction.atomic():
                    return DeflectionEvent.objects.create(
                        token=token, outcome=outcome, ticket=ticket, **values
                    )
            except IntegrityError:
                event = DeflectionEvent.objects.select_for_update().get(token=token)
        owner = values["user"]
        if event.user_id and (owner is None or event.user_id != owner.pk):
            return None  # somebody else's token: ignore rather than overwrite
        if keep_filed and event.outcome == DeflectionOutcome.FILED:
            return event
        event.outcome = outcome
        event.shown_count = max(event.shown_count, values["shown_count"])
        event.query = values["query"] or event.query
        event.clicked_url = values["clicked_url"] or event.clicked_url
        event.session_key = values["session_key"] or event.session_key
        event.user = event.user or owner
        if ticket is not None:
            event.ticket = ticket
        event.save()
        return event


def record_deflected(
    *, token, user, session_key="", query="", shown=0, clicked_url=""
) -> DeflectionEvent | None:
    """The customer opened a suggested article from the form. Counts as a deflection
    unless the same form is filed later. Returns None for a bad token or one that
    belongs to someone else."""
    token = clean_token(token)
    if token is None:
        return None
    values = _values(user, session_key, query, shown, clicked_url)
    return _upsert(token, values, DeflectionOutcome.DEFLECTED, keep_filed=True)


COME_BACK_WINDOW = timedelta(minutes=30)


#: The outcome written into the statement's text, not passed as a value: the filing's
#: statement is prepared on the server (``portal.prepared``), and a generic plan can use
#: the partial index ``deflection_recent_idx`` (``outcome = 'deflected' AND ticket_id
#: IS NULL``) only when its condition is in the text. With a value there, the plan read
#: every row of the user's without a ticket (the bench filer's: 5.8 ms a filing after
#: 46k such rows; bench FINDINGS F-19).
_DEFLECTED = RawSQL(f"'{DeflectionOutcome.DEFLECTED.value}'", ())  # noqa: S611 - a constant


def _recent_deflections(user, session_key, since):
    return (
        DeflectionEvent.objects.filter(
            user=user,
            session_key=session_key,
            outcome=_DEFLECTED,
            ticket__isnull=True,
            updated_at__gte=since,
        )
        .order_by("-updated_at")
        .values_list("token")[:1]
    )


#: Every portal filing with a fresh form token reads it: compiled once per process.
_RECENT_DEFLECTION = KeptStatement(
    _recent_deflections, ("user", "session_key", "since"), datetimes=("since",)
)


def _recent_deflection_token(values):
    if values["user"] is None or not values["session_key"]:
        return None
    rows = _RECENT_DEFLECTION.rows(
        user=values["user"].pk,
        session_key=values["session_key"],
        since=timezone.now() - COME_BACK_WINDOW,
    )
    # the driver's value (SQLite: the UUID's hex text) as the field reads it
    return clean_token(rows[0][0]) if rows else None


#: Most filings record themselves with a fresh token: that INSERT compiled once.
_NEW_EVENT = KeptInsert(DeflectionEvent)

#: PostgreSQL: the filing's row written unless the session has a recent deflection
#: (the ``recent`` part: ``_RECENT_DEFLECTION``) or the token is taken; one statement.
_NEW_EVENT_UNLESS_RECENT = KeptInsert(
    DeflectionEvent,
    when="NOT EXISTS (SELECT 1 FROM recent)",
    skip_conflict_on="token",
)


def record_filed(
    *, token, user, ticket, session_key="", query="", shown=0, clicked_url=""
) -> DeflectionEvent:
    """The form was filed (call inside the transaction that created ``ticket``). A
    missing or bad token still records the filing, under a fresh token."""
    values = _values(user, session_key, query, shown, clicked_url)
    event, token = _new_row_or_token(clean_token(token), values, ticket)
    return _recorded(event, token, values, ticket)


def _recorded(event, token, values, ticket) -> DeflectionEvent:
    """``record_filed`` once ``_new_row_or_token``'s outcome is known."""
    if event is None:
        event = _upsert(token, values, DeflectionOutcome.FILED, ticket=ticket)
    if event is None:  # token owned by someone else: record this filing on its own
        event = DeflectionEvent.objects.create(
            token=uuid.uuid4(), outcome=DeflectionOutcome.FILED, ticket=ticket, **values
        )
    return event


class Filing:
    """``record_filed`` for a ticket not written yet, its first step inside the filing's
    own statement where it can be (PostgreSQL, a signed-in user with a session: the
    statement of ``_new_row_or_token_at_once`` as parts of ``grants.grant_new_ticket``'s
    statement, through ``services.create_ticket(also=…)``)::

        filing = Filing(token=…, user=…, session_key=…, query=…, shown=…, clicked_url=…)
        ticket = services.create_ticket(…, also=filing.part if filing.at_once() else None)
        filing.record(ticket)

    ``record`` returns what ``record_filed`` returns; when ``part`` was not called (or
    its statement did not run) it is ``record_filed``."""

    def __init__(
        self, *, token, user, session_key="", query="", shown=0, clicked_url=""
    ):
        self.token = clean_token(token)
        self.values = _values(user, session_key, query, shown, clicked_url)
        self.outcome = None  # ``_new_row_or_token``'s, once the statement ran

    def at_once(self) -> bool:
        """Whether ``part`` may be offered to the filing's statement."""
        connection = connections[router.db_for_write(DeflectionEvent)]
        return _at_once(self.values, connection)

    def part(self, ticket):
        """The ``WITH`` parts writing the filing's row (``_new_row_or_token_at_once``'s,
        the ticket's id read from ``grants.NEW_TICKET_PART``) and the ``SELECT`` of its
        one row, ``(kind, id, text, bool)`` as the statement's other rows:
        ``(parts, params, select, select_params, finish)``; ``finish(row)`` with that
        row keeps the outcome for ``record``."""
        values = self.values
        using = router.db_for_write(DeflectionEvent)
        recent, recent_params = _RECENT_DEFLECTION.statement(
            using,
            user=values["user"].pk,
            session_key=values["session_key"],
            since=timezone.now() - COME_BACK_WINDOW,
        )
        new = _filed(self.token or uuid.uuid4(), values, None)
        insert, insert_params, finish = _FILED_WITH_NEW_TICKET.part(new, using)
        table = connections[using].ops.quote_name(DeflectionEvent._meta.db_table)
        parts = [f"{_RECENT} AS ({recent})", f"{_MADE} AS ({insert})"]
        select = (
            f"SELECT 'd', (SELECT id FROM {_MADE}), "  # noqa: S608
            f"CAST((SELECT token FROM {_RECENT}) AS text), "
            f"EXISTS (SELECT 1 FROM {table} WHERE token = %s)"
        )

        def done(row):
            made, recent_token, token_in_use = row
            if made is not None:
                new.ticket = ticket
                self.outcome = (finish([made]), None)
            elif token_in_use or recent_token is None:
                self.outcome = (None, new.token)  # as ``_new_row_or_token_at_once``
            else:
                self.outcome = (None, clean_token(recent_token))

        return parts, [*recent_params, *insert_params], select, [new.token], done

    def record(self, ticket) -> DeflectionEvent:
        """``record_filed`` for ``ticket`` (inside the transaction that created it)."""
        if self.outcome is None:
            event, token = _new_row_or_token(self.token, self.values, ticket)
        else:
            event, token = self.outcome
        return _recorded(event, token, self.values, ticket)


#: ``Filing.part``'s names in the filing's statement.
_RECENT, _MADE = "deflection_recent", "deflection_made"

#: ``_NEW_EVENT_UNLESS_RECENT`` inside the filing's statement: its ticket the one that
#: statement wrote (none written: no row either; the statement runs again).
_FILED_WITH_NEW_TICKET = KeptInsert(
    DeflectionEvent,
    expressions={
        "ticket": f"coalesce(%s, (SELECT id FROM {NEW_TICKET_PART}))"  # noqa: S608
    },
    when=(
        f"NOT EXISTS (SELECT 1 FROM {_RECENT}) "  # noqa: S608
        f"AND EXISTS (SELECT 1 FROM {NEW_TICKET_PART})"
    ),
    skip_conflict_on="token",
)


def _at_once(values, connection) -> bool:
    return (
        values["user"] is not None
        and bool(values["session_key"])
        and connection.vendor == "postgresql"
    )


def _filed(token, values, ticket) -> DeflectionEvent:
    return instances.made_new(
        DeflectionEvent,
        token=token,
        outcome=DeflectionOutcome.FILED,
        ticket=ticket,
        **values,
    )


def _new_row_or_token(token, values, ticket) -> tuple:
    """``(the new row, None)`` when this filing writes its own row; else ``(None, the
    token of the row to update)``: the form's token when a row has it, else the
    session's recent deflection (the form was reloaded, e.g. Back from the article
    gives a fresh token: the customer's recent deflection is this visit coming back),
    else the form's token."""
    using = router.db_for_write(DeflectionEvent)
    connection = connections[using]  # a thread's lookup: ~6 Python calls each
    if _at_once(values, connection):
        return _new_row_or_token_at_once(token, values, ticket, using, connection)
    if token is None or not DeflectionEvent.objects.filter(token=token).exists():
        token = _recent_deflection_token(values) or token
        if token is None:  # a token made here: no row can hold it, nothing to read
            return _NEW_EVENT.save(_filed(uuid.uuid4(), values, ticket)), None
    return None, token


def _new_row_or_token_at_once(token, values, ticket, using, connection) -> tuple:
    """``_new_row_or_token`` in one statement: the recent deflection read, the row
    inserted unless there is one (or the form's token is taken: ``ON CONFLICT DO
    NOTHING``), and whether the form's token was in use."""
    recent, recent_params = _RECENT_DEFLECTION.statement(
        using,
        user=values["user"].pk,
        session_key=values["session_key"],
        since=timezone.now() - COME_BACK_WINDOW,
    )
    new = _filed(token or uuid.uuid4(), values, ticket)
    insert, insert_params, finish = _NEW_EVENT_UNLESS_RECENT.part(new, using)
    table = connection.ops.quote_name(DeflectionEvent._meta.db_table)
    sql = (
        f"WITH recent AS ({recent}), made AS ({insert}) "  # noqa: S608
        "SELECT (SELECT token FROM recent), (SELECT id FROM made), "
        f"EXISTS (SELECT 1 FROM {table} WHERE token = %s)"
    )
    with transaction.mark_for_rollback_on_error(using=using):
        with connection.cursor() as cursor:
            cursor.execute(sql, [*recent_params, *insert_params, new.token])
            recent_token, made, token_in_use = cursor.fetchone()
    if made is not None:
        return finish([made]), None
    if token_in_use or recent_token is None:
        # the form's token is in use (or was written meanwhile: the INSERT waited
        # for that transaction): its row is updated, as the form's own visit
        return None, new.token
    return None, clean_token(recent_token)


@dataclass(frozen=True)
class DeflectionStats:
    """Form visits since a moment: ``shown`` saw suggestions, ``clicked`` opened one,
    ``deflected`` left after reading, ``filed`` filed a ticket."""

    shown: int
    clicked: int
    deflected: int
    filed: int

    @property
    def rate(self) -> float | None:
        total = self.deflected + self.filed
        return self.deflected / total if total else None


def deflection_stats(since) -> DeflectionStats:
    """One aggregate query over the events created at or after ``since``."""
    counts = DeflectionEvent.objects.filter(created_at__gte=since).aggregate(
        shown=Count("pk", filter=Q(shown_count__gt=0)),
        clicked=Count("pk", filter=~Q(clicked_url="")),
        deflected=Count("pk", filter=Q(outcome=DeflectionOutcome.DEFLECTED)),
        filed=Count("pk", filter=Q(outcome=DeflectionOutcome.FILED)),
    )
    return DeflectionStats(**counts)


def deflection_rate(since) -> float | None:
    """Share of portal visits since ``since`` that ended with an article instead of a
    ticket: deflected / (deflected + filed), from 0.0 to 1.0; None without data."""
    return deflection_stats(since).rate
