"""The one GraphQL schema. Each domain contributes its Query/Mutation classes."""

import strawberry
from strawberry_django.optimizer import DjangoOptimizerExtension


@strawberry.type
class Query:
    @strawberry.field(description="Answers 'pong': a liveness check for integrators.")
    def ping(self) -> str:
        return "pong"


schema = strawberry.Schema(query=Query, extensions=[DjangoOptimizerExtension])
