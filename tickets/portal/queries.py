"""Ticket and article lists for the portal pages, each a fixed number of queries."""

from django.db.models import Count, Window
from wagtail.models import Locale

from accounts import kept_organizations, roles
from kb.permissions import visible_articles
from portal.sql import KeptStatement, ValueList

from .. import permissions, services
from ..models import Ticket
from ..pagination import COUNT_CAP, CappedPaginator
from . import walk

ORDERINGS = {
    "-updated": ("-updated_at", "-pk"),
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "priority": ("-priority_rank", "-updated_at", "-pk"),  # most urgent first
}


def portal_tickets(user):
    """Tickets ``user`` may see, with what a list row shows loaded."""
    return permissions.visible_tickets(user).select_related("requester", "organization")


def filter_tickets(user, *, q="", status="open", scope="all", order="-updated"):
    qs = _narrowed(portal_tickets(user), user.pk, status=status, scope=scope)
    return _ordered(qs.search(q, notes=permissions.notes_searchable(user)), order)


def _narrowed(qs, user_pk, *, status, scope):
    """``qs`` narrowed by the list's status and scope filters for the user
    ``user_pk``."""
    if status == "open":
        qs = qs.open()
    elif status == "closed":
        qs = qs.closed()
    if scope == "mine":
        qs = qs.filter(requester=user_pk)
    elif scope == "organization":
        qs = qs.filter(organization__memberships__user=user_pk).exclude(
            requester=user_pk
        )
    return qs


def _ordered(qs, order):
    if order == "priority":
        qs = qs.with_priority_rank()
    return qs.order_by(*ORDERINGS.get(order, ORDERINGS["-updated"]))


def page_rows(page, *, order="-updated") -> list:
    """The tickets of one list page (``page``: a slice of ``filter_tickets``), with
    what a row shows loaded, in one statement.

    The slice's ticket ids are picked in a subquery and only those rows are joined
    to their requester and organization: sliced directly, PostgreSQL joins every
    visible ticket (thousands for a big organization) before it sorts and keeps 20.
    The ids subquery carries the whole visibility filter, so nothing else is shown."""
    ids = page.values("pk")
    rows = Ticket.objects.filter(pk__in=ids).select_related("requester", "organization")
    return list(_ordered(rows, order))


# The tickets of a customer's page by id, with their requester and organization: one
# statement compiled once per database (``portal.sql.KeptStatement``; Django built and
# compiled it anew for every page, ~1.5k Python calls), the ids one parameter.
_ROWS = KeptStatement(
    lambda ids: Ticket.objects.filter(
        pk__in=ValueList(ids, output_field=Ticket._meta.pk)
    ).select_related("requester", "organization"),
    ("ids",),
    lists=("ids",),
)


def _rows_by_id(ids) -> list:
    """The tickets ``ids`` in that order (those that exist), as ``in_bulk`` gives them."""
    if not ids:
        return []
    rows = {row.pk: row for row in _ROWS.instances(ids=ids)}
    return [rows[pk] for pk in ids if pk in rows]


MAX_PAGE_NUMBER = 1_000_000


def paginate(user, tickets, number, per_page: int, *, order="-updated"):
    """One page of ``tickets`` (a ``filter_tickets`` queryset for ``user``) as a
    ``Page`` whose ``object_list`` is a list of tickets with what a row shows loaded.

    Customers: the visible tickets are the guardian grants of the user and their
    organization groups, which PostgreSQL reads in full whatever the page (it hashes
    the ids and probes the primary key, then sorts); so the page's ids and the total
    come from one statement (``COUNT(*) OVER ()``) instead of a count and a page each
    reading every grant, and the rows are loaded by id in a second one. The count is
    shown as the desk's ("1000+ tickets" past ``COUNT_CAP``, no page beyond it); a
    customer of a sharing organization gets the same page from a walk that stops
    after it (``ticket_list_page``, ``walk``). Staff, whose visible tickets may be all
    of them and whose page can stop early on an index:
    ``tickets.pagination.CappedPaginator`` ("1000+ tickets") and ``page_rows``."""
    if roles.is_staff_member(user):
        paginator = CappedPaginator(tickets, per_page)
        page = paginator.get_page(number)
        page.object_list = page_rows(page.object_list, order=order)
        return page
    number = _page_number(number)
    counted = _counted(tickets)
    return _customer_page(
        lambda: tickets,
        number,
        per_page,
        list(counted[_page_slice(number, per_page)]),
    )


