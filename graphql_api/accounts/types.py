"""GraphQL types for people and organizations.

A ``User`` is only ever reached through something the caller may already see (``me``,
or a ticket they can see for requester/assignee/author/watchers/event actors). Its email
address and name follow the customer's view of a ticket
(``tickets.permissions.address_visible_to`` / ``name_shown_to``), as on the portal page:
a customer reads their own address and everyone else by name.
"""

import strawberry_django
from django.db.models import Prefetch
from strawberry import auto
from strawberry.types import Info

from accounts.models import Membership, Organization, User
from accounts.roles import is_staff_member
from crm import permissions as crm_permissions
from tickets.permissions import address_visible_to, name_shown_to

from ..context import get_user
from ..fields import ModelField, viewer_column


def _caller_organization_ids(info: Info) -> set[int]:
    """The caller's own organizations, loaded once per request."""
    cached = info.context.__dict__.get("_organization_ids")
    if cached is None:
        user = get_user(info)
        cached = set(
            Membership.objects.filter(user_id=user.pk).values_list(
                "organization_id", flat=True
            )
            if user.is_authenticated
            else ()
        )
        info.context.__dict__["_organization_ids"] = cached
    return cached


def _crm_field(name: str, description: str):
    """A field of an organization's or a contact's customer record (``crm``): read by
    the support team, null for anyone else (customers never see their CRM record: the
    internal notes and the account manager above all)."""

    def resolve(self, info: Info) -> str | None:
        return (
            getattr(self, name) if crm_permissions.is_crm_user(get_user(info)) else None
        )

    return strawberry_django.field(
        resolver=resolve,
        only=[name],
        description=f"{description} Staff only: null for anyone else.",
    )


@strawberry_django.type(Organization, name="Organization", field_cls=ModelField)
class OrganizationType:
    name: auto
    slug: auto
    website: str | None = _crm_field("website", "The web site.")
    industry: str | None = _crm_field("industry", "The industry.")
    address: str | None = _crm_field("address", "The postal address.")
    phone: str | None = _crm_field("phone", "The phone number.")
    notes: str | None = _crm_field("notes", "Internal notes about the customer.")

    @strawberry_django.field(
        select_related=["account_manager"],
        description="The staff member who looks after this customer. Staff only: "
        "null for anyone else.",
    )
    def account_manager(self, info: Info) -> "UserType | None":
        if not crm_permissions.is_crm_user(get_user(info)):
            return None
        return self.account_manager


@strawberry_django.type(User, name="User", field_cls=ModelField)
class UserType:
    job_title: str | None = _crm_field("job_title", "A contact's job title.")
    phone: str | None = _crm_field("phone", "A contact's phone number.")
    notes: str | None = _crm_field("notes", "Internal notes about the contact.")

    email: str | None = viewer_column(
        address_visible_to,
        description="The email address; null where the caller may not read it "
        "(customers read their own, the support team everyone's).",
    )

    @strawberry_django.field(
        only=["display_name", "first_name", "last_name", "email"],
        description="The name to show: display name, else full name, else (only where "
        "the caller may read the address) the email, else the address's local part.",
    )
    def display_name(self, info: Info) -> str:
        return name_shown_to(get_user(info), self)

    @strawberry_django.field(
        description="The person's organizations, as far as the caller may know them.",
        prefetch_related=[
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("organization").order_by(
                    "organization__name"
                ),
            )
        ],
    )
    def organizations(self, info: Info) -> list[OrganizationType]:
        """All of them for the person themself and for staff; otherwise only the
        organizations the caller shares with this person (a colleague's other
        memberships are none of a customer's business)."""
        organizations = [
            membership.organization for membership in self.memberships.all()
        ]
        caller = get_user(info)
        if caller.is_authenticated and (
            caller.pk == self.pk or is_staff_member(caller)
        ):
            return organizations
        shared = _caller_organization_ids(info)
        return [org for org in organizations if org.pk in shared]
