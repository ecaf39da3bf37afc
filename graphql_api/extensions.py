"""Schema extensions that need the caller: introspection policy and the write scope.

Both are classes (strawberry builds one per request), never shared instances.
"""

import functools
from collections.abc import Iterator

from django.conf import settings
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
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


# The depth and alias limits are validation rules. strawberry's QueryDepthLimiter and
# MaxAliasesLimiter build a new rule class on every instantiation, i.e. on every
# request, which would make every request's rule set unique and defeat the validation
# cache below. The classes are made once per limit value instead (settings are still
# read at call time).
@functools.cache
def _depth_rule(max_depth: int):
    return query_depth_limiter.create_validator(max_depth, None)


@functools.cache
def _alias_rule(max_alias_count: int):
    return max_aliases.create_validator(max_alias_count)


def depth_limiter() -> SchemaExtension:
    return AddValidationRules([_depth_rule(settings.GRAPHQL_MAX_DEPTH)])


def alias_limiter() -> SchemaExtension:
    return AddValidationRules([_alias_rule(settings.GRAPHQL_MAX_ALIASES)])


# Integrators send the same few documents over and over: parsing and validating one
# costs a few milliseconds of pure Python per request (bench FINDINGS G-1/C-1). Both
# caches are bounded LRU maps shared by the process; a document over the token limit
# raises while parsing and is never cached; the rules (including the introspection
# rule added for anonymous callers) are part of the validation cache's key.
CACHED_DOCUMENTS = 256


def parser_cache() -> SchemaExtension:
    return ParserCache(maxsize=CACHED_DOCUMENTS)


def validation_cache() -> SchemaExtension:
    return ValidationCache(maxsize=CACHED_DOCUMENTS)


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
        from portal.errors import is_database_unavailable

        result = self.execution_context.result
        request = getattr(self.execution_context.context, "request", None)
        for error in getattr(result, "errors", None) or ():
            if is_database_unavailable(error.original_error):
                if request is not None:
                    request.database_outage = error.original_error
                return
