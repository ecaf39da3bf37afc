"""Object permission grants, derived from a ticket's state.

Over 400 lines on purpose: the grants' rules and the new ticket's one statement that
writes them (ticket, grants, first event) are kept with one owner.

Only the services call these. Instead of adding and removing single grants at each
change (easy to get wrong when the assignee is also the requester, or a queue moves),
``sync_ticket_permissions`` computes what the ticket's requester(s), assignee and
organization group should hold and fixes the difference. The queue's agent group holds
``AGENT_PERMS`` by a rule, not by rows (``permissions.queue_group_grants``): a queue
move moves its rights with no write here.
"""

import json
import threading
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from accounts.models import TicketSharing
from portal import prepared

from . import permissions
from .models import (
    Queue,
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

REQUESTER_PERMS = ("view_ticket", "comment_ticket", "rate_ticket")
# the assignee's rows, and the queue group's rule (``permissions.queue_group_grants``)
AGENT_PERMS = permissions.AGENT_PERMS
SHARING_PERMS = {
    TicketSharing.NONE: (),
    TicketSharing.READ: ("view_ticket",),
    TicketSharing.READ_WRITE: ("view_ticket", "comment_ticket"),
}


def permission_ids() -> dict[str, int]:
    return dict(
        Permission.objects.filter(
            content_type__app_label="tickets", content_type__model="ticket"
        ).values_list("codename", "pk")
    )


def requester_ids(ticket: Ticket, *, new: bool = False) -> set[int]:
    """Who holds the requester grants: the requester, and the requesters of tickets
    merged into this one, who keep following their conversation (a ticket being
    created has none)."""
    requesters = {ticket.requester_id}
    if not new:
        requesters.update(
            Ticket.objects.filter(merged_into=ticket).values_list(
                "requester_id", flat=True
            )
        )
    return requesters


def sharing_group_id(ticket: Ticket, codename: str) -> int | None:
    """The organization group that holds ``codename`` on the ticket through sharing,
    or None."""
    organization = ticket.organization
    if organization is None or not organization.group_id:
        return None
    if codename not in SHARING_PERMS.get(organization.ticket_sharing, ()):
        return None
    return organization.group_id


def user_codenames(ticket: Ticket, *, new: bool = False) -> set[tuple[int, str]]:
    """``(user id, codename)`` of every grant the ticket's users should hold."""
    wanted = {
        (uid, c) for uid in requester_ids(ticket, new=new) for c in REQUESTER_PERMS
    }
    if ticket.assignee_id:
        wanted |= {(ticket.assignee_id, c) for c in AGENT_PERMS}
    return wanted


def group_codenames(ticket: Ticket) -> set[tuple[int, str]]:
    """``(group id, codename)`` of every grant row the ticket's groups should hold:
    the organization group's sharing. None for the queue's agent group, whose rights
    are the rule ``permissions.queue_group_grants`` (its rows of old are deleted by
    the sync, as any row not wanted)."""
    wanted = set()
    organization = ticket.organization
    if organization is not None and organization.group_id:
        sharing = SHARING_PERMS.get(organization.ticket_sharing, ())
        wanted |= {(organization.group_id, c) for c in sharing}
    return wanted


def desired_user_grants(
    ticket: Ticket, ids: dict[str, int], *, new: bool = False
) -> set[tuple[int, int]]:
    return {(uid, ids[c]) for uid, c in user_codenames(ticket, new=new)}


def desired_group_grants(ticket: Ticket, ids: dict[str, int]) -> set[tuple[int, int]]:
    return {(gid, ids[c]) for gid, c in group_codenames(ticket)}


def _sync(model, owner_field, ticket, wanted, *, new=False):
    rows = (
        ()
        if new
        else model.objects.filter(content_object=ticket).values_list(
            "pk", f"{owner_field}_id", "permission_id"
        )
    )
    have = {(owner, perm): pk for pk, owner, perm in rows}
    extra = [pk for key, pk in have.items() if key not in wanted]
    if extra:
        model.objects.filter(pk__in=extra).delete()
    missing = wanted - have.keys()
    if missing:
        model.objects.bulk_create(
            [
                model(
                    content_object=ticket,
                    permission_id=perm,
                    **{f"{owner_field}_id": owner},
                )
                for owner, perm in sorted(missing)
            ]
        )


def sync_ticket_permissions(
    ticket: Ticket, *, new: bool = False, together=None, insert=None, more=None
) -> "WrittenAudience | None":
    """Make the ticket's grants what its state asks for. ``new``: the ticket was
    inserted in this transaction (or is, by ``insert``), so it has no grants and
    nothing merged into it yet: its grants are inserted without looking for old ones
    (``grant_new_ticket``, whose ``WrittenAudience`` is returned; ``together`` and
    ``insert``, ``more`` as there)."""
    if new:
        return grant_new_ticket(ticket, together=together, insert=insert, more=more)
    if together is not None or insert is not None or more is not None:
        raise ValueError("together, insert, more: only with the grants of a new ticket")
    _count_write()
    ids = permission_ids()
    _sync(
        TicketUserObjectPermission,
        "user",
        ticket,
        desired_user_grants(ticket, ids, new=new),
        new=new,
    )
    _sync(
        TicketGroupObjectPermission,
        "group",
        ticket,
        desired_group_grants(ticket, ids),
        new=new,
    )
    permissions.invalidate(ticket)


def queue_changed(ticket: Ticket) -> None:
    """The ticket moved to another queue: no grant row follows the queue (the queue's
    agent group's rights are the rule ``permissions.queue_group_grants`` on the ticket
    row; requester, assignee and organization, which the rows follow, did not change),
    so nothing is written; but its audience changed, so a ``WrittenAudience`` known
    before is stale (as after a grant written) and the ticket's cached permissions are
    forgotten."""
    _count_write()
    permissions.invalidate(ticket)


#: The ``WITH`` part that writes the new ticket in ``grant_new_ticket``'s statement.
NEW_TICKET_PART = "new_ticket"


def _insert_select(
    model, owner_field: str, ticket_id: int | None, pairs
) -> tuple[str, list]:
    """``INSERT … SELECT`` of one grant per ``(owner id, codename)``, the permission ids
    joined from ``auth_permission`` in the same statement (no lookup first). It
    returns the rows it wrote as ``permissions.audience_from_rows`` reads them:
    ``("u" or "g", owner id, codename, whether the group is some queue's agent
    group)``. ``ticket_id`` None: the ticket's id is the one the ``NEW_TICKET_PART``
    of the same statement returned (no row there: no grant)."""
    meta = model._meta
    owner_column = meta.get_field(owner_field).column
    values = ", ".join(["(%s, %s)"] * len(pairs))
    permission_table = Permission._meta.db_table
    if owner_field == "group":
        queue_table = Queue._meta.db_table
        agent_column = Queue._meta.get_field("agent_group").column
        is_agent_group = (
            f"EXISTS (SELECT 1 FROM {queue_table} "  # noqa: S608
            f"WHERE {queue_table}.{agent_column} = {owner_column})"
        )
    else:
        is_agent_group = "FALSE"
    order = ""
    if ticket_id is None:
        # the pairs as one JSON parameter: with the ticket's own columns the
        # statement stays within psycopg's 50 parameters, over which it parses the
        # statement anew at every execution (bench FINDINGS R-3); rows in the order
        # the VALUES form's plan wrote them (by permission), so the same ids
        # (bench FINDINGS R-7)
        ticket_sql, ticket_params = "t.id", []
        source = (
            "ROWS FROM (json_to_recordset(%s::json) AS (o bigint, c text)) "
            f"WITH ORDINALITY AS v(column1, column2, n) CROSS JOIN {NEW_TICKET_PART} AS t"
        )
        pair_params = [json.dumps([{"o": owner, "c": code} for owner, code in pairs])]
        order = " ORDER BY p.id, v.n"
        # the content type's id written in (an integer, the same for the process's
        # life): with the deflection row's parts (``deflection.Filing``) the statement
        # keeps within the 50 parameters with an organization's group grants too
        # (bench FINDINGS F-5)
        type_sql, type_params = str(int(_ticket_type_id())), []
    else:
        ticket_sql, ticket_params = "%s", [ticket_id]
        source = f"(VALUES {values}) AS v"
        pair_params = [x for pair in pairs for x in pair]
        type_sql, type_params = "%s", [_ticket_type_id()]
    sql = (
        f"INSERT INTO {meta.db_table} (permission_id, {owner_column}, "  # noqa: S608
        f"{meta.get_field('content_object').column}) "
        f"SELECT p.id, v.column1, {ticket_sql} FROM {source} "
        f"JOIN {permission_table} AS p "
        f"ON p.codename = v.column2 AND p.content_type_id = {type_sql}{order} "
        f"RETURNING '{owner_field[0]}', {owner_column}, "
        f"(SELECT codename FROM {permission_table} "
        f"WHERE {permission_table}.id = permission_id), {is_agent_group}"
    )
    params = [*ticket_params, *pair_params, *type_params]
    return sql, params


def _ticket_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Ticket).pk  # Django's own cache


