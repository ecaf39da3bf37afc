"""The one connection type of the API: keyset cursors, totalCount, and a hard page cap.

Every connection pages by keyset (see ``cursors``): the resolver returns a queryset
ordered by named fields or annotations, ``CappedConnection`` adds the primary key as
the last term if it is missing, selects the ordering values with the page and
continues strictly after (``after``) or before (``before``) the position a cursor
names. Cursors are signed and bound to the field, its filters and its ordering; a
malformed or foreign cursor is refused with ``BAD_CURSOR``.

strawberry's own check of ``first`` raises a bare ValueError, which the error masker
would hide; here a page size out of range is refused with a clear, typed error.

``totalCount`` is a separate ``COUNT``, run only when the field is selected, never
strawberry-django's ``COUNT(1) OVER ()`` on the page query: that window makes the
database produce every matching row before the ``LIMIT`` (50k tickets for an agent
of a large queue, ~250 ms) where the page alone takes a few milliseconds. A resolver
that can count its rows more cheaply than ``queryset.count()`` says how with
``count_with``."""

import functools
from collections.abc import Callable, Sized
from typing import Any

import strawberry
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from strawberry import relay
from strawberry.relay.utils import should_resolve_list_connection_edges
from strawberry.types import Info
from strawberry_django.pagination import get_total_count
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_edge_class

from .cursors import CursorCodec, Keyset
from .errors import ApiError

MAX_PAGE_SIZE = 100
_COUNTERS = "_connection_counters"


def _path_key(info: Info) -> tuple:
    return tuple(info.path.as_list())


def count_with(
    info: Info,
    counter: Callable[[], int],
    up_to: Callable[[int], int] | None = None,
) -> None:
    """Make the connection returned by the resolver running under ``info`` answer
    ``totalCount`` with ``counter()``, which must count exactly the rows of the
    queryset it returns. Called at most once, and only when needed. ``up_to(n)``, for
    a ``CountedConnection``'s ``totalCountUpTo``: the same rows counted no further
    than ``n`` (``min(counter(), n)``)."""
    info.context.__dict__.setdefault(_COUNTERS, {})[_path_key(info)] = (
        counter,
        up_to,
    )


