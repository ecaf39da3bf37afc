"""Role names. Roles are Django groups made by a data migration; superusers are
administrators."""

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


def has_role(user, *roles: str) -> bool:
    return bool(group_names(user) & set(roles))


def is_staff_member(user) -> bool:
    """Agents, supervisors, editors, viewers and administrators."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or has_role(user, *STAFF_ROLES)
    )
