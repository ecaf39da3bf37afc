"""Who may do what with accounts. Views, the admin and other apps ask here."""

from django.conf import settings

from . import roles
from .models import ApprovalStatus, Membership, Organization

REVIEW_PERMISSION = "accounts.review_accounts"


def can_file_tickets(user) -> bool:
    """Signed in, not locked, not rejected, and approved when approval is required
    (``ACCOUNT_APPROVAL_REQUIRED``, read at call time)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.locked_at is not None:
        return False
    if user.approval_status == ApprovalStatus.REJECTED:
        return False
    if getattr(settings, "ACCOUNT_APPROVAL_REQUIRED", False):
        return user.approval_status == ApprovalStatus.APPROVED
    return True


def can_review_accounts(user) -> bool:
    """Approve, reject, lock and unlock accounts: superusers and staff granted the
    ``review_accounts`` permission."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or (user.is_staff and user.has_perm(REVIEW_PERMISSION))


def can_view_security_events(user) -> bool:
    return can_review_accounts(user)


def is_staff_account(user) -> bool:
    """Staff for the MFA rule: agents, supervisors, editors, viewers, administrators and
    anyone who may enter an admin."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_staff or roles.is_staff_member(user)
    )


def can_manage_organization(user, organization: Organization) -> bool:
    """Managers of the organization (and superusers) see members and invite people."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.MANAGER
    ).exists()


def _runs_the_helpdesk(user) -> bool:
    """Administrators (superusers) and supervisors: they look after every organization."""
    return user.is_superuser or roles.has_role(user, roles.SUPERVISORS)


def can_manage_members(user, organization: Organization) -> bool:
    """Add and remove members and change their role: administrators, supervisors and
    the organization's own managers. Plain members, agents, editors and viewers may not
    (an agent serves the organization's tickets, it does not run the organization)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.locked_at is not None:
        return False
    return _runs_the_helpdesk(user) or can_manage_organization(user, organization)


def can_change_sharing(user, organization: Organization) -> bool:
    """Change how members see each other's tickets (``ticket_sharing``). The same people
    as for membership: the organization's managers decide for their own company, and
    administrators and supervisors may act for it; sharing only widens or narrows
    access among the organization's own members, never to anyone outside it."""
    return can_manage_members(user, organization)
