"""State changes for accounts and organizations. Views, the admin, GraphQL and jobs call
these; none of them re-implements the rules.

Over 400 lines on purpose: it is the one entry point every surface (and the test suite)
imports account changes from, in sections (organizations and membership, emails,
sign-up and review, invitations, profile). Splitting it into modules is a follow-up
that must keep ``accounts.services`` the import path the import contracts name."""

import hashlib
import re
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from portal.notifications.dispatch import (
    notify_address_after_commit,
    notify_after_commit,
)
from portal.notifications.sending import idempotency_key as notification_key

from . import events, kept_organizations, permissions, roles, signals
from .errors import AccountError, AccountErrorCode
from .models import (
    ApprovalStatus,
    Invitation,
    Membership,
    Organization,
    TicketSharing,
    User,
)

INVITATION_DAYS = 14


def organization_group_name(organization: Organization) -> str:
    return f"org:{organization.slug}"


@transaction.atomic
def create_organization(
    *,
    name: str,
    slug: str | None = None,
    email_domains=(),
    ticket_sharing=TicketSharing.NONE,
):
    slug = slug or slugify(name)
    organization = Organization.objects.create(
        name=name,
        slug=slug,
        email_domains=[d.lower().strip() for d in email_domains if d.strip()],
        ticket_sharing=ticket_sharing,
    )
    ensure_organization_group(organization)
    return organization


def ensure_organization_group(organization: Organization) -> Group:
    """The Django group that mirrors the organization's membership (for object permissions)."""
    if organization.group_id is None:
        group, _ = Group.objects.get_or_create(
            name=organization_group_name(organization)
        )
        organization.group = group
        organization.save(update_fields=["group"])
    return organization.group


# --- membership and sharing ---------------------------------------------------------
# Every change has an actor, a permission check (``permissions.can_manage_members`` /
# ``can_change_sharing``), an audit event (``SecurityEvent``) and a domain signal
# (``accounts.signals``) sent inside the transaction, so tickets moves its grants in the
# same commit. Changes nobody decides (joining through a verified email domain or an
# accepted invitation, loading demo data or fixtures) go through ``_enrol`` with the
# reason recorded as ``via``.


def _check_members(by: User, organization: Organization) -> None:
    if not permissions.can_manage_members(by, organization):
        raise PermissionDenied(
            _("Only the organization's managers may change its members.")
        )


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise AccountError(_("Unknown role."), AccountErrorCode.UNKNOWN_ROLE)


def _membership_event(kind, organization, user, actor, old_role, new_role, via):
    events.record(
        kind,
        user=user,
        actor=actor,
        organization=organization.pk,
        organization_slug=organization.slug,
        old_role=old_role,
        new_role=new_role,
        via=via,
    )
    signals.membership_changed.send(
        sender=Membership,
        organization_id=organization.pk,
        user_id=user.pk,
        old_role=old_role,
        new_role=new_role,
        actor_id=getattr(actor, "pk", None),
    )


def _enrol(
    organization: Organization, user: User, role: str, *, actor, via: str
) -> Membership:
    """Add ``user`` (or set their role): the row, the organization group, the event and
    the signal. No permission check: the callers have made it or have a reason."""
    _check_role(role)
    membership = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user=user)
        .first()
    )
    if membership is not None and membership.role == role:
        return membership
    old_role = membership.role if membership is not None else None
    if membership is None:
        membership = Membership.objects.create(
            organization=organization, user=user, role=role
        )
    else:
        membership.role = role
        membership.save(update_fields=["role"])
    user.groups.add(ensure_organization_group(organization))
    kind = events.Kind.MEMBER_ADDED if old_role is None else events.Kind.ROLE_CHANGED
    _membership_event(kind, organization, user, actor, old_role, role, via)
    return membership


@transaction.atomic
def add_member(
    organization: Organization,
    user: User,
    *,
    role: str = Membership.Role.MEMBER,
    by: User,
) -> Membership:
    """``by`` adds ``user`` to the organization with ``role``."""
    _check_members(by, organization)
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise AccountError(
            _("%(email)s is already a member.") % {"email": user.email},
            AccountErrorCode.ALREADY_MEMBER,
        )
    return _enrol(organization, user, role, actor=by, via="")


