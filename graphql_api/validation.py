"""Input checks shared by resolvers, and the translation of expected failures into
mutation payloads.

Queries refuse malformed input with a typed GraphQL error (ApiError); mutations turn
the same failures, and the domain services' own errors, into ``OperationInfo``
messages, so that an integrator never sees a 500 for bad input."""

import re
from contextlib import contextmanager

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from portal import ratelimits
from portal.domain_errors import domain_code_of

from .errors import ApiError, AuthenticationRequired, ScopeRequired

SLUG_RE = re.compile(r"^[-\w]+$")


def is_encodable(text: str) -> bool:
    """False when ``text`` holds an unpaired surrogate (U+D800 to U+DFFF), which JSON
    escapes (``"\\ud800"``) can carry into a Python string but no database, file or
    e-mail can store: encoding it raises ``UnicodeEncodeError``."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unencodable_text_at(value, path: str = "") -> str | None:
    """Where the first string of ``value`` (JSON data: dicts, lists and strings,
    keys included) that ``is_encodable`` refuses sits, as ``path.key[index]``;
    None when all the text is encodable. Iterative: JSON nests deeper than the
    interpreter's recursion limit allows."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if not is_encodable(item):
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and not is_encodable(key):
                    return where or "."
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))
    return None


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
        raise InvalidInput(
            _("'%(field)s' must not be empty.") % {"field": field}, field
        )
    if len(value) > max_length:
        raise InvalidInput(
            _("'%(field)s' must be at most %(max_length)s characters.")
            % {"field": field, "max_length": max_length},
            field,
        )
    return value


def clean_slug(value: str | None, field: str, *, max_length: int = 255) -> str:
    value = clean_text(value, field, max_length=max_length)
    if not SLUG_RE.match(value):
        raise InvalidInput(
            _("'%(field)s' is not a valid slug.") % {"field": field}, field
        )
    return value


# ``OperationMessage.code`` of the failures a mutation reports (docs/graphql.md lists
# them). A domain service's ``DomainError`` keeps its own code (``tickets.errors``,
# ``accounts.errors``, ``kb.errors``); any other ValidationError is mapped onto these:
# ``code="state"`` is INVALID_STATE, anything else bad input.
INVALID_INPUT = "INVALID_INPUT"
INVALID_STATE = "INVALID_STATE"
NOT_FOUND = "NOT_FOUND"
PERMISSION_DENIED = "PERMISSION_DENIED"
RATE_LIMITED = "RATE_LIMITED"
_SERVICE_CODES = {"state": INVALID_STATE}
_KEPT_CODES = {INVALID_INPUT, INVALID_STATE, RATE_LIMITED, "PAGE_SIZE", "BAD_CURSOR"}


@contextmanager
def as_mutation_error(*domain_errors: type[Exception], info=None):
    """Re-raise expected failures as the Django errors strawberry-django turns into
    OperationInfo (VALIDATION / PERMISSION / ERROR messages), each with a ``code``.
    ``domain_errors`` are a service's own exception classes whose messages are safe
    to show. A ``DomainError`` (a ValidationError) keeps its domain code, so the
    message's ``kind`` stays VALIDATION and its ``code`` is the specific one. A rate limit (``portal.ratelimits.RateLimited``) is ``RATE_LIMITED``;
    given the resolver's ``info``, its delay also reaches the response's
    ``extensions.retryAfter`` (see ``extensions.RetryAfter``)."""
    try:
        yield
    except ratelimits.RateLimited as exc:
        if info is not None:
            note_retry_after(info, exc.retry_after)
        raise ValidationError(str(exc), code=RATE_LIMITED) from exc
    except (AuthenticationRequired, ScopeRequired) as exc:
        raise _coded(PermissionDenied(str(exc)), exc.extensions["code"]) from exc
    except InvalidInput as exc:
        error = ValidationError(str(exc), code=INVALID_INPUT)
        raise (ValidationError({exc.field: [error]}) if exc.field else error) from exc
    except ApiError as exc:
        raise ValidationError(str(exc), code=exc.extensions["code"]) from exc
    except ValidationError as exc:
        raise _with_codes(exc) from exc
    except PermissionDenied as exc:
        raise _coded(exc, PERMISSION_DENIED)
    except ObjectDoesNotExist as exc:
        raise _coded(exc, NOT_FOUND)
    except domain_errors as exc:
        raise _with_codes(ValidationError(str(exc))) from exc


def note_retry_after(info, seconds: int) -> None:
    """Record on the request that the caller should wait ``seconds`` (the longest of
    the operation's waits wins)."""
    context = info.context
    context.retry_after = max(getattr(context, "retry_after", 0) or 0, int(seconds))


def _coded(error: Exception, code: str) -> Exception:
    error.code = code  # strawberry-django reads OperationMessage.code from here
    return error


def _code_of(error: ValidationError) -> str:
    domain_code = domain_code_of(error)
    if domain_code is not None:
        return domain_code.value
    code = getattr(error, "code", None)
    if code in _KEPT_CODES:
        return code
    return _SERVICE_CODES.get(code, INVALID_INPUT)


def _with_codes(exc: ValidationError) -> ValidationError:
    """``exc`` with every message carrying an API code."""

    def coded(error: ValidationError) -> ValidationError:
        return ValidationError(error.message, code=_code_of(error), params=error.params)

    if hasattr(exc, "error_dict"):
        return ValidationError(
            {
                field: [coded(e) for e in errors]
                for field, errors in exc.error_dict.items()
            }
        )
    errors = [coded(e) for e in exc.error_list]
    if len(errors) == 1:
        return errors[0]
    # strawberry-django gives every non-field message the code of the list itself
    return _coded(ValidationError(errors), INVALID_INPUT)
