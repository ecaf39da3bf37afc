"""The codes of the account services' refusals (membership, invitations, reviews,
locks, profile). docs/graphql.md lists each under its category."""

from portal.domain_errors import INVALID_STATE, DomainCode, DomainError, MessageAsText


class AccountErrorCode(DomainCode):
    # The action does not apply to the account or membership as it is now.
    ALREADY_MEMBER = "ALREADY_MEMBER", INVALID_STATE
    NOT_A_MEMBER = "NOT_A_MEMBER", INVALID_STATE
    ALREADY_APPROVED = "ALREADY_APPROVED", INVALID_STATE
    ALREADY_REJECTED = "ALREADY_REJECTED", INVALID_STATE
    ALREADY_LOCKED = "ALREADY_LOCKED", INVALID_STATE
    NOT_LOCKED = "NOT_LOCKED", INVALID_STATE
    INVITATION_EXPIRED = "INVITATION_EXPIRED", INVALID_STATE
    # An argument is refused.
    UNKNOWN_ROLE = "UNKNOWN_ROLE"
    UNKNOWN_SHARING_MODE = "UNKNOWN_SHARING_MODE"
    ACCOUNT_REASON_REQUIRED = "ACCOUNT_REASON_REQUIRED"
    CANNOT_LOCK_SELF = "CANNOT_LOCK_SELF"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVITATION_WRONG_ACCOUNT = "INVITATION_WRONG_ACCOUNT"
    UNKNOWN_PROFILE_FIELD = "UNKNOWN_PROFILE_FIELD"


class AccountError(MessageAsText, DomainError, ValueError):
    """Bad input to an account service; the message is meant for the person acting.
    Still a ``ValueError``, as it was before it carried a code."""
