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
  walked row checked against the user's grants (an index probe: the organization's
  group row first, then the user's rows, then any other group of theirs), stopped
  after ``COUNT_CAP + 1`` or the page, whichever is further;
* B: the user's granted tickets outside those organizations (their own elsewhere,
  other groups' rows, and any row of a shared organization's group on a ticket of
  another organization).

The invariant the walk relies on for its speed (not for its rows): an organization
group's rows are on its organization's tickets only (``grants.group_codenames`` and
``regrant_organization`` write them from ``ticket.organization``, which no service
changes after filing, and ``Organization.group`` is set once). Rows that break it
(written by hand) are still found, by B's third branch: it reads the group's rows and
the organization's ticket ids (index only), linear in the organization's size, not
in the page's. The count is ``min(|A|, cap + 1) + |B|``, the list's capped count
(``tickets.pagination.CappedPaginator``)."""

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

from ..models import DONE_STATUSES, OPEN_STATUSES, Ticket
from ..models import TicketGroupObjectPermission as GroupRow
from ..models import TicketUserObjectPermission as UserRow
from ..pagination import COUNT_CAP
from ..permissions import _permission_id

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


# Each walked row's grant probed by index, never all the grants hashed first (which
# PostgreSQL would choose for an EXISTS it may turn into a hashed IN: an OFFSET keeps
# it from that; one row is enough).
_PROBE = "LIMIT 1 OFFSET 0"

# The walk from this many tickets of the user's sharing organizations; below, their
# grants read as the plain statement reads them (one statement either way, the other
# part not run: a condition on no row)
WALK_FROM = 100


@lru_cache(maxsize=64)
def _sql(status: str, order: str, organizations: int) -> str:
    """The statement for ``organizations`` shared organizations (each walked on its
    own, so each walk follows its index), as SQL with ``%s`` parameters in the order
    ``page_ids`` gives them."""
    column, direction = ORDERS[order]
    statuses = STATUSES[status]
    on_status = (
        f" AND t.status IN ({', '.join(['%s'] * len(statuses))})" if statuses else ""
    )
    ticket, user_rows, group_rows = (
        Ticket._meta.db_table,
        UserRow._meta.db_table,
        GroupRow._meta.db_table,
    )
    membership = get_user_model().groups.through._meta.db_table
    # the permission's id read once (a CTE), not once per subquery
    view = "SELECT v.id FROM v"
    # the user's groups: a membership row (index only) per probe
    groups = f"SELECT m.group_id FROM {membership} m WHERE m.user_id = %s"  # noqa: S608
    granted = (
        # the organization's group: the user's membership once (no row referenced),
        # its row on the ticket by index
        f"((EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = %s "  # noqa: S608
        f"AND m.group_id = %s) AND EXISTS (SELECT 1 FROM {group_rows} g "
        f"WHERE g.group_id = %s AND g.permission_id = ({view}) "
        f"AND g.content_object_id = t.id {_PROBE})) "
        f"OR EXISTS (SELECT 1 FROM {user_rows} u WHERE u.user_id = %s "
        f"AND u.permission_id = ({view}) AND u.content_object_id = t.id {_PROBE}) "
        f"OR EXISTS (SELECT 1 FROM {group_rows} g WHERE g.group_id IN ({groups}) "
        f"AND g.permission_id = ({view}) AND g.content_object_id = t.id {_PROBE}))"
    )
    walks = " UNION ALL ".join(
        f"SELECT * FROM (SELECT t.id, t.{column} AS k FROM {ticket} t "  # noqa: S608
        f"WHERE t.organization_id = %s{on_status} AND (SELECT s.big FROM s) "
        f"AND {granted} "
        f"ORDER BY t.{column} {direction}, t.id {direction} LIMIT %s) w{n}"
        for n in range(organizations)
    )
    places = ", ".join(["%s"] * organizations)
    outside = (
        # their own rows and their other groups' rows …
        f"SELECT u.content_object_id AS id FROM {user_rows} u WHERE u.user_id = %s "  # noqa: S608
        f"AND u.permission_id = ({view}) "
        f"UNION SELECT g.content_object_id FROM {group_rows} g "
        f"WHERE g.group_id IN ({groups}) AND g.group_id NOT IN ({places}) "
        f"AND g.permission_id = ({view}) "
        # … and a shared organization's group's rows on another organization's tickets
        f"UNION SELECT g.content_object_id FROM {group_rows} g "
        f"WHERE g.group_id IN ({places}) AND g.group_id IN ({groups}) "
        f"AND g.permission_id = ({view}) AND g.content_object_id NOT IN "
        f"(SELECT x.id FROM {ticket} x WHERE x.organization_id IN ({places}))"
    )
    # each granted id's ticket read by primary key (a scalar subquery: never a scan
    # of every ticket outside the organizations), NULL when the filters leave it out
    rest = (
        f"SELECT id, k FROM (SELECT o.id, (SELECT t.{column} FROM {ticket} t "  # noqa: S608
        f"WHERE t.id = o.id AND COALESCE(t.organization_id, 0) NOT IN ({places})"
        f"{on_status}) AS k FROM ({outside}) o WHERE (SELECT s.big FROM s)) r "
        "WHERE k IS NOT NULL"
    )
    # a small organization: every grant by primary key, as the plain statement reads
    # them (the walk's fixed cost, its probes and B's, would be more)
    plain = (
        f"SELECT id, k FROM (SELECT o.id, (SELECT t.{column} FROM {ticket} t "  # noqa: S608
        f"WHERE t.id = o.id{on_status}) AS k FROM (SELECT u.content_object_id AS id "
        f"FROM {user_rows} u WHERE u.user_id = %s AND u.permission_id = ({view}) "
        f"UNION SELECT g.content_object_id FROM {group_rows} g "
        f"WHERE g.group_id IN ({groups}) AND g.permission_id = ({view})) o "
        "WHERE NOT (SELECT s.big FROM s)) r WHERE k IS NOT NULL"
    )
    # whether the organizations hold ``WALK_FROM`` tickets (index only, stops there)
    big = (
        "SELECT COUNT(*) >= %s AS big FROM (SELECT 1 FROM "  # noqa: S608
        f"{ticket} x WHERE x.organization_id IN ({places}) LIMIT %s) c"
    )
    return (
        f"WITH v AS ({_permission_id('view_ticket').sql}), "  # noqa: S608
        f"s AS ({big}), a AS ({walks}), b AS ({rest}), p AS ({plain}) "
        "SELECT c.n, q.id FROM (SELECT (SELECT COUNT(*) FROM a) + "
        "(SELECT COUNT(*) FROM b) + (SELECT COUNT(*) FROM p) AS n) c "
        "LEFT JOIN (SELECT id, k FROM a UNION ALL SELECT id, k FROM b "
        "UNION ALL SELECT id, k FROM p "
        f"ORDER BY k {direction}, id {direction} LIMIT %s OFFSET %s) q ON 1 = 1 "
        f"ORDER BY q.k {direction}, q.id {direction}"
    )


def page_ids(user_pk: int, shared, filters: dict, offset: int, limit: int):
    """``(count, ids)``: the user's visible tickets under ``filters`` counted up to
    ``COUNT_CAP + 1`` from the walk (exactly outside it), and the ids of rows
    ``offset`` to ``offset + limit`` in the list's order. ``shared`` as
    ``shared_organizations`` gives it (not empty)."""
    status = filters.get("status", "open")
    order = filters.get("order", "-updated")
    statuses = list(STATUSES[status])
    walked = max(COUNT_CAP + 1, offset + limit)
    places = [organization for organization, _group in shared]
    params = [*_permission_id("view_ticket").params, WALK_FROM, *places, WALK_FROM]
    for organization, group in shared:
        params += [organization, *statuses, user_pk, group, group]
        params += [user_pk, user_pk, walked]
    groups = [group for _organization, group in shared]
    params += [*places, *statuses, user_pk, user_pk, *groups]
    params += [*groups, user_pk, *places, *statuses, user_pk, user_pk, limit, offset]
    sql = _sql(status, order, len(shared))
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    count = min(rows[0][0], COUNT_CAP + 1) if rows else 0
    return count, [pk for _count, pk in rows if pk is not None]
