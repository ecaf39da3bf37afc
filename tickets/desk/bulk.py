"""Bulk actions from the inbox: one service call per ticket, each in its own
transaction, so one refusal does not undo the others and every ticket gets its own
event. Failures are reported per ticket."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from .. import actions, permissions, services
from ..exceptions import TicketNotFound


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def resolve_assignee(actor, value: str):
    """``me``, ``none`` or an email address → a user (or None); unknown raises."""
    value = (value or "").strip()
    if value.lower() in ("", "none"):
        return None
    if value.lower() == "me":
        return actor
    user = get_user_model().objects.filter(email__iexact=value, is_active=True).first()
    if user is None:
        raise ValidationError(
            {
                "assignee": _("No active user with the email %(email)s.")
                % {"email": value}
            }
        )
    return user


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Not allowed.")


def apply(
    actor, references, action: str, *, assignee=None, status="", priority="", tags=""
):
    """Run ``action`` on each referenced ticket through its service."""
    result = BulkResult()
    new_tags = services.normalize_tags(tags) if action == "tags" else []
    for reference in dict.fromkeys(str(r).strip().upper() for r in references):
        try:
            ticket = permissions.get_ticket_for(actor, reference)
            if action == "assign":
                services.assign(actor, ticket, assignee)
            elif action == "status":
                actions.for_status(status).execute(actor, ticket, status=status)
            elif action == "priority":
                services.change_priority(actor, ticket, priority)
            elif action == "tags":
                services.set_tags(actor, ticket, [*ticket.tags.names(), *new_tags])
            else:
                raise ValueError(f"Unknown bulk action {action!r}")
        except TicketNotFound:
            result.failed.append((reference, _("No such ticket.")))
        except (PermissionDenied, ValidationError) as exc:
            result.failed.append((reference, _message(exc)))
        else:
            result.done.append(reference)
    return result
