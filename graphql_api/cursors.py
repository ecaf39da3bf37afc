"""Connection cursors: opaque, signed, and bound to the list they came from.

A cursor names a position in one ordered list: the ordering values of a row and its
primary key (keyset pagination), not an offset. Paging on resumes strictly after (or
before) that position, so rows created, deleted or moved elsewhere while a client
pages never shift the rest: every row whose ordering value does not change is
returned exactly once.

The payload is JSON signed with the site's key (``django.core.signing``, salted for
this use): a version, a digest of what the cursor is bound to (the field, its
arguments other than the page ones, and the ordering), and the position. A cursor
that is malformed, tampered with, from another version, or from another field,
ordering or filter set is refused with ``BAD_CURSOR``; nothing about why it failed
to decode reaches the caller.
"""

import dataclasses
import hashlib
import json
from datetime import datetime
from enum import Enum
from typing import Any

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from .errors import ApiError

CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 8192  # a 255-character title, all non-ASCII, fits
_SALT = "graphql_api.cursor"
_PK_NAMES = ("pk", "id")


class BadCursor(ApiError):
    code = "BAD_CURSOR"


def _signer() -> signing.Signer:
    """Django's signing, salted for cursors: ``SECRET_KEY``, and
    ``SECRET_KEY_FALLBACKS`` while keys rotate."""
    return signing.Signer(salt=_SALT)


def _plain(value: Any) -> Any:
    """Arguments as JSON-able data, the same whether they came inline or as
    variables; null and omitted arguments alike are left out."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(
            {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        )
    if isinstance(value, dict):
        items = ((str(k), _plain(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return None  # strawberry's UNSET and anything else that is not an argument value


@dataclasses.dataclass(frozen=True)
class Keyset:
    """The ordering of a queryset as keyset terms: ``(name, descending)`` pairs ending
    with the primary key, which makes every position unique."""

    terms: tuple[tuple[str, bool], ...]

    @classmethod
    def of(cls, queryset: QuerySet) -> "Keyset":
        ordering = queryset.query.order_by or queryset.model._meta.ordering or ()
        terms = []
        for term in ordering:
            if not isinstance(term, str) or term.startswith("?"):
                raise TypeError(
                    f"Keyset pagination needs named orderings, not {term!r}"
                )
            name, descending = term.lstrip("-"), term.startswith("-")
            if name in _PK_NAMES:
                terms.append(("pk", descending))
                break
            terms.append((name, descending))
        else:
            terms.append(("pk", terms[-1][1] if terms else False))
        return cls(tuple(terms))

    def _alias(self, index: int) -> str:
        name = self.terms[index][0]
        return name if name == "pk" else f"_cursor_{index}"

    def annotate(self, queryset: QuerySet) -> QuerySet:
        """The ordering values selected with each row (as ``_cursor_<i>``), so that
        every row's cursor is known without another query."""
        return queryset.annotate(
            **{
                self._alias(i): F(name)
                for i, (name, _desc) in enumerate(self.terms)
                if name != "pk"
            }
        )

    def position(self, row) -> list:
        return [getattr(row, self._alias(i)) for i in range(len(self.terms))]

    def beyond(self, position: list, *, before: bool = False) -> Q:
        """Rows strictly after ``position`` in this ordering (before it, with
        ``before``): the lexicographic comparison of the terms, spelt out."""
        condition = Q()
        for i in reversed(range(len(self.terms))):
            descending = self.terms[i][1] != before
            lookup = f"{self._alias(i)}__{'lt' if descending else 'gt'}"
            step = Q(**{lookup: position[i]})
            if i < len(self.terms) - 1:
                step |= Q(**{self._alias(i): position[i]}) & condition
            condition = step
        return condition


@dataclasses.dataclass(frozen=True)
class CursorCodec:
    """Makes and reads the cursors of one connection resolution."""

    keyset: Keyset
    scope: str

    @classmethod
    def for_field(cls, field: str, arguments: dict, keyset: Keyset) -> "CursorCodec":
        bound = json.dumps(
            {"field": field, "arguments": _plain(arguments), "order": keyset.terms},
            sort_keys=True,
            separators=(",", ":"),
        )
        return cls(keyset, hashlib.sha256(bound.encode()).hexdigest()[:20])

    def encode(self, row) -> str:
        values = []
        for value in self.keyset.position(row):
            if isinstance(value, datetime):
                values.append({"t": value.isoformat()})
            elif isinstance(value, bool) or not isinstance(value, int | str):
                raise TypeError(f"Cannot put {type(value).__name__} in a cursor")
            else:
                values.append(value)
        payload = {"v": CURSOR_VERSION, "s": self.scope, "p": values}
        return _signer().sign_object(payload)

    def decode(self, cursor: str, argument: str) -> list:
        invalid = BadCursor(
            _("'%(argument)s' is not a valid cursor: use a cursor this list returned.")
            % {"argument": argument}
        )
        if not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
            raise invalid
        try:
            payload = _signer().unsign_object(cursor)
        except (signing.BadSignature, ValueError, TypeError):
            raise invalid from None
        if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
            raise BadCursor(
                _(
                    "'%(argument)s' is a cursor from an earlier version of the API: "
                    "start again from the first page."
                )
                % {"argument": argument}
            )
        if payload.get("s") != self.scope:
            raise BadCursor(
                _(
                    "'%(argument)s' is a cursor of another list: it belongs to other "
                    "filters or another ordering. Page with the arguments that "
                    "returned it, or start again from the first page."
                )
                % {"argument": argument}
            )
        values = payload.get("p")
        if not isinstance(values, list) or len(values) != len(self.keyset.terms):
            raise invalid
        try:
            return [_position_value(value) for value in values]
        except (TypeError, ValueError):
            raise invalid from None


def _position_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(value)
    return value
