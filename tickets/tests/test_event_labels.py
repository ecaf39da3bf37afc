"""History shows labels, not stored codes: "Created: New", "Status changed: New →
Open", "SLA breached: First response"."""

import re

import pytest

from tickets import services
from tickets.models import Priority, Status, TicketEvent, choices

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


def test_value_labels_are_the_choices_labels_in_every_language():
    """``old_label`` / ``new_label`` of the kinds that change a status or a priority
    answer what the former rule did (``str(dict(<choices>.choices).get(value,
    value))``), in every language, for every value, an unknown one and the empty one."""
    from django.utils import translation

    kinds = {
        "created": Status,
        "status_changed": Status,
        "auto_closed": Status,
        "priority_changed": Priority,
    }
    for language in ("en", "pl", "ru", "en"):
        with translation.override(language):
            for kind, labels in kinds.items():
                for value in [v for v, _label in labels.choices] + ["bogus"]:
                    event = TicketEvent(kind=kind, old_value=value, new_value=value)
                    former = str(dict(labels.choices).get(value, value))
                    assert event.old_label == event.new_label == former
                    assert type(event.new_label) is str
                assert TicketEvent(kind=kind, new_value="").new_label == ""
    with translation.override("ru"):
        assert TicketEvent(kind="created", new_value="new").new_label != "New"


def test_display_labels_are_what_django_s_generated_ones_answer():
    """``Ticket.get_{status,priority,category}_display`` and
    ``TicketEvent.get_kind_display`` (``choice_label``: one label translated, not
    all) answer exactly what Django's generated methods do, in every language, for
    every choice, an unknown value and the empty one."""
    from django.db.models import Model
    from django.utils import translation

    from tickets.models import Ticket

    fields = [(Ticket, "status"), (Ticket, "priority"), (Ticket, "category")]
    fields.append((TicketEvent, "kind"))
    checked = 0
    choices._LABELS.clear()
    # twice over the languages: translated, then as kept per language
    for language in ("en", "pl", "ru", "en", "ru", "pl"):
        with translation.override(language):
            for model, name in fields:
                field = model._meta.get_field(name)
                for value in [v for v, _label in field.choices] + ["bogus", ""]:
                    row = model(**{name: value})
                    mine = getattr(row, f"get_{name}_display")()
                    assert mine == Model._get_FIELD_display(row, field)
                    assert type(mine) is str
                    checked += 1
    # members only are kept: (4 fields' choices) x 3 languages, no unknown value
    sizes = sum(len(model._meta.get_field(name).choices) for model, name in fields)
    assert len(choices._LABELS) == sizes * 3
    for language in ("en", "pl", "ru"):
        with translation.override(language):
            assert Ticket(status="new").get_status_display() == str(
                Ticket._meta.get_field("status").choices[0][1]
            )
    assert checked > 6 * 40
    with translation.override("ru"):
        assert Ticket(status="new").get_status_display() != "New"
