"""graphql-core's value completion with a shorter path for objects and plain lists,
mixed into the schema's executor (``execution.Executor``).

``complete_value`` dispatches on the field's type for every value of a response: a
non-null wrapper, then the list, then for each item the non-null wrapper again and
the object (``is_type_of``, the collected sub-selection), some 15-25 Python calls
per object and per list before any field of it is resolved. A page of 100 tickets
completes ~300 objects and ~100 lists of comments that way (bench FINDINGS G-6).

Here, per return type (looked up once per request):

* an object type (``T`` or ``T!``) whose ``is_type_of`` (if any) is a plain function:
  a value that is not null, not an exception, and that ``is_type_of`` accepts goes
  straight to its collected sub-selection (``collect_subfields`` and
  ``execute_fields``, what ``complete_object_value`` reaches without a deferred
  fragment);
* a list type (``[T]``, ``[T]!``): a value that is a plain ``list``, outside a deferred
  or streamed selection, has each item completed by graphql-core's
  ``complete_list_item_value`` (its error handling per item) without
  ``complete_list_value``'s checks for async iterables and streams; awaitable items
  are awaited as ``complete_iterable_value`` awaits them.

Anything else (null, an exception, a value ``is_type_of`` refuses, a deferred or
streamed selection, another iterable, leaves, abstract types) is graphql-core's
``complete_value``, which reports errors with their paths as before."""

import inspect
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, Undefined, is_object_type
from graphql.execution.executor import collect_iterator_awaitables
from graphql.pyutils import gather_with_cancel

_OBJECT, _LIST = "object", "list"


def _completion_of(return_type) -> tuple | None:
    """(``_OBJECT``, the object type) or (``_LIST``, the item type), else None."""
    of_type = return_type
    if isinstance(of_type, GraphQLNonNull):
        of_type = of_type.of_type
    if isinstance(of_type, GraphQLList):
        return _LIST, of_type.of_type
    if not is_object_type(of_type):
        return None
    check = of_type.is_type_of
    if check is not None and (
        inspect.iscoroutinefunction(check) or inspect.isasyncgenfunction(check)
    ):
        return None
    return _OBJECT, of_type


class ShortCompletion:
    """``complete_value`` with the two short paths (see the module's docstring);
    ``reading = False`` on the class using it turns them off."""

    reading = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._completions: dict[Any, tuple | None] = {}
        self._streams: dict[int, tuple] = {}

    def complete_value(
        self, return_type, field_details_list, info, path, result, position_context
    ):
        completions = self._completions
        try:
            completion = completions[return_type]
        except KeyError:
            completion = completions[return_type] = _completion_of(return_type)
        if (
            completion is not None
            and self.reading
            and position_context is None
            and result is not None
            and result is not Undefined
            and not isinstance(result, Exception)
        ):
            kind, of_type = completion
            if kind is _OBJECT:
                is_type_of = of_type.is_type_of
                if is_type_of is None or is_type_of(result, info) is True:
                    grouped, new_defer_usages, _ = self.collect_subfields(
                        of_type, field_details_list
                    )
                    if not new_defer_usages:
                        return self.execute_fields(
                            of_type, result, path, grouped, position_context
                        )
                    return self.execute_collected_subfields(
                        of_type,
                        result,
                        path,
                        grouped,
                        new_defer_usages,
                        position_context,
                    )
            elif type(result) is list and not self._streamed(field_details_list, path):
                return self._complete_list(
                    of_type, field_details_list, info, path, result
                )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _streamed(self, field_details_list, path) -> bool:
        """Whether graphql-core would stream the list (``get_stream_usage``: never
        an inner list of a list), asked once per field of the request (its
        ``@stream`` and the variables are fixed)."""
        if isinstance(path.key, int):
            return False
        key = id(field_details_list)
        known = self._streams.get(key)
        if known is None:
            usage = self.get_stream_usage(field_details_list, path)
            # the list is kept alive with its answer, so that its id is not reused
            known = self._streams[key] = (field_details_list, usage is not None)
        return known[1]

    def _complete_list(self, item_type, field_details_list, info, path, items):
        """``complete_iterable_value`` of a plain list, never streamed."""
        is_awaitable = self.is_awaitable
        complete_item = self.complete_list_item_value
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    completed.append(
                        self.complete_awaitable_list_item_value(
                            item, item_type, field_details_list, info, item_path, None
                        )
                    )
                    awaitable_indices.append(index)
                elif complete_item(
                    item,
                    completed,
                    item_type,
                    field_details_list,
                    info,
                    item_path,
                    None,
                ):
                    awaitable_indices.append(index)
                index += 1
        except Exception:
            pending = [completed[i] for i in awaitable_indices]
            pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if pending:
                self.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                i = awaitable_indices[0]
                completed[i] = await completed[i]
            else:
                awaited = await gather_with_cancel(
                    *(completed[i] for i in awaitable_indices)
                )
                for i, value in zip(awaitable_indices, awaited, strict=True):
                    completed[i] = value
            return completed

        return get_completed_results()
