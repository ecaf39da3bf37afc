"""A customer's list page that stops after the page: a walk of their sharing
organizations' tickets in the list's order, and their other grants (bench FINDINGS
P-10).

The tickets a customer who works no queue sees are their guardian grants
(``permissions._rows_q``): their own rows and their groups' rows. For a customer of
a big organization that shares its tickets, the organization group's rows are most
of them (20k at 1M tickets), and the plain statement reads, sorts and counts them
all on every page. Here the same set is two parts that exclude each other, whatever
the rows say:

* A, for each organization ``o`` of ``shared`` (the user's organizations whose
  sharing gives ``view_ticket``): the tickets with ``organization_id = o``, walked on
  ``ticket_org_updated_idx`` / ``ticket_org_created_idx`` in the list's order, each
  walked row checked against the user's grants by the policy's probe
  (``permissions.customer_grant_probe``), stopped after ``COUNT_CAP + 1`` or the
  page, whichever is further;
* B: the user's granted tickets outside those organizations, the policy's
  ``customer_granted_ids_outside`` read by primary key.

Which rows grant is the policy's alone (``tickets.permissions``, from the same row
querysets as ``_rows_q``); this module states the walk: the parts, their order, the
count, the cap and the page.

The invariant the walk relies on for its speed (not for its rows): an organization
group's rows are on its organization's tickets only (``grants.group_codenames`` and
``regrant_organization`` write them from ``ticket.organization``, which no service
changes after filing, and ``Organization.group`` is set once). Rows that break it
(written by hand) are still found, by B's third branch: it reads the group's rows and
the organization's ticket ids (index only), linear in the organization's size, not
in the page's. The count is ``min(|A|, cap + 1) + |B|``, the list's capped count
(``tickets.pagination.CappedPaginator``)."""

from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL

from portal.sql import KeptStatement

from .. import permissions
from ..models import DONE_STATUSES, OPEN_STATUSES, Ticket
from ..pagination import COUNT_CAP

# the list's orders a walk can follow (``queries.ORDERINGS``): the column and its direction
ORDERS = {
    "-updated": ("updated_at", "DESC"),
    "-created": ("created_at", "DESC"),
    "created": ("created_at", "ASC"),
}
STATUSES = {"open": OPEN_STATUSES, "closed": DONE_STATUSES, "all": ()}


def applies(filters: dict, shared) -> bool:
    """Whether a customer's page with ``filters`` is read by ``page_ids``: no search,
    every scope of theirs, an order of ``ORDERS``, and some organization sharing."""
    return bool(
        shared
        and not filters.get("q")
        and filters.get("scope", "all") == "all"
        and filters.get("order", "-updated") in ORDERS
        and filters.get("status", "open") in STATUSES
    )


def shared_organizations(organizations) -> list[tuple[int, int]]:
    """``(organization id, group id)`` of ``organizations`` (the user's, as
    ``services.organizations_for_filing`` gives them) whose sharing gives
    ``view_ticket``: the ones whose tickets are walked."""
    from ..grants import SHARING_PERMS

    return sorted(
        (o.pk, o.group_id)
        for o in organizations
        if o.group_id and "view_ticket" in SHARING_PERMS.get(o.ticket_sharing, ())
    )


# The walk from this many tickets of the user's sharing organizations; below, their
# grants read as the plain statement reads them (one statement either way, the other
# part not run: a condition on no row)
WALK_FROM = 100


# What the statement reads once for all its parts: the permission's id (``v``) and
# whether the walk runs (``s``).
_VIEW = RawSQL("SELECT v.id FROM v", ())
_BIG = RawSQL("SELECT s.big FROM s", (), output_field=BooleanField())

# Parts compiled once (``KeptStatement``) for up to this many sharing organizations: a
# kept statement has at most 26 variables, the user's and two an organization.
_KEPT_UP_TO = 12


def _walk(status: str, order: str, walked: int, user, organization, group):
    """A's part for one organization: its tickets under ``status`` in the list's
    order, each kept if the user holds a grant on it (the policy's probe), stopped
    after ``walked``."""
    column, direction = ORDERS[order]
    sign = "-" if direction == "DESC" else ""
    tickets = Ticket.objects.filter(organization_id=organization)
    if STATUSES[status]:
        tickets = tickets.filter(status__in=STATUSES[status])
    return (
        tickets.filter(_BIG)
        .filter(permissions.customer_grant_probe(user, group, _VIEW))
        .annotate(k=F(column))
        .order_by(f"{sign}{column}", f"{sign}id")
        .values_list("id", "k")[:walked]
    )


@lru_cache(maxsize=64)
def _kept_walk(status: str, order: str, walked: int) -> KeptStatement:
    return KeptStatement(
        lambda user, organization, group: _walk(
            status, order, walked, user, organization, group
        ),
        ("user", "organization", "group"),
    )


def _shared(organizations: int, values: dict) -> list[tuple[int, int]]:
    return [(values[f"o{n}"], values[f"g{n}"]) for n in range(organizations)]


@lru_cache(maxsize=_KEPT_UP_TO)
def _kept_outside(organizations: int) -> KeptStatement:
    names = [f"{kind}{n}" for n in range(organizations) for kind in "og"]
    return KeptStatement(
        lambda user, **values: permissions.customer_granted_ids_outside(
            user, _shared(organizations, values), _VIEW
        ),
        ("user", *names),
    )