def grant_new_ticket(
    ticket: Ticket, *, together=None, insert=None, more=None
) -> "WrittenAudience":
    """Insert a ticket's first grants (``desired_user_grants`` and
    ``desired_group_grants`` of a ticket nothing is merged into) with the permission
    ids joined in: one statement on PostgreSQL (writable CTEs insert both tables' grants),
    one per table elsewhere. Returns the ticket's live audience as those statements
    wrote it (``WrittenAudience``): a new ticket has no other grants, so it is what
    ``permissions.ticket_audience`` would read after the commit.

    ``together``: on PostgreSQL, a ``portal.sql.KeptInsert.part`` (called here:
    ``() -> (sql, params, finish)``) of one more row of the same change (the ticket's
    first event), written by the same statement and finished with the id it returned;
    elsewhere it is not called (the caller writes the row itself).

    ``insert``: on PostgreSQL only, the ticket not written yet: a callable giving
    its INSERT as ``references.numbered_part`` does (``(sql, params, finish)``,
    returning ``(id, reference)`` or no row when the reference is taken). The
    statement writes the ticket first (its ``NEW_TICKET_PART``), its grants and
    ``together``'s row with the id that part returned (``together``'s SQL reads the
    part too), and finishes the ticket, then ``together``'s row: one round trip for
    the ticket, its grants and its first event. A reference taken writes nothing:
    the counter is moved past it (``references.sync_counter``) and the same
    statement runs again.

    ``more``: with ``insert`` only, more ``WITH`` parts of the same statement (another
    change of the same request written with the ticket: ``deflection.Filing.part``):
    ``() -> (parts, params, select, select_params, finish)``, ``parts`` read
    ``NEW_TICKET_PART`` and write nothing without its row, ``select`` gives one row
    ``('d', bigint, text, boolean)`` that ``finish`` receives without its first
    column, after the ticket and ``together``'s row are finished."""
    if insert is not None and connection.vendor != "postgresql":
        raise ValueError("insert: PostgreSQL's")
    if more is not None and insert is None:
        raise ValueError("more: with insert only")
    users = sorted(user_codenames(ticket, new=True))
    groups = sorted(group_codenames(ticket))
    ticket_id = None if insert is not None else ticket.pk
    user_sql, user_params = _insert_select(
        TicketUserObjectPermission, "user", ticket_id, users
    )
    # an organization that shares nothing: no group row, no part for them
    group_sql, group_params = (
        _insert_select(TicketGroupObjectPermission, "group", ticket_id, groups)
        if groups
        else (None, [])
    )
    _count_write()
    # INSERTs: prepared on the server once per connection (one plan fits any values)
    with prepared.web_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        if insert is not None:
            rows = _insert_all(
                cursor,
                insert,
                together,
                more,
                user_sql,
                group_sql,
                [*user_params, *group_params],
            )
        elif connection.vendor == "postgresql" and together is not None:
            also_sql, also_params, finish = together()
            parts, selects = _grant_parts(user_sql, group_sql)
            with transaction.mark_for_rollback_on_error():
                cursor.execute(
                    f"WITH {', '.join(parts)}, also AS ({also_sql}) "  # noqa: S608
                    f"{' UNION ALL '.join(selects)} "
                    "UNION ALL SELECT '', also.*, NULL, FALSE FROM also",
                    user_params + group_params + also_params,
                )
                rows = cursor.fetchall()
            ((_, *returned, _, _),) = [row for row in rows if row[0] == ""]
            finish(returned)
            rows = [row for row in rows if row[0] != ""]
        elif connection.vendor == "postgresql":
            parts, selects = _grant_parts(user_sql, group_sql)
            cursor.execute(
                f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}",
                user_params + group_params,
            )
            rows = cursor.fetchall()
        else:
            cursor.execute(user_sql, user_params)
            rows = cursor.fetchall()
            if group_sql is not None:
                cursor.execute(group_sql, group_params)
                rows += cursor.fetchall()
    permissions.invalidate(ticket)
    # the queue the ticket row was inserted with, whose agent group holds AGENT_PERMS
    # by the rule (``permissions.queue_group_grants``)
    queue_row = ("q", ticket.queue.agent_group_id, "", False)
    return WrittenAudience(
        permissions.audience_from_rows([queue_row, *rows]), _writes.count
    )


