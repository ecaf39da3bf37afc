"""The workspace's "Their other tickets" and "<organization>'s tickets" lists on the
page: each agent sees the other tickets they may see and no other (the statements
themselves: ``test_permission_shapes.py``)."""

import re

import pytest

from .factories import TicketFactory

pytestmark = pytest.mark.django_db


def lists(client, ticket):
    """The references in the two lists of ``ticket``'s workspace page, and whether
    each list said "None."."""
    html = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    card = html[html.index("Their other tickets") :]
    found = re.findall(r"<ul>(.*?)</ul>", card)[:2]
    return [
        (re.findall(r'href="/admin/helpdesk/tickets/([^/"]+)/"', ul), "None." in ul)
        for ul in found
    ]


def test_each_agent_lists_only_the_other_tickets_they_see(
    client, alice, acme, agent, other_agent, queue, other_queue, supervisor
):
    here = TicketFactory(requester=alice, queue=queue, organization=acme)
    same_queue = TicketFactory(requester=alice, queue=queue, organization=acme)
    billing = TicketFactory(requester=alice, queue=other_queue, organization=acme)
    client.force_login(agent)
    assert lists(client, here) == [([same_queue.reference], False)] * 2
    client.force_login(other_agent)
    assert lists(client, billing) == [([], True)] * 2
    client.force_login(supervisor)
    both = [billing.reference, same_queue.reference]
    assert lists(client, here) == [(both, False)] * 2