_KEPT_GRANTED = KeptStatement(
    lambda user: permissions.customer_granted_ids(user, _VIEW), ("user",)
)


def _outside(user_pk: int, shared) -> tuple[str, list]:
    """B's granted ids (``customer_granted_ids_outside``) as SQL and parameters."""
    if len(shared) > _KEPT_UP_TO:
        granted = permissions.customer_granted_ids_outside(user_pk, shared, _VIEW)
        sql, params = granted.query.sql_with_params()
        return sql, list(params)
    values = {}
    for n, (organization, group) in enumerate(shared):
        values[f"o{n}"], values[f"g{n}"] = organization, group
    return _kept_outside(len(shared)).statement(user=user_pk, **values)


def forget() -> None:
    """Compile the parts again at their next use (tests that change the vendor)."""
    _KEPT_GRANTED.forget()
    _kept_walk.cache_clear()
    _kept_outside.cache_clear()


@lru_cache(maxsize=1)
def _view() -> tuple[str, tuple]:
    """The CTE ``v``: the policy's permission id (constant SQL)."""
    view = permissions.view_ticket_id()
    return view.sql, tuple(view.params)


def _statement(user_pk: int, shared, status: str, order: str, walked: int):
    """The statement for the user's ``shared`` organizations (each walked on its own,
    so each walk follows its index): SQL, and its parameters but the page's limit and
    offset, last."""
    column, direction = ORDERS[order]
    statuses = list(STATUSES[status])
    on_status = (
        f" AND t.status IN ({', '.join(['%s'] * len(statuses))})" if statuses else ""
    )
    ticket = Ticket._meta.db_table
    organizations = [organization for organization, _group in shared]
    places = ", ".join(["%s"] * len(shared))
    view_sql, view_params = _view()
    walks, walks_params = [], []
    kept = _kept_walk(status, order, walked)
    for n, (organization, group) in enumerate(shared):
        sql, params = kept.statement(
            user=user_pk, organization=organization, group=group
        )
        walks.append(f"SELECT * FROM ({sql}) w{n}")  # noqa: S608
        walks_params += params
    outside, outside_params = _outside(user_pk, shared)
    # each granted id's ticket read by primary key (a scalar subquery: never a scan
    # of every ticket outside the organizations), NULL when the filters leave it out
    rest = (
        "SELECT id, k FROM (SELECT o.content_object_id AS id, "  # noqa: S608
        f"(SELECT t.{column} FROM {ticket} t WHERE t.id = o.content_object_id "
        f"AND COALESCE(t.organization_id, 0) NOT IN ({places}){on_status}) AS k "
        f"FROM ({outside}) o WHERE (SELECT s.big FROM s)) r WHERE k IS NOT NULL"
    )
    # a small organization: every grant by primary key, as the plain statement reads
    # them (the walk's fixed cost, its probes and B's, would be more)
    granted, granted_params = _KEPT_GRANTED.statement(user=user_pk)
    plain = (
        "SELECT id, k FROM (SELECT o.content_object_id AS id, "  # noqa: S608
        f"(SELECT t.{column} FROM {ticket} t WHERE t.id = o.content_object_id"
        f"{on_status}) AS k FROM ({granted}) o WHERE NOT (SELECT s.big FROM s)) r "
        "WHERE k IS NOT NULL"
    )
    # whether the organizations hold ``WALK_FROM`` tickets (index only, stops there)
    big = (
        "SELECT COUNT(*) >= %s AS big FROM (SELECT 1 FROM "  # noqa: S608
        f"{ticket} x WHERE x.organization_id IN ({places}) LIMIT %s) c"
    )
    sql = (
        f"WITH v AS ({view_sql}), s AS ({big}), "  # noqa: S608
        f"a AS ({' UNION ALL '.join(walks)}), b AS ({rest}), p AS ({plain}) "
        "SELECT c.n, q.id FROM (SELECT (SELECT COUNT(*) FROM a) + "
        "(SELECT COUNT(*) FROM b) + (SELECT COUNT(*) FROM p) AS n) c "
        "LEFT JOIN (SELECT id, k FROM a UNION ALL SELECT id, k FROM b "
        "UNION ALL SELECT id, k FROM p "
        f"ORDER BY k {direction}, id {direction} LIMIT %s OFFSET %s) q ON 1 = 1 "
        f"ORDER BY q.k {direction}, q.id {direction}"
    )
    params = [*view_params, WALK_FROM, *organizations, WALK_FROM, *walks_params]
    params += [*organizations, *statuses, *outside_params, *statuses, *granted_params]
    return sql, params


def page_ids(user_pk: int, shared, filters: dict, offset: int, limit: int):
    """``(count, ids)``: the user's visible tickets under ``filters`` counted up to
    ``COUNT_CAP + 1`` from the walk (exactly outside it), and the ids of rows
    ``offset`` to ``offset + limit`` in the list's order. ``shared`` as
    ``shared_organizations`` gives it (not empty)."""
    walked = max(COUNT_CAP + 1, offset + limit)
    sql, params = _statement(
        user_pk,
        shared,
        filters.get("status", "open"),
        filters.get("order", "-updated"),
        walked,
    )
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
    count = min(rows[0][0], COUNT_CAP + 1) if rows else 0
    return count, [pk for _count, pk in rows if pk is not None]
