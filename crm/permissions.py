"""The one CRM permission policy: who sees and changes interactions, tasks and an
organization's customer record. Every surface (the desk, GraphQL, jobs) asks these
functions; nothing else decides access.

* Customers (anyone outside the support team) see nothing: every CRM surface is a 404.
* Supervisors and administrators see and change everything.
* Viewers see everything and change nothing (read only).
* Agents see the interactions and tasks about organizations whose tickets they work
  (organizations with a ticket they may see, ``tickets.permissions.visible_tickets``,
  which follows their queues), about those organizations' contacts or about a ticket
  they may see, plus what they logged, created or were assigned. They change (and
  create) what they see.
* Customer records: an organization's by supervisors and its account manager; a
  contact's by anyone who may write and reaches the contact (``reachable_contacts``:
  supervisors every customer, agents their organizations' members).

Something the user may not see looks like something missing: ``why_not_*`` answers
``NOT_FOUND`` and the services raise the ``*NotFound`` errors (404).
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import Membership, Organization
from portal.sql import KeptStatement
from tickets import permissions as ticket_permissions

from .models import Interaction, Task

NOT_FOUND = ticket_permissions.NOT_FOUND
FORBIDDEN = ticket_permissions.FORBIDDEN


def is_crm_user(user) -> bool:
    """The support team (agents, supervisors, viewers, administrators) — the desk's
    users; everyone else has no CRM at all."""
    return ticket_permissions.is_support_team(user)


def sees_all(user) -> bool:
    return ticket_permissions.sees_all(user)


def is_read_only(user) -> bool:
    """Viewers look and never change (unless they are also supervisors), as on the
    desk (``tickets.desk.access.may_act``)."""
    return ticket_permissions.is_viewer(user) and not ticket_permissions.is_supervisor(
        user
    )


def may_write(user) -> bool:
    """Whether ``user`` may log interactions and create or change tasks at all."""
    return is_crm_user(user) and not is_read_only(user)


def is_staff(user) -> bool:
    """Staff by role (``accounts.roles``): who may be a task's assignee or an
    interaction's author, and who is never a contact."""
    return roles.is_staff_member(user)


# --- what an agent works ------------------------------------------------------------


def worked_organization_ids(user) -> list[int]:
    """Ids of the organizations with a ticket ``user`` may see (one query, cached on
    the user for the request)."""
    cached = getattr(user, "_crm_worked_org_ids", None)
    if cached is None:
        visible = ticket_permissions.visible_tickets(user).filter(
            organization_id=OuterRef("pk")
        )
        cached = list(
            Organization.objects.filter(Exists(visible))
            .order_by()
            .values_list("pk", flat=True)
        )
        user._crm_worked_org_ids = cached
    return cached


def works_organization(user, organization) -> bool:
    if organization is None:
        return False
    return sees_all(user) or organization.pk in worked_organization_ids(user)


def _contact_in(org_ids) -> Q:
    members = Membership.objects.filter(
        user_id=OuterRef("contact_id"), organization_id__in=org_ids
    )
    return Q(Exists(members))


def _agent_scope(user) -> Q:
    """Rows about what ``user`` works: their organizations, those organizations'
    contacts, or a ticket they may see."""
    org_ids = worked_organization_ids(user)
    visible_ticket_ids = ticket_permissions.visible_tickets(user).values("pk")
    return (
        Q(organization_id__in=org_ids)
        | (Q(contact__isnull=False) & _contact_in(org_ids))
        | Q(ticket_id__in=visible_ticket_ids)
    )


# --- querysets ------------------------------------------------------------------------


def visible_interactions(user, queryset: QuerySet | None = None) -> QuerySet:
    qs = Interaction.objects.all() if queryset is None else queryset
    if not is_crm_user(user):
        return qs.none()
    if sees_all(user):
        return qs
    return qs.filter(_agent_scope(user) | Q(author_id=user.pk))


def visible_tasks(user, queryset: QuerySet | None = None) -> QuerySet:
    qs = Task.objects.all() if queryset is None else queryset
    if not is_crm_user(user):
        return qs.none()
    if sees_all(user):
        return qs
    return qs.filter(
        _agent_scope(user) | Q(assignee_id=user.pk) | Q(created_by_id=user.pk)
    )


def sees_every_row_about(user, ticket) -> bool:
    """Whether ``user`` sees every task and interaction about ``ticket``: a support
    team member who may see the ticket (``_about_ticket``)."""
    return is_crm_user(user) and ticket_permissions.can(user, "view", ticket)


