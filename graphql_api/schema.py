"""The one GraphQL schema. Each domain contributes its Query/Mutation classes, merged
here with the optimizer and the safety extensions (classes or factories: strawberry
builds fresh instances for every request)."""

import strawberry
from strawberry.tools import merge_types

from . import extensions
from .accounts.schema import Query as AccountsQuery
from .crm.interactions import Query as CrmInteractionsQuery
from .crm.records import Mutation as CrmRecordsMutation
from .crm.schema import Mutation as CrmMutation
from .crm.schema import Query as CrmQuery
from .execution import Executor
from .integrations.schema import Mutation as IntegrationsMutation
from .integrations.schema import Query as IntegrationsQuery
from .kb.schema import Mutation as KbMutation
from .kb.schema import Query as KbQuery
from .live.schema import Subscription
from .runner import Schema
from .tickets.schema import Mutation as TicketsMutation
from .tickets.schema import Query as TicketsQuery


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Answers 'pong': a liveness check for integrators.")
    def ping(self) -> str:
        return "pong"


Query = merge_types(
    "Query",
    (
        CoreQuery,
        AccountsQuery,
        TicketsQuery,
        CrmQuery,
        CrmInteractionsQuery,
        KbQuery,
        IntegrationsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        TicketsMutation,
        CrmMutation,
        CrmRecordsMutation,
        KbMutation,
        IntegrationsMutation,
    ),
)

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=Executor,
    extensions=[
        extensions.UnicodeGuard,  # first: refuses before anything else starts
        extensions.IntrospectionPolicy,
        extensions.WriteScopeGuard,
        extensions.SubscriptionsOverWebSocket,
        extensions.depth_limiter,
        extensions.alias_limiter,
        extensions.token_limiter,
        extensions.parser_cache,
        extensions.validation_cache,
        extensions.FieldOptimizer,
        extensions.error_masker,
        extensions.DatabaseOutage,
        extensions.RetryAfter,
    ],
)
