"""Errors raised by the ticket services.

A ticket the caller may not see raises ``TicketNotFound`` (a ``Ticket.DoesNotExist``):
views turn it into 404 and the API into "not found", exactly like a missing reference.
A visible ticket on which the action is not allowed raises ``PermissionDenied``.
Bad input, or an action the ticket's state excludes, raises ``tickets.errors.TicketError``
(a ``ValidationError`` with a ``TicketErrorCode``).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from .models import Ticket


class TicketNotFound(Ticket.DoesNotExist):
    pass


class PermissionDenied(DjangoPermissionDenied):
    pass
