"""The one connection type of the API: Relay cursors, totalCount, and a hard page cap.

strawberry's own check of ``first`` raises a bare ValueError, which the error masker
would hide; here a page size out of range is refused with a clear, typed error."""

from typing import Any

import strawberry
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

from .errors import ApiError

MAX_PAGE_SIZE = 100


@strawberry.type(name="Connection", description="A page of items, with totalCount.")
class CappedConnection(DjangoListConnection[relay.NodeType]):
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
        try:
            return super().resolve_connection(
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
