"""Role names. Roles are Django groups made by a data migration; superusers are
administrators."""

import functools
import json

from django.db.models import Aggregate, OuterRef, Subquery, TextField

CUSTOMERS = "Customers"
AGENTS = "Agents"
SUPERVISORS = "Supervisors"
EDITORS = "Editors"
VIEWERS = "Viewers"

ALL_ROLES = [CUSTOMERS, AGENTS, SUPERVISORS, EDITORS, VIEWERS]
STAFF_ROLES = [AGENTS, SUPERVISORS, EDITORS, VIEWERS]
HELPDESK_ROLES = [AGENTS, SUPERVISORS, VIEWERS]


def group_names(user) -> set[str]:
    """The user's role names, cached on the instance for the request."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_role_names_cache", None)
    if cached is None:
        if "groups" in getattr(user, "_prefetched_objects_cache", {}):
            cached = {group.name for group in user.groups.all()}  # no query
        else:
            cached = set(user.groups.values_list("name", flat=True))
        user._role_names_cache = cached
    return cached


@functools.lru_cache(maxsize=16)
def names_of(user_ref):
    """The role names of the user ``user_ref`` points at (e.g. ``OuterRef("pk")``,
    ``OuterRef("owner_id")``) as one subquery to annotate a queryset with: a JSON
    array in text, or NULL for no role. ``remember`` keeps the value on the user.
    Built once per reference (every token request and filing uses it): a query that
    annotates with it resolves a copy, never the expression itself."""
    from django.contrib.auth.models import Group

    return Subquery(
        Group.objects.filter(user=user_ref)
        .order_by()
        .values("user")
        .annotate(names=NameArray("name"))
        .values("names")
    )


def remember(user, names_json: str | None) -> None:
    """Keep the value of ``names_of`` on ``user`` as ``group_names`` would have read
    it: no statement for their groups later in the request."""
    user._role_names_cache = set(json.loads(names_json or "[]"))


def decoded(names_json: str | None) -> frozenset:
    """The role names ``remember`` would keep for ``names_json``, decoded once, for a
    caller that keeps them (``remember_decoded``)."""
    return frozenset(json.loads(names_json or "[]"))


def remember_decoded(user, names: frozenset) -> None:
    """``remember`` of the JSON that ``decoded`` gave ``names`` for: the user's own
    set of the same names."""
    user._role_names_cache = set(names)


def with_role_names(users):
    """``users`` (a queryset of users) with each one's role names read in the same
    statement (one aggregate of their group names) and remembered as ``group_names``
    would remember them: no second statement for their groups. Returns a list."""
    return remembered(annotate_role_names(users))


def annotate_role_names(users):
    """``users`` annotated with their role names (``remembered`` keeps them): for a
    read built once and run many times (``portal.sql.KeptStatement.instances``)."""
    return users.annotate(_role_names=names_of(OuterRef("pk")))


def remembered(users) -> list:
    """The users of ``annotate_role_names`` as a list, their role names kept as
    ``group_names`` would keep them."""
    result = list(users)
    for user in result:
        remember(user, user.__dict__.pop("_role_names"))
    return result


class NameArray(Aggregate):
    """The aggregated names as a JSON array in text (SQLite ``json_group_array``,
    PostgreSQL ``json_agg``): no separator a name could contain. Role names here,
    the session user's permission names (``accounts.session_user``)."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="CAST(%(function)s(%(expressions)s) AS TEXT)",
            **extra_context,
        )


def has_role(user, *roles: str) -> bool:
    """Whether ``user`` holds any of ``roles`` (``group_names``). The names kept on
    the user are read as they are: a filing asks three times per recipient of its
    notifications (``tickets.permissions.is_support_team``), ~5 Python calls each
    through ``group_names`` and a set of ``roles`` per question."""
    names = getattr(user, "_role_names_cache", None)
    if names is None:
        names = group_names(user)
    return not names.isdisjoint(roles)


def is_staff_member(user) -> bool:
    """Agents, supervisors, editors, viewers and administrators."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or has_role(user, *STAFF_ROLES)
    )
