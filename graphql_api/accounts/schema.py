import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.models import Organization
from accounts.roles import is_staff_member

from ..context import get_user
from .types import OrganizationType, UserType


@strawberry.type
class Query:
    @strawberry_django.field(description="The caller, or null when anonymous.")
    def me(self, info: Info) -> UserType | None:
        user = get_user(info)
        return user if user.is_authenticated else None

    @strawberry_django.field(
        description="The caller's organizations; staff see every organization."
    )
    def organizations(self, info: Info) -> list[OrganizationType]:
        user = get_user(info)
        if not user.is_authenticated:
            return Organization.objects.none()
        if is_staff_member(user):
            return Organization.objects.order_by("name")
        return Organization.objects.filter(memberships__user=user).order_by("name")
