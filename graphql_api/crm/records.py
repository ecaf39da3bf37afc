"""The customer records through GraphQL: an organization's details and a contact's,
changed by ``crm.services`` under ``crm.permissions`` (supervisors and the account
manager edit an organization; whoever may write and reaches a contact edits it).
Whoever may not is answered as for a missing record, or PERMISSION_DENIED where the
record is listed to them; nothing is written then."""

from contextlib import contextmanager

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from accounts.models import Organization
from crm import permissions, services
from crm.exceptions import PermissionDenied

from ..accounts.types import OrganizationType, UserType
from ..context import get_user, require_scope
from ..validation import as_mutation_error, clean_slug
from .schema import _assignee, _contact, _given


@strawberry.input(
    description="Change an organization's customer record: omitted or null fields "
    "stay as they are, an empty string clears one."
)
class OrganizationDetailsInput:
    website: str | None = strawberry.field(
        default=strawberry.UNSET, description="An http(s) address."
    )
    industry: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="Internal notes (staff only)."
    )
    account_manager: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The account manager's email (an active agent, supervisor or "
        "administrator; supervisors only choose them); null removes them.",
    )


@strawberry.input(
    description="Change a contact's customer record: omitted or null fields stay as "
    "they are, an empty string clears one."
)
class ContactDetailsInput:
    job_title: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="Internal notes (staff only)."
    )


@contextmanager
def _input_field_names():
    """A service's refusal names its field as the input does (``job_title`` becomes
    ``jobTitle``), so that ``OperationMessage.field`` points at the input field."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = {to_camel_case(f): e for f, e in error.error_dict.items()}
        raise ValidationError(renamed) from error


def _editable_organization(user, slug, *, account_manager: bool) -> Organization:
    """The organization with this slug if ``user`` may edit it (and choose its
    account manager): a missing one and one outside the support team's reach alike
    are ``Organization.DoesNotExist``; one the caller may not edit ``PermissionDenied``
    — checked before any other input is looked at."""
    organization = Organization.objects.filter(
        slug=clean_slug(slug, "organization")
    ).first()
    if organization is None:
        raise Organization.DoesNotExist(_("No such organization."))
    denial = permissions.why_not_edit_organization(
        user, organization, account_manager=account_manager
    )
    if denial:
        kind, message = denial
        if kind == permissions.NOT_FOUND:
            raise Organization.DoesNotExist(message)
        raise PermissionDenied(message)
    return organization


def _account_manager(email):
    """The staff member with this email, or None for null; an unknown address is
    refused exactly like a customer's (``TASK_ASSIGNEE_NOT_STAFF``)."""
    if email is None:
        return None
    manager = _assignee(email)
    if manager is None:
        raise services.account_manager_refused()
    return manager


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Change an organization's customer record (supervisors and its "
        "account manager; only supervisors choose the account manager).",
    )
    def update_organization_details(
        self,
        info: Info,
        organization: str,
        input: OrganizationDetailsInput,
    ) -> OrganizationType:
        with as_mutation_error(), _input_field_names():
            require_scope(info, "write")
            user = get_user(info, required=True)
            given_manager = input.account_manager is not strawberry.UNSET
            record = _editable_organization(
                user, organization, account_manager=given_manager
            )
            changes = {
                name: getattr(input, name)
                for name in services.ORGANIZATION_FIELDS
                if _given(getattr(input, name))
            }
            if given_manager:
                changes["account_manager"] = _account_manager(input.account_manager)
            return services.update_organization_details(user, record, **changes)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Change a contact's customer record: job title, phone, notes "
        "(supervisors, and agents who work one of the contact's organizations).",
    )
    def update_contact_details(
        self, info: Info, contact: str, input: ContactDetailsInput
    ) -> UserType:
        with as_mutation_error(), _input_field_names():
            require_scope(info, "write")
            user = get_user(info, required=True)
            person = _contact(contact)
            changes = {
                name: getattr(input, name)
                for name in services.CONTACT_FIELDS
                if _given(getattr(input, name))
            }
            return services.update_contact_details(user, person, **changes)
