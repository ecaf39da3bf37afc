"""The inbox: saved views, filters, search and ordering over the tickets a user may see.

Each saved view is a named narrowing of ``permissions.visible_tickets(user)``; filters
and search narrow further. The page is built with a constant number of queries
(``select_related`` for the columns, one query for the page's tags), whatever its
size.

Over 400 lines until split: the desk's staff list (``desk_staff``, its generation and
receivers) is due to move into tickets/desk/staff.py.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Case, Q, QuerySet, When
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language, gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import roles
from portal import cache as shared_cache
from portal.formats import DAY_MONTH_TIME
from portal.sql import KeptStatement, ValueList
from portal.translations import translated

from .. import permissions, sla
from ..models import OPEN_STATUSES, Priority, Status, TaggedTicket, Ticket, fulltext
from ..pagination import CappedPaginator
from .access import my_queues


@dataclass(frozen=True)
class SavedView:
    slug: str
    label: str


SAVED_VIEWS = [
    SavedView("open", _("Open work in my queues")),
    SavedView("mine", _("My tickets")),
    SavedView("unassigned", _("Unassigned in my queues")),
    SavedView("queues", _("All in my queues")),
    SavedView("at_risk", _("SLA at risk (due within 1 h)")),
    SavedView("breached", _("SLA breached")),
    SavedView("waiting", _("Waiting on customer")),
    SavedView("all", _("All visible tickets")),
]
SAVED_VIEW_SLUGS = {view.slug for view in SAVED_VIEWS}
# The inbox opens on live work: not resolved, closed, rejected or withdrawn (a status
# filter chosen in the bar still narrows within it; "All in my queues" has the rest).
DEFAULT_VIEW = "open"

# ?order= values → ORDER BY; "-x" sorts descending. Priority sorts by urgency
# (``Priority.order_expression``), so "-priority" puts critical first.
ORDERINGS = {
    "reference": "reference",
    "subject": "subject",
    "requester": "requester__email",
    "organization": "organization__name",
    "status": "status",
    "priority": "priority_rank",
    "assignee": "assignee__email",
    "due": "resolution_due_at",
    "updated": "updated_at",
    "created": "created_at",
    "relevance": "search_rank",  # only while searching (``TicketQuerySet.search``)
}
DEFAULT_ORDER = "-updated"
SEARCH_ORDER = "-relevance"  # the default while searching
PAGE_SIZES = (25, 50, 100)


def saved_view_queryset(
    user, view: str, *, now=None, queue=None, queues=None, visible=None
) -> QuerySet:
    """The tickets of one saved view (``queue`` narrows any view to one queue).

    ``queues``: ``my_queues(user)`` when the caller already has it (a queryset or
    the list of its rows), so that it is not asked for twice. ``visible``: the
    tickets to narrow, ``permissions.visible_tickets(user)`` unless the policy gave
    the caller an equivalent for the view (``_compile_search``)."""
    now = now or timezone.now()
    qs = permissions.visible_tickets(user) if visible is None else visible
    if queues is None:
        queues = my_queues(user)
    if view == "mine":
        qs = qs.open().filter(assignee=user)
    elif view == "unassigned":
        qs = qs.open().unassigned().filter(queue__in=queues)
    elif view == "open":
        qs = qs.open().filter(queue__in=queues)
    elif view == "queues":
        qs = qs.filter(queue__in=queues)
    elif view == "at_risk":
        qs = qs.at_risk(now, within=timedelta(hours=1))
    elif view == "breached":
        qs = qs.breaching_sla(now)
    elif view == "waiting":
        qs = qs.filter(status=Status.WAITING_ON_CUSTOMER)
    if queue is not None:
        qs = qs.filter(queue=queue)
    return qs


def apply_filters(qs: QuerySet, data: dict, user=None) -> QuerySet:
    """Narrow by the cleaned filter form (status, priority, assignee, organization,
    tag, search text). The search looks into internal notes where the policy lets
    ``user`` read them (none without a user)."""
    if data.get("status"):
        qs = qs.filter(status__in=data["status"])
    if data.get("priority"):
        qs = qs.filter(priority__in=data["priority"])
    if data.get("organization"):
        qs = qs.filter(organization=data["organization"])
    assignee = data.get("assignee")
    if assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=assignee)
    if data.get("tag"):
        qs = qs.filter(tags__name=data["tag"].strip().lower())
    notes = permissions.notes_searchable(user) if user is not None else False
    return qs.search(data.get("q") or "", notes=notes)


def apply_ordering(qs: QuerySet, order: str) -> tuple[QuerySet, str]:
    """Order by a column; by relevance when searching and no column is chosen."""
    searching = "search_rank" in qs.query.annotations
    key = (order or "").lstrip("-")
    if key not in ORDERINGS or (key == "relevance" and not searching):
        order = SEARCH_ORDER if searching else DEFAULT_ORDER
        key = order.lstrip("-")
    field = ORDERINGS[key]
    if field == "search_rank":  # most relevant first, whichever way it is asked
        # ranked among as many matches as the capped count shows (newest first)
        return qs.by_relevance(within=CappedPaginator.cap + 1), SEARCH_ORDER
    if field == "priority_rank":
        qs = qs.with_priority_rank()
    prefix = "-" if order.startswith("-") else ""
    return qs.order_by(f"{prefix}{field}", f"{prefix}pk"), order


def inbox_queryset(user, view: str, data: dict, queues, order: str):
    """``saved_view_queryset`` narrowed by ``apply_filters`` and ordered by
    ``apply_ordering``: ``(queryset, order)``. A search ranked by relevance runs its
    ids statement from SQL kept per shape (``_kept_search``) instead of building and
    compiling the search for every page."""
    kept = _kept_search(user, view, data, queues, order)
    if kept is not None:
        return kept, SEARCH_ORDER
    qs = saved_view_queryset(user, view, queue=data.get("queue"), queues=queues)
    qs = apply_filters(qs, data, user)
    return apply_ordering(qs, order)


# The search's text while a kept statement is compiled (``_stand_in``): a word,
# unchanged by ``fulltext.clean`` and by LIKE escaping; found among the parameters,
# never in SQL.
_STAND_IN = "qzxkeptsearchxzq"
# shape key: (sql, params, noted, places, every_noted) or None
_KEPT_SEARCHES: dict = {}
_KEPT_LIMIT = 512
# Views whose statement holds no time (``at_risk`` and ``breached`` hold "now").
_KEPT_VIEWS = frozenset({"mine", "unassigned", "open", "queues", "waiting", "all"})
_OTHER_FILTERS = ("status", "priority", "organization", "assignee", "tag")
# Views narrowed to the user's worked queues: the policy's queue-group rule decides
# their rows' visibility and notes alone (``permissions.worked_queue_rule``).
_WORKED_QUEUE_VIEWS = frozenset({"open", "queues", "unassigned"})
# Views whose search is stated as two parts, the worked queues' tickets and the
# others (``_parted_search``): "all" only; "mine" and "waiting", narrow already, read
# more that way (bench FINDINGS S-16).
_PARTED_VIEWS = frozenset({"all"})


def _search_forms(connection) -> dict:
    """How the search's text appears among the ids statement's parameters: as it is
    (full-text functions), as a ``contains`` pattern (LIKE-escaped, as Django's
    ``icontains`` puts it), as an FTS5 query of the staff or the public columns."""
    return {
        "text": lambda text: text,
        "contains": lambda text: f"%{connection.ops.prep_for_like_query(text)}%",
        "fts5 staff": lambda text: fulltext.fts5_query(text, notes=True),
        "fts5 public": lambda text: fulltext.fts5_query(text, notes=False),
    }


def _kept_search(user, view: str, data: dict, queues, order: str):
    """The ranked search (``by_relevance(within=…)``) of the inbox for the text
    ``data["q"]``, its ids statement compiled once per shape and run with the text in
    its places; None where this does not apply (no text, another order, other
    filters, a view that holds the time): the caller builds the queryset.

    The shape: the user's id and the facts the visibility policy's SQL depends on
    (``permissions.KeptVisible.shape``, ``permissions.notes_searchable``'s kind: the
    policy's conditions are SQL of the user's id, built once per process per id), the
    view, the queues it names, the chosen queue, and what in the text changes the
    search's SQL (a possible negation, a digit, a word at all). The statement is what
    ``apply_filters`` and ``apply_ordering`` build for the stand-in text, so nothing
    of the search is written twice."""
    text = fulltext.clean(data.get("q") or "")
    key_order = (order or "").lstrip("-")
    if (
        not text
        or not fulltext.has_word(text)
        or (key_order in ORDERINGS and key_order != "relevance")
        or view not in _KEPT_VIEWS
        or any(data.get(name) for name in _OTHER_FILTERS)
    ):
        return None
    shape = permissions.KeptVisible.shape(user)
    if shape is None:
        return None
    notes = permissions.notes_searchable(user)
    db = Ticket.objects.db
    connection = connections[db]
    queue = data.get("queue")
    within = CappedPaginator.cap + 1
    key = (
        db,
        connection.vendor,
        within,
        user.pk,
        shape,
        notes if isinstance(notes, bool) else "some",
        view,
        queue.pk if queue is not None else None,
        tuple(q.pk for q in queues) if view in ("unassigned", "open", "queues") else (),
        fulltext.may_negate(text),
        any(character.isdigit() for character in text),
    )
    kept = _KEPT_SEARCHES.get(key, False)
    if kept is False:
        stand_in = _stand_in(*key[-2:])
        kept = _compile_search(user, view, data, queues, connection, stand_in, within)
        if len(_KEPT_SEARCHES) >= _KEPT_LIMIT:
            _KEPT_SEARCHES.pop(next(iter(_KEPT_SEARCHES)), None)
        _KEPT_SEARCHES[key] = kept
    if kept is None:
        return None
    sql, params, noted, places, every_noted = kept
    forms = _search_forms(connection)
    params = list(params)
    for index, form in places:
        params[index] = forms[form](text)
    ids, noted_ids = fulltext.run_ranked_ids(db, sql, params, noted)
    if every_noted:  # the policy's verdict on every row the statement can find
        noted_ids = ids
    return KeptPage(db, connection.vendor, text, notes, ids, noted_ids)


class KeptPage:
    """A kept search's answer (``_kept_search``) as the paginator's object list: the
    ranked ids (``ranked_ids``, ``ranked_count`` as ``TicketQuerySet.by_relevance
    (within=…)`` gives them), and a slice of them loaded as ``for_listing`` loads
    ``TicketQuerySet.ranked``'s rows, with the search's snippet, in that order, from
    a statement kept per kind of snippet (``_page_statement``): what ``ranked`` and
    ``for_listing`` build and compile for every page (~7k Python calls), written
    once. The snippet is the staff or the public one as ``ranked`` chooses it: the
    staff one where ``notes`` (the policy's verdict) is True, or for the ``noted``
    ids (the ids statement's verdicts) where it is a condition."""

    def __init__(self, db, vendor, text, notes, ids, noted):
        self.db, self.vendor, self.text = db, vendor, text
        self.ranked_ids, self.ranked_count = ids, len(ids)
        if noted is None:  # the policy's verdict is the same for every ticket
            self.kind, self.noted = ("staff" if notes is True else "public"), None
        elif not noted:
            self.kind, self.noted = "public", None
        elif len(noted) == len(ids):
            self.kind, self.noted = "staff", None
        else:
            self.kind, self.noted = "some", sorted(noted)

    def __len__(self):
        return self.ranked_count

    def __getitem__(self, k):
        if not isinstance(k, slice) or k.step:
            raise TypeError("KeptPage: a slice of its rows")
        place = {pk: i for i, pk in enumerate(self.ranked_ids[k])}
        if not place:  # no match: no query
            return []
        values = {"ids": list(place), "text": self.text}
        if self.kind == "some":
            values["noted"] = self.noted
        statement = _page_statement(self.db, self.vendor, self.kind)
        rows = statement.instances(self.db, **values)
        return sorted(rows, key=lambda row: place[row.pk])


_KEPT_PAGES: dict = {}  # (database, vendor, kind of snippet): KeptStatement
# How a text stands in the page statement's parameters besides as it is: SQLite's
# FTS5 queries of the staff or the public columns (``fulltext.snippet``).
_SNIPPET_FORMS = {
    "fts5 staff": lambda text: fulltext.fts5_query(text, notes=True),
    "fts5 public": lambda text: fulltext.fts5_query(text, notes=False),
}


def _page_statement(db: str, vendor: str, kind: str) -> KeptStatement:
    """The statement of ``KeptPage``'s rows for one kind of snippet: the staff
    document's ("staff"), the public one's ("public"), or the staff one for the ids
    ``noted`` and the public one for the others ("some")."""
    key = (db, vendor, kind)
    statement = _KEPT_PAGES.get(key)
    if statement is None:
        lists = ("ids", "noted") if kind == "some" else ("ids",)

        def build(ids, text, noted=None):
            return _page_query(vendor, kind, ids, text, noted)

        statement = _KEPT_PAGES[key] = KeptStatement(
            build, (*lists, "text"), lists=lists, texts={"text": _SNIPPET_FORMS}
        )
    return statement


def _page_query(vendor: str, kind: str, ids, text: str, noted) -> QuerySet:
    """What ``TicketQuerySet.ranked`` and ``__getitem__`` give ``for_listing`` for a
    page of ``ids``: those tickets, unordered, with the search's snippet (its
    ``_snippet_of``), the ids one parameter (``ValueList`` where ``fulltext.ids_in``
    writes one per id)."""

    def one_of(values) -> Q:
        if vendor == "postgresql":
            return fulltext.ids_in(vendor, "pk", values)
        return Q(pk__in=ValueList(values, output_field=Ticket._meta.pk))

    staff = fulltext.snippet(vendor, text, notes=True)
    public = fulltext.snippet(vendor, text, notes=False)
    if kind == "staff":
        highlight = staff
    elif kind == "public":
        highlight = public
    else:
        highlight = Case(When(one_of(noted), then=staff), default=public)
    rows = Ticket.objects.filter(one_of(ids)).alias(search_highlight=highlight)
    return for_listing(rows).order_by()


def _stand_in(negation: bool, digit: bool) -> str:
    """A stand-in text with what the search's SQL depends on in a text: a word, and
    a possible negation and a digit as asked."""
    return f"{'-' if negation else ''}{_STAND_IN}{'7' if digit else ''}"


def _compile_search(
    user, view: str, data: dict, queues, connection, stand_in: str, within: int
):
    """``(sql, params, noted, places, every_noted)`` of the ranked search's ids
    statement for ``stand_in`` as the text, ``places`` the parameters that hold it
    (index, form), ``every_noted`` whether notes count on every row it finds; None
    when the stand-in is found anywhere else (not kept: built each time).

    In the views narrowed to the worked queues (``_WORKED_QUEUE_VIEWS``), the
    visibility and notes conditions are the policy's worked-queue rule
    (``permissions.worked_queue_rule``) where it gives one: its condition in the
    statement instead of both, cheaper to plan and run (bench FINDINGS S-12): the
    same rows, the membership read by this statement (no other filter is kept:
    ``apply_filters`` is the search alone here)."""
    rule = None
    if view in _WORKED_QUEUE_VIEWS:
        rule = permissions.worked_queue_rule(user)
    elif view in _PARTED_VIEWS:
        parted = _parted_search(user, view, data, queues, stand_in, within)
        if parted is not None:
            return _kept_form(*parted, connection, stand_in, False)
    if rule is None:
        qs = saved_view_queryset(user, view, queue=data.get("queue"), queues=queues)
        qs = apply_filters(qs, {**data, "q": stand_in}, user)
    else:
        qs = saved_view_queryset(
            user,
            view,
            queue=data.get("queue"),
            queues=queues,
            visible=Ticket.objects.filter(rule.condition),
        )
        qs = qs.search(stand_in, notes=rule.notes)
    sql, params, noted = qs.ranked_statement(within)
    every_noted = rule is not None and rule.notes
    return _kept_form(sql, params, noted, connection, stand_in, every_noted)


def _parted_search(user, view: str, data: dict, queues, stand_in: str, within: int):
    """The ranked search's ids statement in the other views (``_PARTED_VIEWS``) of
    a user whose notes count on some tickets only, as two disjoint parts: the
    tickets of the worked queues by the policy's worked-queue rule (notes its
    verdict on all of them, S-12's bitmap), and the other visible tickets
    (``permissions.visible_outside_worked_queues``) with the notes condition; each
    part's newest ``within``, the newest ``within`` of both ranked (``TicketQuerySet.
    ranked_statement_with``): the same ids in the same order as the one statement
    over ``visible_tickets``, whose plan walked every visible ticket newest first
    (bench FINDINGS S-13 item 2, S-16). ``(sql, params, noted)``, or None where
    this does not apply."""
    rule = permissions.worked_queue_rule(user)
    if rule is None or isinstance(permissions.notes_searchable(user), bool):
        return None
    elsewhere = permissions.visible_outside_worked_queues(user)

    def part(visible):
        return saved_view_queryset(
            user,
            view,
            queue=data.get("queue"),
            queues=queues,
            visible=Ticket.objects.filter(visible),
        )

    worked = part(rule.condition).search(stand_in, notes=rule.notes)
    others = apply_filters(part(elsewhere), {**data, "q": stand_in}, user)
    return worked.ranked_statement_with(others, within, rule.notes)


def _kept_form(sql, params, noted, connection, stand_in: str, every_noted: bool):
    """``_compile_search``'s answer for an ids statement compiled with ``stand_in``
    as the text: its places found among the parameters; None when the stand-in is
    anywhere else."""
    if _STAND_IN in sql:
        return None
    forms = _search_forms(connection)
    by_form = {form(stand_in): name for name, form in forms.items()}
    places = []
    for index, value in enumerate(params):
        if isinstance(value, str) and _STAND_IN in value:
            if value not in by_form:
                return None
            places.append((index, by_form[value]))
    return sql, tuple(params), noted, tuple(places), every_noted


def forget_kept_searches() -> None:
    """Compile the searches again at their next use (tests that change the
    database)."""
    _KEPT_SEARCHES.clear()
    _KEPT_PAGES.clear()


_PERSON = ("email", "display_name", "first_name", "last_name")  # str(user)


def for_listing(qs: QuerySet) -> QuerySet:
    """Everything the columns show (``listing_rows``), loaded with the page, and
    nothing else: not the description, not the password hashes of the people. While
    searching, each row's snippet too (in the same query). A ``KeptPage`` loads so
    already."""
    if isinstance(qs, KeptPage):
        return qs
    qs = qs.with_search_snippets()
    return qs.select_related("requester", "organization", "assignee").only(
        "reference",
        "subject",
        "status",
        "priority",
        "first_responded_at",
        "first_response_due_at",
        "resolution_due_at",
        "created_at",
        "resolved_at",
        "sla_breached_at",
        "updated_at",
        "organization__name",
        *(f"requester__{field}" for field in _PERSON),
        *(f"assignee__{field}" for field in _PERSON),
    )


def page_tags(tickets) -> dict[int, tuple[str, ...]]:
    """Tag names per ticket id, by name, for a page of tickets in one query (a
    ``prefetch_related("tags")`` built a taggit manager per ticket), its SQL compiled
    once per process (``portal.sql.KeptStatement``, the ids one list parameter)."""
    names = {}
    for ticket_id, name in _PAGE_TAGS.rows(
        Ticket.objects.db, tickets=[t.pk for t in tickets]
    ):
        names.setdefault(ticket_id, []).append(name)
    return {ticket_id: tuple(tags) for ticket_id, tags in names.items()}


def _page_tags_query(tickets):
    return (
        TaggedTicket.objects.filter(
            content_object_id__in=ValueList(
                tickets, output_field=TaggedTicket._meta.get_field("content_object")
            )
        )
        .order_by("tag__name")
        .values_list("content_object_id", "tag__name")
    )


_PAGE_TAGS = KeptStatement(_page_tags_query, ("tickets",), lists=("tickets",))


def _read_desk_staff() -> tuple[tuple[str, str, str], ...]:
    User = get_user_model()
    in_groups = User.groups.through.objects.filter(
        group__name__in=[roles.AGENTS, roles.SUPERVISORS]
    ).values("user_id")
    people = (
        User.objects.filter(Q(is_superuser=True) | Q(pk__in=in_groups), is_active=True)
        .only("pk", "email", "display_name", "first_name", "last_name")
        .order_by("email")
    )
    return tuple((str(person.pk), person.email, str(person)) for person in people)


def desk_staff() -> list[tuple[str, str, str]]:
    """``(id, email, name)`` of the active agents, supervisors and administrators, by
    email: the assignee filter and the bulk form's datalist. Group membership is a
    subquery, not a join + DISTINCT (which hashed every user × group row: ~10 ms at
    10k users).

    Remembered per process for the current *generation* of ``STAFF_GENERATION_KEY``
    in the shared cache (the query scans every user: no index answers
    ``is_superuser``; 3 ms of SQL and 6 ms a page at 10k users, bench FINDINGS S-1).
    Saving or deleting a user or a group, or changing a user's groups, forgets this
    process's copy at once and sets a new generation when the change commits
    (``connect``); read each time where ``staff_generation`` is None
    (``portal.cache.Generation``). A list of names only: it grants nothing (the
    filter narrows the visible tickets, the bulk form's assignment is checked when it
    is applied)."""
    return list(_kept_staff.get(_read_desk_staff))


STAFF_GENERATION_KEY = "tickets:desk-staff:generation"

_kept_staff = shared_cache.Generation(STAFF_GENERATION_KEY, "DESK_STAFF_CACHE")

#: ``DESK_STAFF_CACHE`` (bool) overrides; by default on only when the cache is shared
#: by every process (``portal.cache.shared_or``).
staff_cache_enabled = _kept_staff.enabled

#: The staff's generation, read before the staff is (``desk_staff``, crm's "Add
#: task"); None when nothing may be kept: switched off (``staff_cache_enabled``), a
#: change of the current transaction waiting for its commit, no shared cache.
staff_generation = _kept_staff.current

#: A user, a group or a membership changed: forget the list in this process now and
#: in every process once the change commits.
forget_staff = _kept_staff.changed

#: The renewal, run when such a change commits (tests: another process's).
_new_staff_generation = _kept_staff.renew


def _staff_user_saved(update_fields=None, **kwargs) -> None:
    if shared_cache.user_save_counts(update_fields):
        forget_staff()


def _staff_groups_changed(action=None, pk_set=None, **kwargs) -> None:
    if shared_cache.links_change_counts(action, pk_set):
        forget_staff()


def connect() -> None:
    """The receivers that keep ``desk_staff``'s copies current (``TicketsConfig``)."""
    from django.contrib.auth.models import Group

    User = get_user_model()
    receivers = (
        (post_save, User, _staff_user_saved),
        (post_delete, User, forget_staff),
        (post_save, Group, forget_staff),
        (post_delete, Group, forget_staff),
        (m2m_changed, User.groups.through, _staff_groups_changed),
    )
    for number, (signal, sender, receiver) in enumerate(receivers):
        signal.connect(
            receiver, sender=sender, dispatch_uid=f"tickets.desk.staff.{number}"
        )


def _left_parts(delta: timedelta) -> tuple[str, int]:
    """``_left``'s unit and number."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return "min", minutes
    if minutes < 48 * 60:
        return "h", minutes // 60
    return "d", minutes // (24 * 60)


def _left_text(unit: str, n: int) -> str:
    if unit == "min":
        return ngettext("%(n)d min", "%(n)d min", n) % {"n": n}
    if unit == "h":
        return ngettext("%(n)d h", "%(n)d h", n) % {"n": n}
    return ngettext("%(n)d d", "%(n)d d", n) % {"n": n}


def _left(delta: timedelta) -> str:
    """A time left, rounded down, in the largest unit that fits: "40 min", "3 h",
    "2 d"."""
    return _left_text(*_left_parts(delta))


def sla_label(state: str, due, now) -> str:
    """The inbox's SLA cell in words, for a ``tickets.sla.next_state`` state."""
    if state in (sla.RUNNING, sla.DUE_SOON_STATE):
        return gettext("Due in %(left)s") % {"left": _left(due - now)}
    return _sla_word(state)


def _sla_word(state: str) -> str:
    """``sla_label`` of a state without a time left."""
    if state == sla.BREACHED:
        return gettext("Overdue")
    if state == sla.PAUSED:
        return gettext("Paused")
    if state == sla.MET:
        return gettext("Met")
    if state == sla.LATE:
        return gettext("Missed")
    return gettext("No target")


# Texts kept per process, in dicts per language (and format): at most this many each,
# then begun again (a few hundred minutes, hours, days and words in practice).
_KEPT_TEXTS_LIMIT = 4096
_SLA_TEXTS: dict = {}  # language: {state or (unit, number): text}


def _kept_texts(kept: dict, key) -> dict:
    """The dict of texts ``kept`` holds under ``key``, emptied once it is full."""
    texts = kept.get(key)
    if texts is None or len(texts) >= _KEPT_TEXTS_LIMIT:
        texts = kept[key] = {}
    return texts


class _SlaLabels:
    """``sla_label`` for a page's rows, each text translated once per language (per
    state, or per unit and number of the time left) instead of per row."""

    def __init__(self, now):
        self.now = now
        self._texts = _kept_texts(_SLA_TEXTS, get_language())

    def __call__(self, state: str, due) -> str:
        if state in (sla.RUNNING, sla.DUE_SOON_STATE):
            key = _left_parts(due - self.now)
            text = self._texts.get(key)
            if text is None:
                text = self._texts[key] = gettext("Due in %(left)s") % {
                    "left": _left_text(*key)
                }
            return text
        text = self._texts.get(state)
        if text is None:
            text = self._texts[state] = _sla_word(state)
        return text


class _TicketUrls:
    """``reverse("helpdesk:ticket", args=[reference])`` for a page's rows: reversed
    once with a stand-in reference, the reference put in its place where quoting
    leaves it as it is (letters, digits, ``-``, ``_``, ``.``, ``~``); any other
    reference is reversed on its own."""

    _STAND_IN = "QZXREFERENCEXZQ"
    _PLAIN = re.compile(r"[A-Za-z0-9._~-]+")

    def __init__(self):
        url = reverse("helpdesk:ticket", args=[self._STAND_IN])
        self._parts = (
            url.split(self._STAND_IN) if url.count(self._STAND_IN) == 1 else None
        )

    def __call__(self, reference: str) -> str:
        if self._parts is None or not self._PLAIN.fullmatch(reference):
            return reverse("helpdesk:ticket", args=[reference])
        return f"{self._parts[0]}{reference}{self._parts[1]}"


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox with its cells ready to print, so the template only
    places strings (per-row ``{% url %}``, ``|date``, ``get_FOO_display`` and lazy
    labels were most of the page's rendering time). ``for ticket, due in rows``
    still unpacks a row."""

    ticket: Ticket
    due: datetime | None
    reference: str
    select_label: str  # the checkbox's aria-label
    url: str
    subject: str
    tags: tuple[str, ...]
    requester: str
    organization: str
    status: str
    status_label: str
    priority: str
    priority_label: str
    assignee: str
    due_iso: str  # "" when no deadline is shown (none, or the ticket is closed)
    due_text: str
    sla_state: str  # ``tickets.sla.next_state``: the cell's colour
    sla_label: str  # … and its words: "Overdue", "Due in 3 h", "Met"
    updated_iso: str
    updated_text: str
    snippet: str = ""  # escaped HTML around the search's matches, when searching

    def __iter__(self):
        return iter((self.ticket, self.due))


# Format characters whose text depends on one part of the (local) value only: a date
# cell takes each from Django's own ``DateFormat`` once per value of that part.
_FORMAT_PARTS = {
    "d": "day",
    "j": "day",
    "m": "month",
    "n": "month",
    "M": "month",
    "b": "month",
    "N": "month",
    "E": "month",
    "F": "month",
    "Y": "year",
    "y": "year",
    "H": "hour",
    "G": "hour",
    "i": "minute",
}


_DATE_TEXTS: dict = {}  # (language, format): {(y, m, d, hour, minute): text}


class _DateCells:
    """What ``{{ value|date:'c' }}`` and ``{{ value|date:'DAY_MONTH_TIME_FORMAT' }}``
    print, for many values: converted to the current time zone as the template does,
    the named format looked up once (in the active language) instead of per cell. Where
    every character of the format is one of ``_FORMAT_PARTS`` ("d M H:i"), the text of
    each is Django's (``DateFormat``), kept per value of its part for this page (a
    month's name is translated once, not per cell), and the cell's text per language
    and minute for the process; any other format is ``dateformat.format``'s per
    cell."""

    def __init__(self):
        self._format = formats.get_format(DAY_MONTH_TIME)
        pieces = dateformat.re_formatchars.split(str(self._format))
        self._plan = []  # (literal text, None) or (format character, part)
        for i, piece in enumerate(pieces):
            if i % 2:
                if piece not in _FORMAT_PARTS:
                    self._plan = None
                    break
                self._plan.append((piece, _FORMAT_PARTS[piece]))
            elif piece:
                self._plan.append((dateformat.re_escaped.sub(r"\1", piece), None))
        self._texts = {}  # (format character, part's value): text
        # the text per (year, month, day, hour, minute) of the local value, for the
        # active language and its format (nothing else changes the text)
        self._cells = _kept_texts(_DATE_TEXTS, (get_language(), self._format))
        # what ``template_localtime`` converts an aware value to, looked up once
        self._zone = timezone.get_current_timezone() if settings.USE_TZ else None

    def _local(self, value):
        """``timezone.template_localtime(value)``."""
        if (
            self._zone is not None
            and type(value) is datetime
            and value.utcoffset() is not None
        ):
            return value.astimezone(self._zone)
        return timezone.template_localtime(value)

    def __call__(self, value: datetime) -> tuple[str, str]:
        value = self._local(value)
        if self._plan is None:
            return value.isoformat(), dateformat.format(value, self._format)
        key = (value.year, value.month, value.day, value.hour, value.minute)
        text = self._cells.get(key)
        if text is None:
            text = self._cells[key] = self._text(value)
        return value.isoformat(), text

    def _text(self, value: datetime) -> str:
        texts, pieces, django_format = self._texts, [], None
        for piece, part in self._plan:
            if part is None:
                pieces.append(piece)
                continue
            key = (piece, getattr(value, part))
            text = texts.get(key)
            if text is None:
                if django_format is None:
                    django_format = dateformat.DateFormat(value)
                text = texts[key] = str(getattr(django_format, piece)())
            pieces.append(text)
        return "".join(pieces)


_CHOICE_LABELS: dict = {}  # language: (statuses, priorities)


def choice_labels() -> tuple[dict, dict]:
    """The status and priority labels by value, translated into the active language
    once per process (a lazy label's translation looks through every catalogue:
    ~70 Python calls each)."""
    language = get_language()
    labels = _CHOICE_LABELS.get(language)
    if labels is None:
        labels = _CHOICE_LABELS[language] = (
            {value: str(label) for value, label in Status.choices},
            {value: str(label) for value, label in Priority.choices},
        )
    return labels


_SELECT = gettext_noop("Select %(ref)s")


def _select_text() -> str:
    """The rows' checkbox label, translated once per language (``translated``)."""
    return translated((_SELECT,))[_SELECT]


def listing_rows(tickets) -> list[InboxRow]:
    """The page's tickets (loaded by ``for_listing``) as ``InboxRow``s, in one pass
    (and one query, for the tags)."""
    tickets = list(tickets)
    tags = page_tags(tickets) if tickets else {}
    statuses, priorities = choice_labels()
    select = _select_text()
    dates = _DateCells()
    now = timezone.now()
    labels, urls = _SlaLabels(now), _TicketUrls()
    rows = []
    for ticket in tickets:
        _kind, due, state = sla.next_state(ticket, now)
        due_iso, due_text = (
            dates(due) if due and ticket.status in OPEN_STATUSES else ("", "")
        )
        updated_iso, updated_text = dates(ticket.updated_at)
        rows.append(
            InboxRow(
                ticket=ticket,
                due=due,
                reference=ticket.reference,
                select_label=select % {"ref": ticket.reference},
                url=urls(ticket.reference),
                subject=ticket.subject,
                tags=tags.get(ticket.pk, ()),
                requester=str(ticket.requester),
                organization=str(ticket.organization) if ticket.organization else "—",
                status=ticket.status,
                status_label=statuses.get(ticket.status, ticket.status),
                priority=ticket.priority,
                priority_label=priorities.get(ticket.priority, ticket.priority),
                assignee=str(ticket.assignee) if ticket.assignee else "—",
                due_iso=due_iso,
                due_text=due_text,
                sla_state=state,
                sla_label=labels(state, due),
                updated_iso=updated_iso,
                updated_text=updated_text,
                snippet=fulltext.as_html(getattr(ticket, "search_snippet", None)),
            )
        )
    return rows
