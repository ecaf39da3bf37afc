"""``{% ticket_rows %}`` and ``{% kept_field %}`` (``tickets.templatetags.
portal_list_tags``) render the portal ticket table's former ``{% for %}`` loop and the
list's filter fields character for character: every status and priority (and unknown
ones), subjects and references that need escaping, requesters seen by themselves, a
colleague and an agent (a customer never sees an address), times aware in other zones,
across DST, just now and years ago, in each language and time zone, escaping on and
off, with and without the requester column."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from tickets.forms import TicketListFilterForm
from tickets.models import Priority, Status, Ticket
from tickets.templatetags import portal_list_tags

from .factories import make_customer

pytestmark = pytest.mark.django_db

LABELS = (
    '{% load i18n portal_tags portal_list_tags %}{% trans "Ticket" as label_ticket %}'
    '{% trans "Subject" as label_subject %}{% trans "Status" as label_status %}'
    '{% trans "Priority" as label_priority %}{% trans "Requester" as label_requester %}'
    '{% trans "Updated" as label_updated %}'
)
# the loop ``_ticket_table.html`` had, with its line breaks and indentation
FORMER_LOOP = (
    LABELS
    + """<tbody>
  {% for ticket in tickets %}{% with url=ticket.get_absolute_url %}
    <tr>
      <td data-label="{{ label_ticket }}" class="cell-ref"><a href="{{ url }}" class="ticket-ref">{{ ticket.reference }}</a></td>
      <td data-label="{{ label_subject }}" class="ticket-subject"><a href="{{ url }}">{{ ticket.subject }}</a></td>
      <td data-label="{{ label_status }}" class="cell-status"><span class="badge status status-{{ ticket.status|status_tone }}" data-status="{{ ticket.status }}">{{ ticket.status|status_label }}</span>
