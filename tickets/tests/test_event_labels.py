"""History shows labels, not stored codes: "Created: New", "Status changed: New →
Open", "SLA breached: First response"."""

import re

import pytest

from tickets import services
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def _history(html):
    block = re.search(r'<ol class="desk-history"[^>]*>(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).split(" · ")[-1]
        for item in items
    ]


def test_event_value_labels_come_from_the_model_choices(ticket, agent):
    services.change_priority(agent, ticket, "critical")
    services.change_status(agent, ticket, "waiting_on_customer")
    breach = TicketEvent(kind="sla_breached", new_value="first_response")
    labels = {(e.kind, e.old_label, e.new_label) for e in ticket.events.all()} | {
        (breach.kind, breach.old_label, breach.new_label)
    }
    assert ("created", "", "New") in labels
    assert ("priority_changed", "Medium", "Critical") in labels
    assert ("status_changed", "New", "Waiting on customer") in labels
    assert ("sla_breached", "", "First response") in labels
    # Values that are not codes (tags, e-mail addresses) are shown as they are.
    assert TicketEvent(kind="tags_changed", new_value="vip, urgent").new_label == (
        "vip, urgent"
    )


def test_desk_history_shows_labels_not_codes(client, agent, ticket):
    services.change_status(agent, ticket, "in_progress")
    client.force_login(agent)
    html = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    assert _history(html) == ["Created: New", "Status changed: New → In progress"]
    assert "— →" not in html
