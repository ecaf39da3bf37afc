"""GraphQL types for people and organizations.

A ``User`` is only ever reached through something the caller may already see (``me``,
or a ticket they can see for requester/assignee/author), so its email is shown there.
"""

import strawberry_django
from django.db.models import Prefetch
from strawberry import auto
from strawberry.types import Info

from accounts.models import Membership, Organization, User
from accounts.roles import is_staff_member

from ..context import get_user
from ..fields import ModelField


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


@strawberry_django.type(Organization, name="Organization", field_cls=ModelField)
class OrganizationType:
    name: auto
    slug: auto


@strawberry_django.type(User, name="User", field_cls=ModelField)
class UserType:
    email: auto

    @strawberry_django.field(
        only=["display_name", "first_name", "last_name", "email"],
        description="The name to show: display name, else full name, else email.",
    )
    def display_name(self) -> str:
        return self.get_display_name()

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