@transaction.atomic
def change_role(
    organization: Organization, user: User, *, role: str, by: User
) -> Membership:
    """``by`` makes the member ``user`` a member or a manager."""
    _check_members(by, organization)
    _check_role(role)
    if not Membership.objects.filter(organization=organization, user=user).exists():
        raise AccountError(
            _("%(email)s is not a member.") % {"email": user.email},
            AccountErrorCode.NOT_A_MEMBER,
        )
    return _enrol(organization, user, role, actor=by, via="")


@transaction.atomic
def remove_member(organization: Organization, user: User, *, by: User) -> bool:
    """``by`` removes ``user``; False (and no event) when they were not a member."""
    _check_members(by, organization)
    membership = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user=user)
        .first()
    )
    if membership is None:
        return False
    old_role = membership.role
    membership.delete()
    if organization.group_id:
        user.groups.remove(organization.group)
    _membership_event(
        events.Kind.MEMBER_REMOVED, organization, user, by, old_role, None, ""
    )
    return True


@transaction.atomic
def setup_member(
    organization: Organization, user: User, role: str = Membership.Role.MEMBER
) -> Membership:
    """Data loading only (demo data, fixtures, management commands): add ``user`` with
    no acting person; the event records ``via="setup"``. Views and APIs never call it."""
    return _enrol(organization, user, role, actor=None, via="setup")


@transaction.atomic
def change_ticket_sharing(
    organization: Organization, sharing: str, *, by: User
) -> Organization:
    """``by`` sets how members see each other's tickets. Tickets moves the grants in
    this transaction (its receiver of ``signals.sharing_changed``). The change is
    audited once, for the organization, not on each ticket: one row whatever the
    organization's size."""
    if not permissions.can_change_sharing(by, organization):
        raise PermissionDenied(
            _("Only the organization's managers may change its ticket sharing.")
        )
    if sharing not in TicketSharing.values:
        raise AccountError(
            _("Unknown sharing mode %(sharing)s.") % {"sharing": repr(sharing)},
            AccountErrorCode.UNKNOWN_SHARING_MODE,
        )
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    old = locked.ticket_sharing
    organization.ticket_sharing = sharing
    if old == sharing:
        return organization
    Organization.objects.filter(pk=organization.pk).update(ticket_sharing=sharing)
    kept_organizations.changed()  # an update sends no signal
    ensure_organization_group(organization)
    events.record(
        events.Kind.SHARING_CHANGED,
        actor=by,
        organization=organization.pk,
        organization_slug=organization.slug,
        old=old,
        new=sharing,
    )
    signals.sharing_changed.send(
        sender=Organization,
        organization_id=organization.pk,
        old=old,
        new=sharing,
        actor_id=by.pk,
    )
    return organization


def assign_role(user: User, role: str) -> None:
    user.groups.add(Group.objects.get(name=role))
    if role in roles.STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


# --- emails ---------------------------------------------------------------------------
# Every account email (approval, rejection, lock, unlock, invitation) goes through the
# notification outbox: templates under ``templates/emails/``, a row written in the
# change's transaction, sent once per idempotency key by the job worker.


def _notify_user(kind: str, user: User, event, context: dict | None = None) -> None:
    """Email ``user`` about the audit ``event`` once it has committed."""
    notify_after_commit(
        kind,
        user.pk,
        context=context or {},
        idempotency_key=notification_key(f"security-event-{event.pk}", user.pk, kind),
    )


def _absolute(path: str, request=None) -> str:
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


# --- sign-up, verification, approval, locking -------------------------------------------


@transaction.atomic
def register_customer(user: User) -> User:
    """A new sign-up: a customer, pending approval when ``ACCOUNT_APPROVAL_REQUIRED``."""
    required = getattr(settings, "ACCOUNT_APPROVAL_REQUIRED", False)
    user.approval_status = (
        ApprovalStatus.PENDING if required else ApprovalStatus.APPROVED
    )
    user.save()
    user.groups.add(Group.objects.get(name=roles.CUSTOMERS))
    return user


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


