"""guardian's object permission backend with the queue group's rule.

The members of a ticket's queue's agent group hold ``permissions.AGENT_PERMS`` on it by
a rule, not by guardian rows (``permissions.queue_group_grants``): this backend asks
``tickets.permissions`` for tickets, so that ``user.has_perm("tickets.<codename>",
ticket)`` answers what it answered when the rows were stored. Other objects: guardian.
"""

from guardian.backends import ObjectPermissionBackend as GuardianBackend
from guardian.backends import check_support

from . import permissions
from .models import Ticket


class ObjectPermissionBackend(GuardianBackend):
    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if not isinstance(obj, Ticket) or getattr(user_obj, "is_superuser", False):
            return super().has_perm(user_obj, perm, obj)  # a superuser: any perm
        app_label, _, codename = perm.rpartition(".")
        if app_label and app_label != obj._meta.app_label:
            return super().has_perm(user_obj, perm, obj)  # guardian's WrongAppError
        supported, user_obj = check_support(user_obj, obj)
        return supported and codename in permissions.held_codenames(user_obj, obj)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not isinstance(obj, Ticket):
            return super().get_all_permissions(user_obj, obj)
        supported, user_obj = check_support(user_obj, obj)
        return set(permissions.held_codenames(user_obj, obj)) if supported else set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        found = set(super().get_group_permissions(user_obj, obj))
        if isinstance(obj, Ticket):
            supported, user_obj = check_support(user_obj, obj)
            if supported:
                found |= permissions.queue_group_codenames(user_obj, obj)
        return found
