"""Schema extensions: text that is not Unicode, the introspection and suggestion
policy, the write scope, limits, caches, error masking.

Stateful ones are classes or factories (strawberry builds one per request), never
shared instances.
"""

import functools
import re
from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError
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
from strawberry_django.optimizer import DjangoOptimizerExtension

from .errors import INTERNAL_ERROR_MESSAGE, should_mask_error
from .fields import listed_whole
from .validation import is_encodable, unencodable_text_at

INTROSPECTION_CHOICES = ("always", "authenticated", "never")


class UnicodeGuard(SchemaExtension):
    """Every string a request carries must be valid Unicode, whatever argument,
    input field or list item it ends up in: a JSON escape such as ``"\\ud800"``
    (an unpaired surrogate) decodes to a Python string that no database, file or
    e-mail accepts. The document, the operation name and the variables are checked
    here, before parsing, and refused with ``INVALID_INPUT``, so that no resolver
    ever receives such a string. A GraphQL string literal with a lone surrogate
    escape (``"\\uD800"`` inside the document) is refused by graphql-core's lexer,
    whose syntax error gets the same code. Listed first: nothing else has started
    when it refuses."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        where = None
        if ec.query is not None and not is_encodable(ec.query):
            where = _("the query document")
        elif ec.operation_name is not None and not is_encodable(ec.operation_name):
            where = _("the operation name")
        elif (path := unencodable_text_at(ec.variables or {})) is not None:
            where = _("variable '$%(path)s'") % {"path": path}
        if where is not None:
            raise GraphQLError(
                _(
                    "Text must be valid Unicode: %(where)s holds an unpaired "
                    "surrogate code point (U+D800 to U+DFFF)."
                )
                % {"where": where},
                extensions={"code": "INVALID_INPUT"},
            )
        try:
            yield
        except GraphQLSyntaxError as error:
            if "Invalid Unicode escape sequence" in error.message:
                error.extensions = {**(error.extensions or {}), "code": "INVALID_INPUT"}
            raise


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


# graphql-core appends " Did you mean 'tickets'?" (or "… the enum value 'HIGH'?")
# to validation and variable errors; names never contain "?".
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class IntrospectionPolicy(SchemaExtension):
    """A caller who may not introspect the schema may not explore it through error
    messages either: validation and variable errors lose graphql-core's "Did you
    mean …?" suggestions (field, argument, type and enum value names)."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        allowed = introspection_allowed(ec.context)
        if not allowed:
            ec.validation_rules = (
                *ec.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
        result = ec.result
        if not allowed and result is not None and getattr(result, "errors", None):
            result.errors = [_without_suggestions(error) for error in result.errors]


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    # a copy: validation errors are shared through the validation cache
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


class RetryAfter(SchemaExtension):
    """When a mutation was refused by a rate limit (``RATE_LIMITED``), the response's
    ``extensions.retryAfter`` says how many seconds to wait (see
    ``validation.note_retry_after``)."""

    def get_results(self) -> dict:
        seconds = getattr(self.execution_context.context, "retry_after", None)
        return {"retryAfter": seconds} if seconds else {}


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
                        _(
                            "This API token is read-only: mutations need the "
                            "'write' scope."
                        ),
                        extensions={"code": "FORBIDDEN"},
                    )
                ],
            )
        yield


class SubscriptionsOverWebSocket(SchemaExtension):
    """A subscription sent over HTTP is refused as a whole: subscriptions are served
    over WebSocket (``graphql_api.live.transport``), where the stream can last."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if (
            ec.operation_type == OperationType.SUBSCRIPTION
            and getattr(ec.context, "transport", "http") != "websocket"
        ):
            ec.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        _(
                            "Subscriptions are served over WebSocket on this path, "
                            "with the graphql-transport-ws protocol."
                        ),
                        extensions={"code": "BAD_REQUEST"},
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


class FieldOptimizer(DjangoOptimizerExtension):
    """strawberry-django's optimizer without its per-field middleware.

    ``DjangoOptimizerExtension.resolve`` wraps the resolution of *every* field of a
    response (some 1,450 for a page of 100 tickets with their comments) to optimize
    the odd resolver that returns a queryset; graphql-core then runs even the basic
    fields (``ModelField``) through the middleware chain. Every queryset the API
    returns goes through a strawberry-django field, whose ``get_queryset`` already
    optimizes it with the extension active for the operation (``on_execute`` sets
    it), so the middleware adds nothing but its cost. Without a ``resolve`` of its
    own, strawberry installs no middleware for it.

    The prefetches it adds for reverse foreign keys listed whole are assigned to
    each row as a list (``fields.listed_whole``), which ``ModelField`` returns:
    Django would otherwise clone the prefetch queryset into a manager for every row
    of a page (bench FINDINGS G-7)."""

    resolve = SchemaExtension.resolve

    def optimize(self, qs, info, *, store=None):
        optimized = super().optimize(qs, info, store=store)
        if optimized is qs or not isinstance(optimized, QuerySet):
            return optimized
        return listed_whole(optimized)


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
