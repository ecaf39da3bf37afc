"""The one shape of a domain service's refusal: a Django ``ValidationError`` (forms,
views and strawberry-django keep handling it as before) that carries a stable code
from its domain's enum (``tickets.errors``, ``accounts.errors``, ``kb.errors``).

Each code belongs to a legacy category, ``INVALID_STATE`` (the action does not apply
to the object as it is now) or ``INVALID_INPUT`` (an argument is refused): the API
answered with the category alone before the codes existed, and docs/graphql.md lists
every code under its category."""

from enum import StrEnum

from django.core.exceptions import ValidationError

INVALID_INPUT = "INVALID_INPUT"
INVALID_STATE = "INVALID_STATE"


class DomainCode(StrEnum):
    """Base of each domain's error-code enum. A member's value is its stable API code
    (UPPER_SNAKE, unique across domains); ``category`` is its legacy category."""

    def __new__(cls, value: str, category: str = INVALID_INPUT):
        member = str.__new__(cls, value)
        member._value_ = value
        member.category = category
        return member


class DomainError(ValidationError):
    """A service's expected failure: ``message`` (shown to the user, translated) with
    ``code`` (a ``DomainCode``), on ``field`` when the failure is about one input."""

    def __init__(self, message, code: DomainCode, *, field: str | None = None):
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
        else:
            super().__init__(message, code=code)
        self.domain_code = code
        self.field = field

    @property
    def text(self) -> str:
        """The one message, as the user reads it."""
        return self.messages[0]


class MessageAsText:
    """Mixin for a domain error that used to be a ``ValueError``: ``str(error)`` is
    its message (not ``ValidationError``'s list repr), as callers expect."""

    def __str__(self):
        return self.text


def domain_code_of(error) -> DomainCode | None:
    """The ``DomainCode`` a ``ValidationError`` (or one of its messages) carries."""
    code = getattr(error, "code", None)
    return code if isinstance(code, DomainCode) else None
