"""GraphQL types for people and organizations.

A ``User`` is only ever reached through something the caller may already see (``me``,
or a ticket they can see for requester/assignee/author), so its email is shown there.
"""

import strawberry_django
from django.db.models import Prefetch
from strawberry import auto

from accounts.models import Membership, Organization, User


@strawberry_django.type(Organization, name="Organization")
class OrganizationType:
    name: auto
    slug: auto


@strawberry_django.type(User, name="User")
class UserType:
    email: auto

    @strawberry_django.field(
        only=["display_name", "first_name", "last_name", "email"],
        description="The name to show: display name, else full name, else email.",
    )
    def display_name(self) -> str:
        return self.get_display_name()

    @strawberry_django.field(
        prefetch_related=[
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("organization").order_by(
                    "organization__name"
                ),
            )
        ],
    )
    def organizations(self) -> list[OrganizationType]:
        return [membership.organization for membership in self.memberships.all()]
