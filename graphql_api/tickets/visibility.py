"""Row filters for what hangs off a visible ticket (comments, files, events), as SQL,
so that the optimizer can prefetch a whole page of tickets in one query per relation.

They restate ``tickets.permissions``' rule for internal notes (supervisors and viewers
see them all; anyone else needs the ``view_internal_notes`` object permission on the
ticket, directly or through a group) as a queryset filter; a test checks that they
agree with ``visible_comments`` / ``visible_attachments`` for every kind of caller.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from tickets import permissions
from tickets.models import (
    EventKind,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

INTERNAL_EVENT_KINDS = (EventKind.NOTE_ADDED, EventKind.TIME_LOGGED)


def internal_visible_q(user, ticket_field: str = "ticket_id") -> Q | None:
    """Q selecting rows whose ticket lets ``user`` see internal notes; None: all."""
    if permissions.sees_all(user):
        return None
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    membership = get_user_model().groups.through.objects.filter(user_id=user.pk)
    perm = {
        "permission__codename": "view_internal_notes",
        "permission__content_type__app_label": "tickets",
    }
    by_user = TicketUserObjectPermission.objects.filter(user_id=user.pk, **perm).values(
        "content_object_id"
    )
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=membership.values("group_id"), **perm
    ).values("content_object_id")
    return Q(**{f"{ticket_field}__in": by_user}) | Q(
        **{f"{ticket_field}__in": by_group}
    )


def comments_filter(queryset, user):
    internal = internal_visible_q(user)
    if internal is None:
        return queryset
    return queryset.filter(Q(is_internal=False) | internal)


def attachments_filter(queryset, user):
    internal = internal_visible_q(user)
    if internal is None:
        return queryset
    return queryset.filter(
        Q(comment__isnull=True) | Q(comment__is_internal=False) | internal
    )


def events_filter(queryset, user):
    internal = internal_visible_q(user)
    if internal is None:
        return queryset
    public = ~Q(kind__in=INTERNAL_EVENT_KINDS) & ~Q(data__internal=True)
    return queryset.filter(public | internal)
