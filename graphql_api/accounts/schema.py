import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.models import Organization
from accounts.roles import is_staff_member

from ..context import get_user
from ..pagination import LIST_ARGUMENTS_HELP, MAX_LIST_SIZE, capped_list
from .types import OrganizationType, UserType


@strawberry.type
class Query:
    @strawberry_django.field(description="The caller, or null when anonymous.")
    def me(self, info: Info) -> UserType | None:
        user = get_user(info)
        return user if user.is_authenticated else None

    @strawberry_django.field(
        description="The caller's organizations; staff see every organization. By "
        f"name, {LIST_ARGUMENTS_HELP}."
    )
    def organizations(
        self, info: Info, first: int = MAX_LIST_SIZE, offset: int = 0
    ) -> list[OrganizationType]:
        user = get_user(info)
        if not user.is_authenticated:
            organizations = Organization.objects.none()
        elif is_staff_member(user):
            organizations = Organization.objects.all()
        else:
            organizations = Organization.objects.filter(memberships__user=user)
        return capped_list(organizations.order_by("name", "pk"), first, offset)