@transaction.atomic
def join_organizations_by_email(user: User, email: str) -> list[Membership]:
    """Join every organization listing the domain of ``email``, which must be one of the
    user's verified addresses (called when allauth confirms an address)."""
    if not EmailAddress.objects.filter(
        user=user, email__iexact=email, verified=True
    ).exists():
        return []
    domain = _domain(email)
    joined = []
    candidates = Organization.objects.filter(email_domains__icontains=domain)
    for organization in candidates:
        if domain in [d.lower() for d in organization.email_domains or []]:
            if not Membership.objects.filter(
                organization=organization, user=user
            ).exists():
                joined.append(
                    _enrol(
                        organization,
                        user,
                        Membership.Role.MEMBER,
                        actor=user,
                        via="email_domain",
                    )
                )
    return joined


@transaction.atomic
def join_organization_from_directory(
    user: User, organization: Organization
) -> Membership:
    """An LDAP sign-in names the user's organization (``accounts.ldap``): they join as
    a member; an existing membership (and its role) is kept."""
    existing = Membership.objects.filter(organization=organization, user=user).first()
    if existing is not None:
        return existing
    return _enrol(organization, user, Membership.Role.MEMBER, actor=user, via="ldap")


def _check_reviewer(by: User) -> None:
    if not permissions.can_review_accounts(by):
        raise PermissionDenied(_("You may not review accounts."))


def _locked_for_update(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def approve_user(user: User, *, by: User, note: str = "", request=None) -> User:
    """Let a pending (or rejected) customer file tickets; the user is emailed."""
    _check_reviewer(by)
    user = _locked_for_update(user)
    if user.approval_status == ApprovalStatus.APPROVED:
        raise AccountError(
            _("This account is already approved."), AccountErrorCode.ALREADY_APPROVED
        )
    user.approval_status = ApprovalStatus.APPROVED
    user.approval_note = (note or "").strip()
    user.approved_by = by
    user.approved_at = timezone.now()
    user.save(
        update_fields=["approval_status", "approval_note", "approved_by", "approved_at"]
    )
    event = events.record(
        events.Kind.APPROVED,
        user=user,
        actor=by,
        request=request,
        note=user.approval_note,
    )
    _notify_user("account_approved", user, event)
    return user


@transaction.atomic
def reject_user(user: User, *, by: User, reason: str, request=None) -> User:
    """Refuse an account. The reason is required, emailed to the user and kept in the
    audit record even if the account is later deleted."""
    _check_reviewer(by)
    reason = (reason or "").strip()
    if not reason:
        raise AccountError(
            _("Give a reason for the rejection."),
            AccountErrorCode.ACCOUNT_REASON_REQUIRED,
        )
    user = _locked_for_update(user)
    if user.approval_status == ApprovalStatus.REJECTED:
        raise AccountError(
            _("This account is already rejected."), AccountErrorCode.ALREADY_REJECTED
        )
    user.approval_status = ApprovalStatus.REJECTED
    user.approval_note = reason
    user.approved_by = by
    user.approved_at = timezone.now()
    user.save(
        update_fields=["approval_status", "approval_note", "approved_by", "approved_at"]
    )
    event = events.record(
        events.Kind.REJECTED,
        user=user,
        actor=by,
        request=request,
        reason=reason,
        email=user.email,
    )
    _notify_user("account_rejected", user, event, {"reason": reason})
    return user


@transaction.atomic
def lock_user(user: User, *, by: User, reason: str, request=None) -> User:
    """Stop an account from signing in (and end its sessions at the next request)."""
    _check_reviewer(by)
    reason = (reason or "").strip()
    if not reason:
        raise AccountError(
            _("Give a reason for the lock."), AccountErrorCode.ACCOUNT_REASON_REQUIRED
        )
    user = _locked_for_update(user)
    if user.pk == by.pk:
        raise AccountError(
            _("You cannot lock your own account."), AccountErrorCode.CANNOT_LOCK_SELF
        )
    if user.locked_at is not None:
        raise AccountError(
            _("This account is already locked."), AccountErrorCode.ALREADY_LOCKED
        )
    user.locked_at = timezone.now()
    user.lock_reason = reason
    user.save(update_fields=["locked_at", "lock_reason"])
    event = events.record(
        events.Kind.LOCKED, user=user, actor=by, request=request, reason=reason
    )
    _notify_user("account_locked", user, event, {"reason": reason})
    return user


@transaction.atomic
def unlock_user(user: User, *, by: User, reason: str = "", request=None) -> User:
    _check_reviewer(by)
    user = _locked_for_update(user)
    if user.locked_at is None:
        raise AccountError(
            _("This account is not locked."), AccountErrorCode.NOT_LOCKED
        )
    previous = user.lock_reason
    user.locked_at = None
    user.lock_reason = ""
    user.save(update_fields=["locked_at", "lock_reason"])
    event = events.record(
        events.Kind.UNLOCKED,
        user=user,
        actor=by,
        request=request,
        reason=(reason or "").strip(),
        previous_reason=previous,
    )
    _notify_user("account_unlocked", user, event)
    return user


# --- invitations ------------------------------------------------------------------------


@transaction.atomic
def invite_member(
    organization: Organization,
    *,
    email: str,
    role: str = Membership.Role.MEMBER,
    invited_by: User,
    request=None,
) -> Invitation:
    """A manager invites an email address; the invitee is emailed a link. Re-inviting
    the same address replaces the pending invitation (a fresh link and expiry)."""
    if not permissions.can_manage_organization(invited_by, organization):
        raise PermissionDenied(_("Only the organization's managers may invite."))
    email = User.objects.normalize_email((email or "").strip()).lower()
    if "@" not in email:
        raise AccountError(
            _("Enter a valid email address."), AccountErrorCode.INVALID_EMAIL
        )
    if role not in Membership.Role.values:
        raise AccountError(_("Unknown role."), AccountErrorCode.UNKNOWN_ROLE)
    if Membership.objects.filter(
        organization=organization, user__email__iexact=email
    ).exists():
        raise AccountError(
            _("%(email)s is already a member.") % {"email": email},
            AccountErrorCode.ALREADY_MEMBER,
        )
    Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True
    ).delete()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    url = _absolute(reverse("accounts:invitation", args=[invitation.token]), request)
    invitee = User.objects.filter(email__iexact=email, is_active=True).first()
    notify_address_after_commit(
        "organization_invitation",
        email,
        context={
            "organization_name": organization.name,
            "inviter_name": invited_by.get_display_name(),
            "invited_email": email,
            "url": url,
            "expires_on": invitation.expires_at.date().isoformat(),
        },
        # one invitation, one address; hashed to keep the key short
        idempotency_key=notification_key(
            f"invitation-{invitation.pk}",
            hashlib.sha256(email.encode()).hexdigest()[:16],
            "organization_invitation",
        ),
        locale=invitee.locale if invitee else "",
    )
    return invitation


