"""Errors whose message is meant for the caller, and the rule that hides the rest.

Anything raised in a resolver that is not one of the expected types below reaches the
client as "Internal error." outside development, so that exception text (SQL, paths,
internals) never leaks. Pre-execution errors (syntax, validation, variable coercion) are
written by graphql-core for the caller and pass through unchanged.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from graphql import GraphQLError

INTERNAL_ERROR_MESSAGE = "Internal error."


class ApiError(Exception):
    """An expected failure with a message that is safe and useful to show."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.extensions = {"code": code or self.code}


class AuthenticationRequired(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str | None = None):
        super().__init__(message or _("Sign in or send a bearer token."))


class ScopeRequired(ApiError):
    code = "FORBIDDEN"

    def __init__(self, scope: str):
        super().__init__(
            _("This API token lacks the '%(scope)s' scope.") % {"scope": scope}
        )


SAFE_ERRORS = (ApiError, GraphQLError, PermissionDenied, ValidationError)


def should_mask_error(error: GraphQLError) -> bool:
    """True when the error's message must be replaced by a generic one."""
    if settings.DEBUG or getattr(settings, "GRAPHQL_DEBUG", False):
        return False
    original = error.original_error
    if original is None or isinstance(original, SAFE_ERRORS):
        return False
    # graphql-core's own input coercion (before execution, so no path) raises these
    # with messages written for the caller.
    return not (error.path is None and isinstance(original, (ValueError, TypeError)))
