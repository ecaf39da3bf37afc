"""Schema extensions that need the caller: introspection policy and the write scope.

Both are classes (strawberry builds one per request), never shared instances.
"""

from collections.abc import Iterator

from django.conf import settings
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types.graphql import OperationType

from .errors import INTERNAL_ERROR_MESSAGE, should_mask_error

INTROSPECTION_CHOICES = ("always", "authenticated", "never")


def introspection_allowed(context) -> bool:
    """``GRAPHQL_INTROSPECTION``: "always"; "never"; or "authenticated" (default):
    signed-in callers and token holders, and anyone when DEBUG is on."""
    policy = getattr(settings, "GRAPHQL_INTROSPECTION", "authenticated")
    if policy not in INTROSPECTION_CHOICES:
        raise ValueError(
            f"GRAPHQL_INTROSPECTION must be one of {INTROSPECTION_CHOICES}"
        )
    if policy == "always":
        return True
    if policy == "never":
        return False
    if settings.DEBUG:
        return True
    user = getattr(context, "user", None)
    return bool(user is not None and user.is_authenticated)


class IntrospectionPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        if not introspection_allowed(ec.context):
            ec.validation_rules = (
                *ec.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield


class WriteScopeGuard(SchemaExtension):
    """A token without the ``write`` scope cannot run a mutation at all: the whole
    operation is refused before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        token = getattr(ec.context, "api_token", None)
        if (
            token is not None
            and not token.has_scope("write")
            and ec.operation_type == OperationType.MUTATION
        ):
            ec.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "This API token is read-only: mutations need the 'write' scope.",
                        extensions={"code": "FORBIDDEN"},
                    )
                ],
            )
        yield


def depth_limiter() -> SchemaExtension:
    return QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH)


def alias_limiter() -> SchemaExtension:
    return MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES)


def token_limiter() -> SchemaExtension:
    return MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS)


def error_masker() -> SchemaExtension:
    return MaskErrors(
        should_mask_error=should_mask_error, error_message=INTERNAL_ERROR_MESSAGE
    )


class DatabaseOutage(SchemaExtension):
    """A lost database is an outage, not a field error. Listed after the error masker,
    this sees the original error before masking drops it and records it on the
    request; the view then re-raises it, so that ``DatabaseUnavailableMiddleware``
    answers 503 with Retry-After (clients and load balancers retry) instead of 200
    with "Internal error."."""

    def on_operation(self) -> Iterator[None]:
        yield
        from django.db import InterfaceError, OperationalError

        result = self.execution_context.result
        request = getattr(self.execution_context.context, "request", None)
        for error in getattr(result, "errors", None) or ():
            if isinstance(error.original_error, OperationalError | InterfaceError):
                if request is not None:
                    request.database_outage = error.original_error
                return
