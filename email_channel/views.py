"""The original of an email, for the support team of its ticket only (404 otherwise)."""

from django.http import Http404, HttpResponse

from tickets import permissions
from tickets.exceptions import TicketNotFound

from .models import InboundMessage


def raw_message(request, pk: int):
    record = (
        InboundMessage.objects.filter(pk=pk, ticket__isnull=False)
        .select_related("ticket")
        .first()
    )
    if record is None:
        raise Http404("No such message.")
    try:
        # staff of the ticket only: the same rule as internal notes
        permissions.get_ticket_for(
            request.user, record.ticket.reference, "view_internal"
        )
    except TicketNotFound:
        raise Http404("No such message.") from None
    response = HttpResponse(bytes(record.raw), content_type="message/rfc822")
    response["Content-Disposition"] = (
        f'attachment; filename="{record.ticket.reference}-{record.pk}.eml"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
