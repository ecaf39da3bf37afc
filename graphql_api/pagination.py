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
