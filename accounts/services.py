"""State changes for accounts and organizations. Views, the admin, GraphQL and jobs call
these; none of them re-implements the rules."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify

from . import roles
from .models import Membership, Organization, TicketSharing, User


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


@transaction.atomic
def add_member(
    organization: Organization, user: User, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add (or update the role of) a member; keeps the organization's group in step."""
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    user.groups.add(ensure_organization_group(organization))
    return membership


@transaction.atomic
def remove_member(organization: Organization, user: User) -> bool:
    deleted, _ = Membership.objects.filter(
        organization=organization, user=user
    ).delete()
    if organization.group_id:
        user.groups.remove(organization.group)
    return bool(deleted)


def assign_role(user: User, role: str) -> None:
    user.groups.add(Group.objects.get(name=role))
    if role in roles.STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