def _grant_parts(user_sql: str, group_sql: str | None) -> tuple[list, list]:
    """The ``WITH`` parts writing the grants and the ``SELECT``s of their rows (no
    group part when no group row is written)."""
    parts, selects = [f"users AS ({user_sql})"], ["SELECT * FROM users"]
    if group_sql is not None:
        parts.append(f"groups AS ({group_sql})")
        selects.append("SELECT * FROM groups")
    return parts, selects


def _insert_all(
    cursor, insert, together, more, user_sql, group_sql, grant_params
) -> list:
    """``grant_new_ticket``'s statement with the ticket's own INSERT: runs it until
    the ticket is written (a reference taken: the counter moved, again), finishes the
    ticket, ``together``'s row and ``more``'s, and returns the grants' rows."""
    from . import references

    ticket_sql, ticket_params, finish_ticket = insert()
    grant_parts, grant_selects = _grant_parts(user_sql, group_sql)
    parts = [f"{NEW_TICKET_PART} AS ({ticket_sql})", *grant_parts]
    params = [*ticket_params, *grant_params]
    selects = [
        f"SELECT 't', {NEW_TICKET_PART}.*, FALSE FROM {NEW_TICKET_PART}",  # noqa: S608
        *grant_selects,
    ]
    finish_also = None
    if together is not None:
        also_sql, also_params, finish_also = together()
        parts.append(f"also AS ({also_sql})")
        params += also_params
        selects.append("SELECT '', also.*, NULL, FALSE FROM also")
    finish_more = None
    if more is not None:
        more_parts, more_params, more_select, select_params, finish_more = more()
        parts += more_parts
        params += more_params
        selects.append(more_select)
        params += select_params  # the SELECTs' placeholders come after every part's
    sql = f"WITH {', '.join(parts)} " + " UNION ALL ".join(selects)
    with transaction.mark_for_rollback_on_error():
        while True:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            written = [row for row in rows if row[0] == "t"]
            if written:
                break
            references.sync_counter()  # the number was taken: move past every one in use
    ((_, *returned, _),) = written
    finish_ticket(returned)
    if finish_also is not None:
        ((_, *returned, _, _),) = [row for row in rows if row[0] == ""]
        finish_also(returned)
    if finish_more is not None:
        ((_, *returned),) = [row for row in rows if row[0] == "d"]
        finish_more(returned)
    return [row for row in rows if row[0] not in ("t", "", "d")]


