"""The one connection type of the API: Relay cursors, totalCount, and a hard page cap.

strawberry's own check of ``first`` raises a bare ValueError, which the error masker
would hide; here a page size out of range is refused with a clear, typed error.

``totalCount`` is a separate ``COUNT``, run only when the field is selected, never
strawberry-django's ``COUNT(1) OVER ()`` on the page query: that window makes the
database produce every matching row before the ``LIMIT`` (50k tickets for an agent
of a large queue, ~250 ms) where the page alone takes a few milliseconds. A resolver
that can count its rows more cheaply than ``queryset.count()`` says how with
``count_with``."""

from collections.abc import Callable, Sized
from typing import Any

import strawberry
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info
from strawberry_django.pagination import get_total_count
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_edge_class

from .errors import ApiError

MAX_PAGE_SIZE = 100
_COUNTERS = "_connection_counters"


def _path_key(info: Info) -> tuple:
    return tuple(info.path.as_list())


def count_with(info: Info, counter: Callable[[], int]) -> None:
    """Make the connection returned by the resolver running under ``info`` answer
    ``totalCount`` (and ``last`` without ``before``) with ``counter()``, which must
    count exactly the rows of the queryset it returns. Called at most once, and only
    when needed."""
    info.context.__dict__.setdefault(_COUNTERS, {})[_path_key(info)] = counter


@strawberry.type(name="Connection", description="A page of items, with totalCount.")
class CappedConnection(DjangoListConnection[relay.NodeType]):
    counter: strawberry.Private[Callable[[], int] | None] = None
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
        limit = min(max_results or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= limit:
                raise ApiError(
                    f"'{name}' must be between 0 and {limit}.", code="PAGE_SIZE"
                )
        for name, value in (("after", after), ("before", before)):
            if value is not None and not 0 < len(value) <= 200:
                raise ApiError(f"'{name}' is not a valid cursor.", code="BAD_CURSOR")
        counter = info.context.__dict__.get(_COUNTERS, {}).pop(_path_key(info), None)
        # A nested connection has its page (and count) prefetched already: strawberry-
        # django's own resolution. Otherwise relay.ListConnection's slicing, without
        # DjangoListConnection's window count: the page query fetches first (or last)
        # + 1 rows, the extra one telling hasNextPage.
        nested = not isinstance(nodes, QuerySet) or (
            get_queryset_config(nodes).optimized_by_prefetching
        )
        base = super() if nested else super(DjangoListConnection, cls)
        counted = None
        try:
            if not nested and (last or 0) > 0 and before is None:
                # The last rows: count, then page from the end, as strawberry-django
                # does, but with our count.
                counted = counter() if counter is not None else nodes.count()
                prefix = resolve_edge_class(cls).CURSOR_PREFIX
                before = relay.to_base64(prefix, counted)
            conn = base.resolve_connection(
                nodes,
                info=info,
                before=before,
                after=after,
                first=first,
                last=last,
                max_results=limit,
                **kwargs,
            )
        except ValueError as exc:  # relay's own argument checks (cursor, ranges)
            raise ApiError(str(exc), code="BAD_REQUEST")
        if nested:
            return conn
        conn.nodes = nodes
        conn.counter = counter
        conn.counted = counted
        return conn


MAX_LIST_SIZE = 100
LIST_ARGUMENTS_HELP = f"at most {MAX_LIST_SIZE} a call (`first`), from `offset`"


def capped_list(queryset, first: int, offset: int):
    """One slice of a plain list field: ``first`` rows (0 to ``MAX_LIST_SIZE``) from
    ``offset``. The lists predate connections; the cap keeps them from answering with
    every row of a large install, and out-of-range values are refused, not clamped."""
    if not 0 <= first <= MAX_LIST_SIZE:
        raise ApiError(
            f"'first' must be between 0 and {MAX_LIST_SIZE}.", code="PAGE_SIZE"
        )
    if offset < 0:
        raise ApiError("'offset' must be 0 or more.", code="PAGE_SIZE")
    return queryset[offset : offset + first]