def _every_row_about(qs: QuerySet, ticket) -> QuerySet:
    return qs.filter(ticket=ticket)


def _about_ticket(user, qs: QuerySet, ticket, visible) -> QuerySet:
    """``visible(user, qs).filter(ticket=ticket)``, without the scope when ``user``
    may see ``ticket``: a row about a ticket they may see is in the scope
    (``_agent_scope``), so then every row about it is. The scope's organization ids
    cost a query over every visible ticket (~90 ms for an agent at 250k tickets) and
    two IN lists as long; the ticket's own permissions are usually cached on it
    already (``tickets.permissions.ticket_perms``). About a ticket they may not see,
    the other rules (their own rows, their organizations') still apply."""
    if sees_every_row_about(user, ticket):
        return _every_row_about(qs, ticket)
    return visible(user, qs).filter(ticket=ticket)


def tasks_about(user, ticket, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks about ``ticket`` that ``user`` sees (``visible_tasks``)."""
    qs = Task.objects.all() if queryset is None else queryset
    return _about_ticket(user, qs, ticket, visible_tasks)


def interactions_about(user, ticket, queryset: QuerySet | None = None) -> QuerySet:
    """The interactions about ``ticket`` that ``user`` sees
    (``visible_interactions``)."""
    qs = Interaction.objects.all() if queryset is None else queryset
    return _about_ticket(user, qs, ticket, visible_interactions)


class KeptAbout:
    """A read of the tasks or interactions about a ticket that a user sees
    (``tasks_about``, ``interactions_about``) made on every page of a ticket (the
    workspace's Follow-up panel). ``build(rows)`` states the read (columns, order,
    slice) on ``rows``, the model's rows about the ticket. For one who sees every row
    about the ticket (``sees_every_row_about``) the statement has one shape whoever
    reads it, the ticket's id its only value: its SQL is compiled once
    (``portal.sql.KeptStatement``); for anyone else it is built on the policy's
    queryset, as before. ``instances(user, ticket)`` gives the model instances."""

    def __init__(self, model, build):
        self.model = model
        self.visible = {Task: visible_tasks, Interaction: visible_interactions}[model]
        self.build = build
        self._kept = KeptStatement(
            lambda ticket: build(_every_row_about(model.objects.all(), ticket)),
            ("ticket",),
        )

    def instances(self, user, ticket) -> list:
        if sees_every_row_about(user, ticket):
            return self._kept.instances(ticket=ticket.pk)
        about = _about_ticket(user, self.model.objects.all(), ticket, self.visible)
        return list(self.build(about))

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        self._kept.forget()


def changeable_tasks(user, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks ``user`` may change: those they see, unless they are read only."""
    qs = Task.objects.all() if queryset is None else queryset
    if not may_write(user):
        return qs.none()
    return visible_tasks(user, qs)


def assignable_staff(user=None) -> QuerySet:
    """Who a task may be given to: active staff who work tickets (agents, supervisors,
    administrators), by name — the people ``tickets.permissions.assignable_agents``
    draws from, without a queue. The group memberships are a subquery, not a join
    (which made PostgreSQL hash every user and membership: 9 ms at 10k users, 1.6 ms
    so), and no DISTINCT is needed."""
    User = get_user_model()  # noqa: N806
    members = User.groups.through.objects.filter(
        group__name__in=[roles.AGENTS, roles.SUPERVISORS]
    ).values("user_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=members) | Q(is_superuser=True))
        .order_by("display_name", "email")
    )


def reachable_contacts(user) -> QuerySet:
    """The customers ``user`` may log an interaction with or link a task to: for
    supervisors and viewers every active non-staff account, for agents the members of
    the organizations they work and the requesters of the tickets they may see (a
    customer without an organization, on the ticket's Follow-up panel)."""
    User = get_user_model()  # noqa: N806
    staff = User.objects.filter(
        Q(groups__name__in=roles.STAFF_ROLES) | Q(is_superuser=True)
    ).values("pk")
    qs = User.objects.filter(is_active=True).exclude(pk__in=staff)
    if not is_crm_user(user):
        return qs.none()
    if sees_all(user):
        return qs
    members = Membership.objects.filter(
        user_id=OuterRef("pk"), organization_id__in=worked_organization_ids(user)
    )
    requested = ticket_permissions.visible_tickets(user).filter(
        requester_id=OuterRef("pk")
    )
    return qs.filter(Exists(members) | Exists(requested))


# --- decisions ----------------------------------------------------------------------


def _sees_row(user, row, visible) -> bool:
    if not is_crm_user(user):
        return False
    if sees_all(user):
        return True
    return visible(user).filter(pk=row.pk).exists()


def may_view_task(user, task: Task) -> bool:
    if is_crm_user(user) and user.pk in (task.assignee_id, task.created_by_id):
        return True
    return _sees_row(user, task, visible_tasks)


def may_view_interaction(user, interaction: Interaction) -> bool:
    if is_crm_user(user) and interaction.author_id == user.pk:
        return True
    return _sees_row(user, interaction, visible_interactions)


def why_not_change_task(user, task: Task) -> tuple[str, str] | None:
    """None when ``user`` may change ``task``; ``(NOT_FOUND, …)`` when they may not
    even see it, ``(FORBIDDEN, …)`` when they see it read only."""
    if not may_view_task(user, task):
        return NOT_FOUND, _("No such task.")
    if not may_write(user):
        return FORBIDDEN, _("Read-only accounts cannot change tasks.")
    return None


def may_change_task(user, task: Task) -> bool:
    return why_not_change_task(user, task) is None


def why_not_link(user, *, organization=None, contact=None) -> tuple[str, str] | None:
    """None when ``user`` may log or plan something about ``organization`` and
    ``contact`` (each optional): writers only, agents only about the organizations
    they work and their contacts. Organizations are listed to the whole desk, so an
    organization outside the agent's scope is FORBIDDEN; a contact outside it is
    NOT_FOUND (people are not listed)."""
    if not may_write(user):
        return FORBIDDEN, _("Read-only accounts cannot change customer records.")
    if organization is not None and not works_organization(user, organization):
        return FORBIDDEN, _("You do not work with this organization's tickets.")
    if (
        contact is not None
        and not reachable_contacts(user).filter(pk=contact.pk).exists()
    ):
        return NOT_FOUND, _("No such contact.")
    return None


def may_edit_organization(user, organization) -> bool:
    """Supervisors, administrators and the organization's account manager (unless read
    only) edit its customer record."""
    if not may_write(user):
        return False
    return ticket_permissions.is_supervisor(user) or (
        organization.account_manager_id is not None
        and organization.account_manager_id == user.pk
    )


def why_not_edit_organization(
    user, organization, *, account_manager: bool = False
) -> tuple[str, str] | None:
    """None when ``user`` may edit ``organization``'s customer record (and, with
    ``account_manager``, choose its account manager: supervisors only). Outside the
    support team the record does not exist (NOT_FOUND); inside it, organizations are
    listed to the whole desk, so a refusal is FORBIDDEN."""
    if not is_crm_user(user):
        return NOT_FOUND, _("No such organization.")
    if not may_edit_organization(user, organization):
        return FORBIDDEN, _(
            "Only supervisors and the account manager edit this organization."
        )
    if account_manager and not ticket_permissions.is_supervisor(user):
        return FORBIDDEN, _("Only supervisors choose the account manager.")
    return None


def why_not_edit_contact(user, contact) -> tuple[str, str] | None:
    """None when ``user`` may edit ``contact``'s customer record (job title, phone,
    notes): a contact they reach (``reachable_contacts``: supervisors and viewers every
    customer, agents the members of the organizations they work), unless they are read
    only. A contact out of reach is NOT_FOUND (people are not listed, as in
    ``why_not_link``); a viewer is FORBIDDEN."""
    if contact is None or not reachable_contacts(user).filter(pk=contact.pk).exists():
        return NOT_FOUND, _("No such contact.")
    if not may_write(user):
        return FORBIDDEN, _("Read-only accounts cannot change customer records.")
    return None


__all__ = [
    "assignable_staff",
    "changeable_tasks",
    "KeptAbout",
    "interactions_about",
    "is_crm_user",
    "is_read_only",
    "may_change_task",
    "may_edit_organization",
    "may_view_interaction",
    "may_view_task",
    "may_write",
    "reachable_contacts",
    "sees_all",
    "sees_every_row_about",
    "tasks_about",
    "visible_interactions",
    "visible_tasks",
    "why_not_change_task",
    "why_not_edit_contact",
    "why_not_edit_organization",
    "why_not_link",
    "worked_organization_ids",
    "works_organization",
]
