"""``graphql_api.runner``: the extension hooks looked up once per class run exactly
as strawberry's runner runs them: the same hooks, in the same order, entered and left
in the same order, with an error thrown into them the same way; the same results."""

import strawberry
from django.contrib.auth.models import AnonymousUser
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graphql_api import runner
from graphql_api.context import PortalContext
from graphql_api.schema import schema as portal_schema

EVENTS: list[str] = []


def recorder(name, *, fail_in=None, swallow=False, results=None):
    """An extension class recording its hooks (and, when asked, failing in one)."""

    def hook(step):
        def on(self):
            EVENTS.append(f"{name}:{step}:enter")
            if fail_in == step:
                raise GraphQLError(f"{name} refuses at {step}")
            try:
                yield
            except Exception as error:
                EVENTS.append(f"{name}:{step}:saw {type(error).__name__}")
                if not swallow:
                    raise
            EVENTS.append(f"{name}:{step}:leave")

        return on

    attributes = {
        step: hook(step)
        for step in ("on_operation", "on_parse", "on_validate", "on_execute")
    }
    if results is not None:
        attributes["get_results"] = lambda self: dict(results)
    return type(name, (SchemaExtension,), attributes)


class OnlyExecute(SchemaExtension):
    def on_execute(self):
        EVENTS.append("only:execute")
        yield


class PlainFunction(SchemaExtension):
    """A hook that is a plain function: strawberry's own wrapping."""

    def on_validate(self):
        EVENTS.append("plain:validate")


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        EVENTS.append("resolver")
        return "pong"

    @strawberry.field
    def fails(self) -> str:
        raise ValueError("no")


def both(extensions):
    return (
        strawberry.Schema(query=Query, extensions=extensions),
        runner.Schema(query=Query, extensions=extensions),
    )


def run(schema, query):
    EVENTS.clear()
    try:
        result = schema.execute_sync(query)
        outcome = (result.data, [e.message for e in result.errors or ()])
        outcome += (result.extensions,)
    except Exception as error:  # noqa: BLE001 - compared, not hidden
        outcome = ("raised", type(error).__name__, str(error))
    return outcome, list(EVENTS)


CASES = [
    ([recorder("A"), recorder("B", results={"b": 1}), OnlyExecute], "{ ping }"),
    ([recorder("A"), recorder("B"), PlainFunction], "{ fails }"),
    ([recorder("A"), recorder("B", fail_in="on_execute")], "{ ping }"),
    ([recorder("A", swallow=True), recorder("B", fail_in="on_parse")], "{ ping }"),
    ([recorder("A"), recorder("B", fail_in="on_validate")], "{ ping }"),
    ([recorder("A", fail_in="on_operation"), recorder("B")], "{ ping }"),
    ([recorder("A", results={"a": 1}), recorder("B", results={"a": 2})], "{ nope }"),
    ([recorder("A"), OnlyExecute], "{ ping("),
    ([], "{ ping }"),
]


def test_hooks_run_as_strawberrys_runner_runs_them():
    for extensions, query in CASES:
        theirs, ours = both(extensions)
        assert run(ours, query) == run(theirs, query), (extensions, query)


def test_the_portal_schemas_hooks_are_strawberrys():
    """For the schema's own extensions, every step's hooks are the extensions
    strawberry's runner would enter, in its order."""
    extensions = portal_schema.get_extensions(sync=True)
    theirs = strawberry.extensions.runner.SchemaExtensionsRunner(None, extensions)
    ours = portal_schema.create_extensions_runner(None, extensions)
    assert isinstance(ours, runner.KeptHooksRunner)
    for step in ("operation", "parsing", "validation", "executing"):
        expected = [h.extension for h in getattr(theirs, step)().hooks]
        assert [h.extension for h in getattr(ours, step)().hooks] == expected
        assert expected  # each step has hooks here


def test_the_portal_schema_answers_as_before():
    def ask(schema, query):
        context = PortalContext(request=None, response=None, user=AnonymousUser())
        result = schema.execute_sync(query, context_value=context)
        return (
            result.data,
            [e.formatted for e in result.errors or ()],
            result.extensions,
        )

    plain = strawberry.Schema(
        query=portal_schema.query,
        mutation=portal_schema.mutation,
        extensions=portal_schema.extensions,
        execution_context_class=portal_schema.execution_context_class,
    )
    for query in ("{ ping }", "{ pingg }", "{ ping(", "mutation { ping }"):
        assert ask(portal_schema, query) == ask(plain, query)