@strawberry.type(name="Connection", description="A page of items, with totalCount.")
class CappedConnection(DjangoListConnection[relay.NodeType]):
    counter: strawberry.Private[Callable[[], int] | None] = None
    counter_up_to: strawberry.Private[Callable[[int], int] | None] = None
    counted: strawberry.Private[int | None] = None

    @strawberry.field(description="Total quantity of existing nodes.")
    def total_count(self) -> int | None:
        if self.counted is None:
            if self.counter is not None:
                self.counted = self.counter()
            elif isinstance(self.nodes, QuerySet):
                self.counted = get_total_count(self.nodes)
            else:
                return len(self.nodes) if isinstance(self.nodes, Sized) else None
        return self.counted

    @classmethod
    def resolve_connection(
        cls,
        nodes,
        *,
        info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        max_results: int | None = None,
        **kwargs: Any,
    ):
        if not isinstance(nodes, QuerySet):
            raise TypeError("CappedConnection pages querysets only")
        limit = min(max_results or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= limit:
                raise ApiError(
                    _("'%(name)s' must be between 0 and %(limit)d.")
                    % {"name": name, "limit": limit},
                    code="PAGE_SIZE",
                )
        keyset = Keyset.of(nodes)
        codec = CursorCodec.for_field(info.field_name, kwargs, keyset)
        page = keyset.annotate(nodes)
        if after is not None:
            page = page.filter(keyset.beyond(codec.decode(after, "after")))
        if before is not None:
            page = page.filter(
                keyset.beyond(codec.decode(before, "before"), before=True)
            )
        counter, up_to = info.context.__dict__.get(_COUNTERS, {}).pop(
            _path_key(info), (None, None)
        )
        if should_resolve_list_connection_edges(info):
            rows, has_previous, has_next = _slice(
                page, first, last, limit, after=after, before=before
            )
        else:
            rows, has_previous, has_next = [], False, False
        edge_class = _signed_when_read(resolve_edge_class(cls))
        edges = [
            edge_class.of(row, codec, cls.resolve_node(row, info=info, **kwargs))
            for row in rows
        ]
        return cls(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=has_next,
                has_previous_page=has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            nodes=nodes,
            counter=counter,
            counter_up_to=up_to,
        )


@functools.cache
def _signed_when_read(edge_class: type) -> type:
    """``edge_class`` whose ``cursor`` is signed when something reads it (the
    response, or ``pageInfo``'s start and end): a page of 100 whose document selects
    no cursor signs none (one HMAC each, bench FINDINGS G-3). The value is what
    ``codec.encode(row)`` gave when it was signed eagerly, and is signed once."""

    class SignedWhenRead(edge_class):
        @classmethod
        def of(cls, row, codec: CursorCodec, node):
            edge = cls.__new__(cls)
            edge.node = node
            edge._row, edge._codec = row, codec
            return edge

        @property
        def cursor(self) -> str:
            signed = self.__dict__.get("_cursor")
            if signed is None:
                signed = self.__dict__["_cursor"] = self._codec.encode(self._row)
            return signed

    SignedWhenRead.__name__ = SignedWhenRead.__qualname__ = edge_class.__name__
    return SignedWhenRead


MAX_COUNT_LIMIT = 10_000


@strawberry.type(
    name="CountUpTo",
    description="The number of items counted up to a limit: `count` is exact when "
    "`exact` is true, else there are more than `count` (= the limit).",
)
class CountUpTo:
    count: int = strawberry.field(description="The number of items, at most the limit.")
    exact: bool = strawberry.field(
        description="False when there are more items than the limit."
    )


@strawberry.type(name="Connection", description="A page of items, with totalCount.")
class CountedConnection(CappedConnection[relay.NodeType]):
    """A connection whose resolver also says how to count up to a limit
    (``count_with(..., up_to=...)``): ``totalCountUpTo`` beside the exact
    ``totalCount``, for lists whose exact size grows with the data (bench FINDINGS
    G-4)."""

    @strawberry.field(
        description="The number of items counted up to `limit` (1 to "
        f"{MAX_COUNT_LIMIT}): its cost follows the limit, not the size of the list. "
        "`totalCount` is the exact size."
    )
    def total_count_up_to(self, limit: int = 1000) -> CountUpTo:
        if not 1 <= limit <= MAX_COUNT_LIMIT:
            raise ApiError(
                _("'limit' must be between 1 and %(max)d.") % {"max": MAX_COUNT_LIMIT},
                code="INVALID_INPUT",
            )
        if self.counted is not None:
            n = min(self.counted, limit + 1)
        elif self.counter_up_to is not None:
            n = self.counter_up_to(limit + 1)
        else:
            raise TypeError("CountedConnection: the resolver gave no up_to counter")
        return CountUpTo(count=min(n, limit), exact=n <= limit)


def _slice(page: QuerySet, first, last, limit, *, after, before):
    """One page of ``page`` (already narrowed by the cursors), fetching one row more
    than asked to tell whether the list goes on. Paging forward, hasPreviousPage says
    whether ``after`` was given; backward, hasNextPage whether ``before`` was (the
    Relay specification allows both, and they cost no query)."""
    if last is not None and first is None:
        rows = list(page.reverse()[: last + 1])
        has_previous = len(rows) > last
        rows = rows[:last]
        rows.reverse()
        return rows, has_previous, before is not None
    size = limit if first is None else first
    rows = list(page[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    has_previous = after is not None
    if last is not None and len(rows) > last:
        rows, has_previous = rows[len(rows) - last :], True
    return rows, has_previous, has_next


MAX_LIST_SIZE = 100
LIST_ARGUMENTS_HELP = f"at most {MAX_LIST_SIZE} a call (`first`), from `offset`"


def capped_list(queryset, first: int, offset: int):
    """One slice of a plain list field: ``first`` rows (0 to ``MAX_LIST_SIZE``) from
    ``offset``. The lists predate connections; the cap keeps them from answering with
    every row of a large install, and out-of-range values are refused, not clamped."""
    if not 0 <= first <= MAX_LIST_SIZE:
        raise ApiError(
            _("'first' must be between 0 and %(max)s.") % {"max": MAX_LIST_SIZE},
            code="PAGE_SIZE",
        )
    if offset < 0:
        raise ApiError(_("'offset' must be 0 or more."), code="PAGE_SIZE")
    return queryset[offset : offset + first]
