"""Input checks shared by resolvers, and the translation of expected failures into
mutation payloads.

Queries refuse malformed input with a typed GraphQL error (ApiError); mutations turn
the same failures, and the domain services' own errors, into ``OperationInfo``
messages, so that an integrator never sees a 500 for bad input."""

import re
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError

from .errors import ApiError, AuthenticationRequired, ScopeRequired

SLUG_RE = re.compile(r"^[-\w]+$")


class InvalidInput(ApiError):
    code = "INVALID_INPUT"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def clean_text(
    value: str | None, field: str, *, max_length: int, required: bool = True
) -> str:
    # NUL characters go: PostgreSQL refuses them in text, even in a lookup.
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise InvalidInput(f"'{field}' must not be empty.", field)
    if len(value) > max_length:
        raise InvalidInput(f"'{field}' must be at most {max_length} characters.", field)
    return value


def clean_slug(value: str | None, field: str, *, max_length: int = 255) -> str:
    value = clean_text(value, field, max_length=max_length)
    if not SLUG_RE.match(value):
        raise InvalidInput(f"'{field}' is not a valid slug.", field)
    return value


@contextmanager
def as_mutation_error(*domain_errors: type[Exception]):
    """Re-raise expected failures as the Django errors strawberry-django turns into
    OperationInfo (VALIDATION / PERMISSION messages). ``domain_errors`` are a
    service's own exception classes whose messages are safe to show."""
    try:
        yield
    except (AuthenticationRequired, ScopeRequired) as exc:
        raise PermissionDenied(str(exc))
    except InvalidInput as exc:
        if exc.field:
            raise ValidationError({exc.field: [str(exc)]})
        raise ValidationError(str(exc))
    except ApiError as exc:
        raise ValidationError(str(exc))
    except domain_errors as exc:
        raise ValidationError(_messages(exc))


def _messages(exc: Exception):
    if isinstance(exc, ValidationError):
        return exc
    return str(exc)