# --- the audience of a new ticket, known without reading it back -------------------------
# Grants change only here. Each write counts on the thread (a transaction is one
# thread's), so the audience ``grant_new_ticket`` returns is known to be the ticket's
# committed audience only while no other grant was written after it: any later grant
# write of the thread, in the same transaction or not, sends the publisher back to
# ``permissions.ticket_audience``.

_writes = threading.local()


def _count_write() -> None:
    _writes.count = getattr(_writes, "count", 0) + 1


@dataclass(frozen=True)
class WrittenAudience:
    """A ticket's audience as its grants statement wrote it, and the thread's grant
    write count just after."""

    audience: "permissions.Audience | None"
    after_write: int

    def current(self) -> "permissions.Audience | None":
        """The audience, or None when a grant was written since (read it again)."""
        if getattr(_writes, "count", 0) != self.after_write:
            return None
        return self.audience


def regrant_organization(organization) -> int:
    """Replace the organization group's grants on all its tickets (sharing changed).
    Returns the number of grants now in place."""
    _count_write()
    ids = permission_ids()
    group_id = organization.group_id
    TicketGroupObjectPermission.objects.filter(group_id=group_id).delete()
    codenames = SHARING_PERMS.get(organization.ticket_sharing, ())
    if not codenames:
        return 0
    ticket_ids = Ticket.objects.filter(organization=organization).values_list(
        "pk", flat=True
    )
    rows = [
        TicketGroupObjectPermission(
            content_object_id=tid, group_id=group_id, permission_id=ids[c]
        )
        for tid in ticket_ids.iterator()
        for c in codenames
    ]
    TicketGroupObjectPermission.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