def invitation_for(token: str) -> Invitation | None:
    """The invitation behind a link, or None. Only the characters ``token_urlsafe``
    makes are looked up: anything else (a NUL byte would make PostgreSQL fail) is no
    invitation."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token or ""):
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token=token)
        .first()
    )


def can_accept(invitation: Invitation, user: User) -> bool:
    return (
        invitation.is_pending
        and getattr(user, "is_authenticated", False)
        and EmailAddress.objects.filter(
            user=user, email__iexact=invitation.email, verified=True
        ).exists()
    )


@transaction.atomic
def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Join the organization; the user's verified email must be the invited one."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise AccountError(
            _("This invitation has expired or was already used."),
            AccountErrorCode.INVITATION_EXPIRED,
        )
    if not can_accept(invitation, user):
        raise AccountError(
            _("This invitation is for %(email)s; sign in with that verified address.")
            % {"email": invitation.email},
            AccountErrorCode.INVITATION_WRONG_ACCOUNT,
        )
    membership = _enrol(
        invitation.organization,
        user,
        invitation.role,
        actor=user,
        via=f"invitation:{invitation.pk}",
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def cancel_invitation(invitation: Invitation, *, by: User) -> None:
    if not permissions.can_manage_organization(by, invitation.organization):
        raise PermissionDenied(_("Only the organization's managers may do that."))
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()


# --- profile ----------------------------------------------------------------------------

PROFILE_FIELDS = [
    "display_name",
    "locale",
    "time_zone",
    "notify_on_reply",
    "notify_on_status",
]


@transaction.atomic
def update_profile(user: User, **values) -> User:
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise AccountError(
            _("Not profile fields: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))},
            AccountErrorCode.UNKNOWN_PROFILE_FIELD,
        )
    for name, value in values.items():
        setattr(user, name, value)
    user.save(update_fields=list(values))
    return user