</td>
      <td data-label="{{ label_priority }}" class="cell-priority"><span class="priority priority-{{ ticket.priority }}">{{ ticket.priority|priority_label }}</span></td>
      {% if show_requester %}<td data-label="{{ label_requester }}" class="cell-requester">{{ ticket.requester|shown_to:user }}</td>{% endif %}
      <td data-label="{{ label_updated }}" class="cell-updated"><time datetime="{{ ticket.updated_at|date:'c' }}" title="{{ ticket.updated_at }}">{{ ticket.updated_at|ago }}</time></td>
    </tr>
  {% endwith %}{% endfor %}
  </tbody>"""  # noqa: E501 - the template's lines
)
NODE = LABELS + ("<tbody>\n  {% ticket_rows tickets user show_requester %}\n  </tbody>")


def whens() -> list[datetime]:
    """Times of the rows; those relative to now are 30 s into their minute, so the
    loop's and the node's "… ago" agree however long a test takes (under 30 s)."""
    now = datetime.now(UTC) - timedelta(seconds=30)
    return [
        now + timedelta(seconds=10),  # "0 minutes"
        now - timedelta(minutes=1),
        now - timedelta(hours=5, minutes=3),
        now - timedelta(days=1),
        now - timedelta(days=15, hours=2),
        now - timedelta(days=64),
        now - timedelta(days=800),
        now + timedelta(days=2),  # the future: "0 minutes"
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Warsaw's DST change
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Kolkata")),
    ]


SUBJECTS = ["Plain", "<b>Bold</b> & \"quoted\" 'single'", "100% {{ x }}", ""]


@pytest.fixture
def people(acme):
    alice = make_customer(acme, email="alice@acme.example", display_name="Alice <&>")
    bob = make_customer(acme, email="bob@acme.example", display_name="")
    carol = make_customer(acme, email="carol.o'hara@acme.example", display_name="")
    carol.first_name, carol.last_name = "Carol", "O'Hara"
    carol.save()
    return alice, bob, carol


def tickets_of(requesters) -> list[Ticket]:
    statuses = [*Status.values, "unknown"]
    priorities = [*Priority.values, "odd<"]
    made = []
    for n, when in enumerate(whens() * 2):
        ticket = Ticket(
            pk=n + 1,
            reference=f"HD-0<{n}>&",
            subject=SUBJECTS[n % len(SUBJECTS)],
            status=statuses[n % len(statuses)],
            priority=priorities[n % len(priorities)],
            requester=requesters[n % len(requesters)],
            updated_at=when,
        )
        made.append(ticket)
    made.append(
        Ticket(
            pk=99,
            reference="HD-safe",
            subject=mark_safe("<i>kept</i> &amp;"),  # noqa: S308 - conditional_escape's way
            status=Status.OPEN,
            priority=Priority.LOW,
            requester=requesters[0],
            updated_at=datetime.now(UTC),
        )
    )
    return made


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw", "America/New_York"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_ticket_rows_are_the_template_loop(people, agent, language, zone, autoescape):
    alice, bob, carol = people
    every = tickets_of([alice, bob, carol, agent])
    theirs, ours = Template(FORMER_LOOP), Template(NODE)
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        for user in (alice, bob, agent):
            for tickets in ([], None, every[:1], every, tuple(every[3:9])):
                for show in ({"show_requester": True}, {"show_requester": False}, {}):
                    context = {"tickets": tickets, "user": user, **show}
                    expected = theirs.render(Context(context, autoescape=autoescape))
                    got = ours.render(Context(context, autoescape=autoescape))
                    assert got == expected
        # nothing in the context: no rows, as the loop
        assert ours.render(Context({})) == theirs.render(Context({}))


def test_ticket_rows_never_show_a_customer_an_address(people, agent):
    alice, bob, carol = people
    html = Template(NODE).render(
        Context(
            {
                "tickets": tickets_of([bob, carol, agent]),
                "user": alice,
                "show_requester": True,
            }
        )
    )
    assert "@" not in html
    assert ">bob<" in html and ">Carol O&#x27;Hara<" in html and ">Alex Agent<" in html
    staff = Template(NODE).render(
        Context({"tickets": tickets_of([bob]), "user": agent, "show_requester": True})
    )
    assert ">bob@acme.example<" in staff


FORMER_FIELDS = "{{ form.q }}|{{ form.status }}|{{ form.scope }}|{{ form.order }}"
KEPT_FIELDS = (
    '{% load portal_list_tags %}{% kept_field form "q" %}|{% kept_field form "status" %}'
    '|{% kept_field form "scope" %}|{% kept_field form "order" %}'
)


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_kept_fields_are_the_forms_fields(language):
    portal_list_tags._KEPT_FIELDS.clear()
    initials = [
        {"q": "", "status": "open", "scope": "all", "order": "-updated"},
        {"q": "", "status": "closed", "scope": "mine", "order": "priority"},
        {"q": "", "status": "all", "scope": "organization", "order": "created"},
        {"q": '<b>"x"</b> & y', "status": "open", "scope": "all", "order": "-created"},
        {"q": "another", "status": "open", "scope": "all", "order": "-updated"},
        {},
    ]
    with translation.override(language):
        for _ in range(2):  # the second time from what was kept
            for initial in initials:
                form = TicketListFilterForm(initial=initial)
                context = Context({"form": form})
                assert Template(KEPT_FIELDS).render(context) == Template(
                    FORMER_FIELDS
                ).render(context)
            # a bound form (its own data) is the form's own markup
            bound = TicketListFilterForm({"q": "z<", "status": "bogus"})
            context = Context({"form": bound})
            assert Template(KEPT_FIELDS).render(context) == Template(
                FORMER_FIELDS
            ).render(context)
    # free text is never kept, only empty fields and the choices (key: form class,
    # language, name, value)
    assert {key[2:] for key in portal_list_tags._KEPT_FIELDS} <= {
        ("q", ""),
        *((name, None) for name in ("q", "status", "scope", "order")),
        *(("status", v) for v in ("open", "closed", "all")),
        *(("scope", v) for v in ("all", "mine", "organization")),
        *(("order", v) for v in ("-updated", "-created", "created", "priority")),
    }
