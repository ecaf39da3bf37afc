"""The codes of the CRM services' refusals (``OperationMessage.code`` in the API).
An interaction or task the caller may not see raises ``crm.exceptions``' not-found
errors instead, exactly like a missing one."""

from portal.domain_errors import DomainCode, DomainError


class CrmErrorCode(DomainCode):
    # An argument is refused.
    TEXT_REQUIRED = "CRM_TEXT_REQUIRED"
    TEXT_TOO_LONG = "CRM_TEXT_TOO_LONG"
    UNKNOWN_CHOICE = "CRM_UNKNOWN_CHOICE"
    CUSTOMER_REQUIRED = "INTERACTION_CUSTOMER_REQUIRED"
    CONTACT_NOT_CUSTOMER = "CONTACT_NOT_CUSTOMER"
    # A contact the actor may not reach reads like one that does not exist.
    CONTACT_NOT_FOUND = "CONTACT_NOT_FOUND"
    INVALID_WEBSITE = "INVALID_WEBSITE"
    NOT_STAFF_ASSIGNEE = "TASK_ASSIGNEE_NOT_STAFF"


class CrmError(DomainError):
    """A CRM service's refusal, coded with a ``CrmErrorCode``."""