def _page_number(number) -> int:
    try:
        # A page past the end shows the last one; a number too big for the database's
        # OFFSET (garbage in the URL) is just past the end.
        return min(max(int(number), 1), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        return 1


def _page_slice(number: int, per_page: int) -> slice:
    return slice((number - 1) * per_page, number * per_page)


def _counted(tickets):
    return tickets.annotate(_total=Window(Count("*"))).values_list("pk", "_total")


def _customer_page(tickets, number: int, per_page: int, rows: list):
    """The ``Page`` of a customer's list from ``rows``, the (id, total) of page
    ``number`` (``_counted``); ``tickets`` a callable giving the list's queryset when
    it must be read again (past the last page, or past the count's cap). Counted as
    the desk counts (``CappedPaginator``: "1000+ tickets", no page beyond the cap)."""
    paginator = CappedPaginator([], per_page)
    if rows:
        paginator.count = min(rows[0][1], COUNT_CAP + 1)
    elif number == 1:
        paginator.count = 0
    else:
        paginator.object_list = tickets()
    if number > paginator.num_pages:  # counts (capped): show the last page
        number = paginator.num_pages
        paginator.object_list = tickets()
        rows = list(_counted(paginator.object_list)[_page_slice(number, per_page)])
    return _page_of(paginator, number, [pk for pk, _total in rows])


def _page_of(paginator, number: int, ids: list):
    page = paginator.page(number)
    page.object_list = _rows_by_id(ids)
    return page


def _walked_page(user, shared, filters: dict, number: int, per_page: int):
    """A customer's page by ``walk.page_ids``: one statement, two past the last page.
    A page past the cap's is never asked for (the walk would read that far)."""
    number = min(number, -(-(COUNT_CAP + 1) // per_page))
    offset = (number - 1) * per_page
    count, ids = walk.page_ids(user.pk, shared, filters, offset, per_page)
    paginator = CappedPaginator([], per_page)
    paginator.count = count
    if number > paginator.num_pages:
        number = paginator.num_pages
        offset = (number - 1) * per_page
        count, ids = walk.page_ids(user.pk, shared, filters, offset, per_page)
    return _page_of(paginator, number, ids)


def _shared(user, filters: dict):
    """The user's sharing organizations when their page is a walk's (``walk.applies``),
    else None: a customer who works no queue, whose organizations are kept (no
    statement to read them)."""
    if (
        filters.get("q")
        or not kept_organizations.enabled()
        or permissions.KeptVisible.shape(user) != "customer"
        or permissions.works_a_queue(user) is not False
    ):
        return None
    shared = walk.shared_organizations(services.organizations_for_filing(user))
    return shared if walk.applies(filters, shared) else None


# A customer's first pages of the list without a search: the ids and the exact total
# (``paginate``'s first statement) over ``visible_tickets``, compiled once per shape
# of the policy's rule (``permissions.KeptVisible``), per filter and per page (the
# page's LIMIT and OFFSET are part of the SQL Django writes), not per request
# (~2.2k Python calls). Later pages, a search and staff build the queryset.
KEPT_PAGES = 5
_KEPT_PAGES: dict[tuple, permissions.KeptVisible] = {}
_SCOPE_VARIABLES = {"mine": ("requester",), "organization": ("member",)}


def _kept_ids(status: str, scope: str, order: str, number: int, per_page: int):
    key = (status, scope, order, number, per_page)
    kept = _KEPT_PAGES.get(key)
    if kept is None:
        variables = _SCOPE_VARIABLES.get(scope, ())

        def build(visible, requester=None, member=None):
            user_pk = requester if scope == "mine" else member
            qs = _ordered(
                _narrowed(visible, user_pk, status=status, scope=scope), order
            )
            return qs.annotate(_total=Window(Count("*"))).only("pk")[
                _page_slice(number, per_page)
            ]

        kept = _KEPT_PAGES[key] = permissions.KeptVisible(build, variables)
    return kept


def forget_kept_pages() -> None:
    """Compile the list's statements again at their next use (tests that change the
    database vendor)."""
    for kept in _KEPT_PAGES.values():
        kept.forget()
    _KEPT_PAGES.clear()
    walk.forget()


def ticket_list_page(user, filters: dict, number, per_page: int):
    """``paginate(user, filter_tickets(user, **filters), number, per_page, …)``: the
    same page: for a customer of an organization that shares its tickets, without a
    search, a walk of the organization's tickets that stops after the page
    (``walk.page_ids``, every page up to the cap); else the first statement kept
    (``_kept_ids``) for a customer's first ``KEPT_PAGES`` pages without a search."""
    order = filters.get("order", "-updated")
    number = _page_number(number)
    shared = _shared(user, filters)
    if shared:
        return _walked_page(user, shared, filters, number, per_page)
    if (
        filters.get("q")
        or number > KEPT_PAGES
        or permissions.KeptVisible.shape(user) != "customer"
    ):
        return paginate(
            user, filter_tickets(user, **filters), number, per_page, order=order
        )
    status, scope = filters.get("status", "open"), filters.get("scope", "all")
    kept = _kept_ids(status, scope, order, number, per_page)
    values = {name: user.pk for name in _SCOPE_VARIABLES.get(scope, ())}
    rows = [(ticket.pk, ticket._total) for ticket in kept.instances(user, **values)]
    return _customer_page(
        lambda: filter_tickets(user, **filters), number, per_page, rows
    )


def recent_articles(user, limit=5):
    return list(
        visible_articles(user)
        .filter(locale_id=Locale.get_active().pk)
        .order_by("-first_published_at")[:limit]
    )
