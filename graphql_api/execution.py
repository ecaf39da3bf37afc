"""The executor of the schema: graphql-core's, with a shorter path for the columns of
our model types.

graphql-core resolves every field of a response the same way: a ``Path``, a resolve
info, the argument values, the resolver, then ``complete_value``'s type dispatch down
to the scalar's ``coerce_output_value``. For a page of 100 tickets that is some 600
plain columns (``reference``, ``subject``, ``status``, a comment's ``body`` …) and one
address per person, each paying ~20 Python calls (and an address strawberry's whole
resolver path: ``Info``, argument conversion, the field's ``get_result``) to read one
attribute (bench FINDINGS G-5).

Here a field is *read* when it has no arguments, a leaf type (scalar or enum, nullable
or not) and is

* a basic ``ModelField`` on a plain column (``fields.ModelField``: no resolver, no
  extensions, not a file): the value the model instance holds, or
* a ``ViewerColumn`` without extensions: its own ``read(caller, row)``, the rule of the
  field's owner with the caller of the request (``context.caller_of``).

A read value is coerced with the field's type exactly as ``complete_leaf_value`` does.
Everything else takes graphql-core's path, and so does a read field whenever anything
is unusual: the column not loaded on the instance (deferred: the field's ``get_result``
loads it), a null for a non-null field, a value the type refuses, any exception, or a
field middleware (none is installed: ``extensions.FieldOptimizer``). graphql-core then
resolves it afresh and reports the error with its path, as before. So the response,
its errors and its key order are graphql-core's; only where nothing can go wrong is
the work skipped."""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLNonNull, Undefined, is_leaf_type
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from .context import caller_of
from .fields import ModelField, ViewerColumn

_NOT_READ = object()
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


def _column_reader(field: ModelField) -> Callable[[Any, Any], Any] | None:
    """``read(row, caller)`` for a basic ``ModelField`` on a plain column: the value
    the instance holds (what the field's ``get_result`` returns when it is loaded)."""
    if type(field) is not ModelField or not field.is_basic_field or field.is_relation:
        return None
    model = field.origin_django_type.model
    attname = getattr(model, field.django_name or field.python_name).field.attname

    def read(row, caller):
        if not isinstance(row, model):
            return _NOT_READ
        return row.__dict__.get(attname, _NOT_READ)

    return read


def _viewer_reader(field: ViewerColumn) -> Callable[[Any, Any], Any] | None:
    if type(field) is not ViewerColumn or field.extensions:
        return None
    model = field.origin_django_type.model
    read = field.read

    def read_shown(row, caller):
        return read(row, caller) if isinstance(row, model) else _NOT_READ

    return read_shown


def _reader_for(field_def) -> tuple | None:
    """(read, leaf type, non-null) when the field may be read, else None."""
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, ModelField):
        return None
    read = _column_reader(definition) or _viewer_reader(definition)
    if read is None:
        return None
    leaf_type, non_null = field_def.type, False
    if isinstance(leaf_type, GraphQLNonNull):
        leaf_type, non_null = leaf_type.of_type, True
    if not is_leaf_type(leaf_type):
        return None
    return read, leaf_type, non_null


class Executor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, reading plain columns directly (see the
    module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._readers: dict[tuple[str, str], tuple | None] = {}
        self._caller = _NOT_READ

    def _read(self, parent_type, field_details_list, source):
        """The field's completed value, or ``_NOT_READ`` for graphql-core's path."""
        node = field_details_list[0].node
        if node.arguments:
            return _NOT_READ
        key = (parent_type.name, node.name.value)
        try:
            reader = self._readers[key]
        except KeyError:
            name = node.name.value
            reader = None
            if not name.startswith("__"):
                reader = _reader_for(parent_type.fields.get(name))
            self._readers[key] = reader
        if reader is None:
            return _NOT_READ
        read, leaf_type, non_null = reader
        try:
            caller = self._caller
            if caller is _NOT_READ:
                caller = self._caller = caller_of(self.context_value)
            value = read(source, caller)
            if value is _NOT_READ:
                return _NOT_READ
            if value is None:
                return _NOT_READ if non_null else None
            coerced = leaf_type.coerce_output_value(value)
        except Exception:  # noqa: BLE001  graphql-core's path reports it
            return _NOT_READ
        if coerced is Undefined or coerced is None:
            return _NOT_READ
        return coerced

    def execute_fields(
        self, parent_type, source_value, path, grouped_field_set, position_context
    ):
        """graphql-core's ``execute_fields``, with the fields that can be read read."""
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        read = self._read
        try:
            for response_name, field_details_list in grouped_field_set.items():
                value = read(parent_type, field_details_list, source_value)
                if value is not _NOT_READ:
                    results[response_name] = value
                    continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background(
                    [results[field] for field in awaitable_fields]
                )
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited_results = await gather_with_cancel(
                    *(results[field] for field in awaitable_fields)
                )
                results.update(zip(awaitable_fields, awaited_results, strict=True))
            return results

        return get_results()
