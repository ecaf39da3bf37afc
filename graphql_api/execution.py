"""The executor of the schema: graphql-core's, with a shorter path for the columns of
our model types.

graphql-core resolves every field of a response the same way: a ``Path``, a resolve
info, the argument values, the resolver, then ``complete_value``'s type dispatch down
to the scalar's ``coerce_output_value``. For a page of 100 tickets that is some 600
plain columns (``reference``, ``subject``, ``status``, a comment's ``body`` …) and one
address per person, each paying ~20 Python calls (and an address strawberry's whole
resolver path: ``Info``, argument conversion, the field's ``get_result``) to read one
attribute (bench FINDINGS G-5).

Here a field is *read* when it has no arguments and is

* a basic ``ModelField`` on a plain column (``fields.ModelField``: no resolver, no
  extensions, not a file) of a leaf type (scalar or enum): the value the model
  instance holds, coerced with the field's type as ``complete_leaf_value`` does;
* a ``ViewerColumn`` without extensions: its own ``read(caller, row)``, the rule of
  the field's owner with the caller of the request (``context.caller_of``), coerced
  the same way;
* a basic ``ModelField`` on a forward foreign key (``requester``, ``author`` …): the
  related row the instance holds (``select_related``), then completed by
  graphql-core's ``complete_value`` (its type check, its sub-selection) with
  ``execute_field``'s error handling: only the resolver is skipped;
* a ``ModelField`` listing a reverse foreign key whole (``comments``,
  ``attachments``, ``events``): the rows the optimizer prefetched for the instance
  (the list ``fields.listed_whole`` assigned to it, or its queryset marked
  optimized by prefetching and evaluated: what the field's
  ``get_result`` returns then, without the manager, the queryset hook and
  strawberry's ``Info`` and argument conversion per ticket), completed the same way;
* a basic field of a plain strawberry type (``edges``, ``node``, ``cursor``): the
  resolver strawberry gave graphql-core, called as graphql-core would.

Objects and plain lists are completed by ``completion.ShortCompletion``.

Everything else takes graphql-core's path, and so does a read field whenever
anything is unusual: the value not loaded on the instance (deferred column, relation
not selected: the field's ``get_result`` loads it), a null for a non-null field, a
value the type refuses, any exception while reading, or a field middleware (none is
installed: ``extensions.FieldOptimizer``), a deferred selection (``@defer``). graphql-core then resolves it afresh and
reports the error with its path, as before. So the response, its errors and its key
order are graphql-core's; only where nothing can go wrong is the work skipped.
``Executor.reading = False`` takes graphql-core's path everywhere (the tests'
reference)."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import (
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
)
from graphql import (
    GraphQLNonNull,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_object_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import is_optimized_by_prefetching

from .completion import ShortCompletion
from .context import caller_of
from .fields import ModelField, ViewerColumn, listed_attr

_NOT_READ = object()
_NEVER_AWAITED = frozenset((dict, list, type(None)))  # completed objects and lists
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


def _relation_reader(field: ModelField) -> Callable[[Any, Any], Any] | None:
    """``read(row, caller)`` for a basic ``ModelField`` on a forward foreign key (to
    a type without ``get_queryset``: ``ModelField.is_basic_field``): the related row
    the instance holds (``select_related``), what the field's ``get_result`` returns
    when it is cached."""
    if type(field) is not ModelField or not field.is_basic_field:
        return None
    if not field.is_relation:
        return None
    model = field.origin_django_type.model
    cache_name = getattr(model, field.django_name or field.python_name).field.cache_name

    def read(row, caller):
        if not isinstance(row, model):
            return _NOT_READ
        return row._state.fields_cache.get(cache_name, _NOT_READ)

    return read


def _prefetched_reader(field: ModelField) -> Callable[[Any, Any], Any] | None:
    """``read(row, caller)`` for a ``ModelField`` on a reverse foreign key
    (``comments``, ``attachments``, ``events``) listed whole (no resolver, extension,
    pagination): the rows the optimizer prefetched for the instance, what the field's
    ``get_result`` returns when they are there (the manager's prefetched queryset,
    marked optimized by prefetching and evaluated: its type's ``get_queryset`` ran
    in the prefetch and is not run again; its result list)."""
    if type(field) is not ModelField or field.base_resolver is not None:
        return None
    if field.extensions or not field.is_list or field.is_connection:
        return None
    if field.is_paginated or field.origin_django_type is None:
        return None
    if type(field).get_queryset is not StrawberryDjangoField.get_queryset:
        return None
    model = field.origin_django_type.model
    attr = getattr(model, field.django_name or field.python_name, None)
    if not isinstance(attr, ReverseManyToOneDescriptor) or isinstance(
        attr, ManyToManyDescriptor
    ):
        return None
    cache_name = attr.field.remote_field.cache_name
    listed = listed_attr(field.django_name or field.python_name)

    def read(row, caller):
        if not isinstance(row, model):
            return _NOT_READ
        rows = row.__dict__.get(listed)
        if rows is not None:  # ``fields.listed_whole``: the optimizer's, assigned
            return rows
        rows = row.__dict__.get("_prefetched_objects_cache", {}).get(cache_name)
        if not isinstance(rows, QuerySet) or rows._result_cache is None:
            return _NOT_READ
        if not is_optimized_by_prefetching(rows):
            return _NOT_READ
        return rows._result_cache

    return read


def _attribute_reader(field, resolve) -> Callable[[Any, Any], Any] | None:
    """``read(row, caller)`` for a basic field of a plain strawberry type (a
    connection's ``edges``, an edge's ``node`` and ``cursor``): the resolver
    strawberry gave graphql-core for it (``_get_basic_result``: the attribute, no
    ``Info``), called as graphql-core would call it."""
    if type(field) is not StrawberryField or not field.is_basic_field:
        return None
    if not getattr(resolve, "_is_default", False):
        return None
    if field.default_resolver is getattr:  # what ``field.get_result`` calls
        name = field.python_name
        return lambda row, caller: getattr(row, name)
    return lambda row, caller: resolve(row)


def _reader_for(field_def) -> tuple | None:
    """(read, leaf or object type, non-null, leaf) when the field may be read, else
    None."""
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get(_DEFINITION)
    of_type, non_null = field_def.type, False
    if isinstance(of_type, GraphQLNonNull):
        of_type, non_null = of_type.of_type, True
    if not isinstance(definition, ModelField):
        read = _attribute_reader(definition, field_def.resolve)
    elif is_leaf_type(of_type):
        read = _column_reader(definition) or _viewer_reader(definition)
    elif is_object_type(of_type):
        read = _relation_reader(definition)
    elif is_list_type(of_type):
        read = _prefetched_reader(definition)
    else:
        read = None
    return None if read is None else (read, of_type, non_null, is_leaf_type(of_type))


class Executor(ShortCompletion, StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, reading plain columns directly (see the
    module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._readers: dict[tuple[str, str], tuple | None] = {}
        self._caller = _NOT_READ

    def _reader(self, parent_type, node) -> tuple | None:
        if node.arguments:
            return None
        key = (parent_type.name, node.name.value)
        try:
            return self._readers[key]
        except KeyError:
            name = node.name.value
            reader = None
            if not name.startswith("__"):
                reader = _reader_for(parent_type.fields.get(name))
            self._readers[key] = reader
            return reader

    def _read(self, parent_type, field_details_list, source):
        """The field's completed value (a leaf), the related row (an object), or
        ``_NOT_READ`` for graphql-core's path."""
        reader = self._reader(parent_type, field_details_list[0].node)
        return _NOT_READ if reader is None else self._read_with(reader, source)

    def _read_with(self, reader, source):
        read, of_type, non_null, leaf = reader
        try:
            caller = self._caller
            if caller is _NOT_READ:
                caller = self._caller = caller_of(self.context_value)
            value = read(source, caller)
            if value is _NOT_READ:
                return _NOT_READ
            if value is None:
                return _NOT_READ if non_null else None
            if not leaf:
                return value
            coerced = of_type.coerce_output_value(value)
        except Exception:  # noqa: BLE001  graphql-core's path reports it
            return _NOT_READ
        if coerced is Undefined or coerced is None:
            return _NOT_READ
        return coerced

    def _complete_related(
        self, parent_type, field_details_list, path, row, position_context
    ):
        """``execute_field`` for a relation whose row was read: graphql-core's
        ``complete_value`` (type check, sub-selection) and error handling, without
        the resolver."""
        field_def = parent_type.fields[field_details_list[0].node.name.value]
        return_type = field_def.type
        info = self.build_resolve_info(
            field_def, to_nodes(field_details_list), parent_type, path
        )
        try:
            completed = self.complete_value(
                return_type, field_details_list, info, path, row, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed():
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(
                    raw_error, return_type, field_details_list, path
                )
                return None

        return await_completed()

    def execute_fields(
        self, parent_type, source_value, path, grouped_field_set, position_context
    ):
        """graphql-core's ``execute_fields``, with the fields that can be read read."""
        middleware = self.middleware_manager
        if not self.reading or (middleware is not None and middleware.middlewares):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        reader_of, read = self._reader, self._read_with
        try:
            for response_name, field_details_list in grouped_field_set.items():
                reader = reader_of(parent_type, field_details_list[0].node)
                value = _NOT_READ if reader is None else read(reader, source_value)
                if value is not _NOT_READ:
                    if value is None or reader[3]:
                        results[response_name] = value
                        continue
                    result = self._complete_related(
                        parent_type,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        value,
                        position_context,
                    )
                    results[response_name] = result
                    if type(result) not in _NEVER_AWAITED and is_awaitable(result):
                        awaitable_fields.append(response_name)
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
