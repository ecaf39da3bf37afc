"""``{% live_stream %}``: the element and script that make a page update itself.

The page works the same without it (or without JavaScript): it only adds an
``EventSource`` on ``live``'s endpoints and, on the desk, the presence beat.
"""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("live/_stream.html", takes_context=True)
def live_stream(context, ticket=None, events=None, presence=False):
    """For a ticket page pass ``ticket`` and the ``events`` it rendered (their
    greatest id is where the stream resumes, so nothing between the render and the
    connection is lost); without ``ticket``, the stream of every visible ticket."""
    if ticket is not None:
        url = reverse("live:ticket_events", args=[ticket.reference])
        presence_url = (
            reverse("live:presence_beat", args=[ticket.reference]) if presence else ""
        )
    else:
        url, presence_url = reverse("live:inbox_events"), ""
    ids = [event.pk for event in events or ()]
    return {
        "url": url,
        "after": max(ids) if ids else None,
        "presence_url": presence_url,
        "csrf_token": context.get("csrf_token", ""),
    }
