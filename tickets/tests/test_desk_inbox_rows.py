"""The inbox's rows and staff lists rendered in one node each
(``{% inbox_rows %}``, ``{% staff_options %}``, ``{% staff_datalist %}`` in
``tickets.templatetags.desk_tags``): character for character the template's former
markup, in each language, with values that need escaping, autoescape on and off; the
staff lists kept per staff list (a changed list is shown at once)."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

from tickets.desk import inbox, kept_fields
from tickets.models import Priority, Status, Ticket

from .factories import TicketFactory

# The former loop body of ``templates/tickets/desk/inbox.html``, with its whitespace.
FORMER_ROW = (
    "{% for row in rows %}"
    """
                    <tr class="desk-row desk-row--{{ row.priority }}" data-reference="{{ row.reference }}">
                        {% if may_act %}<td><input type="checkbox" name="references" value="{{ row.reference }}" aria-label="{{ row.select_label }}"></td>{% endif %}
                        <td class="desk-nowrap"><a href="{{ row.url }}">{{ row.reference }}</a></td>
                        <td><a href="{{ row.url }}">{{ row.subject }}</a>{% for tag in row.tags %} <span class="desk-tag">{{ tag }}</span>{% endfor %}{% if row.snippet %}<p class="desk-snippet">{{ row.snippet }}</p>{% endif %}</td>
                        <td>{{ row.requester }}</td>
                        <td>{{ row.organization }}</td>
                        <td><span class="desk-status desk-status--{{ row.status }}">{{ row.status_label }}</span></td>
                        <td><span class="desk-priority desk-priority--{{ row.priority }}">{{ row.priority_label }}</span></td>
                        <td>{{ row.assignee }}</td>
                        <td class="desk-nowrap">{% if row.sla_state == "none" %}—{% else %}<span class="desk-sla desk-sla--{{ row.sla_state }}">{{ row.sla_label }}</span>{% endif %}{% if row.due_iso %}<br><time datetime="{{ row.due_iso }}">{{ row.due_text }}</time>{% endif %}</td>
                        <td class="desk-nowrap"><time datetime="{{ row.updated_iso }}">{{ row.updated_text }}</time></td>
                    </tr>
                """  # noqa: E501
    "{% endfor %}"
)
TAG_ROW = "{% load desk_tags %}{% inbox_rows rows may_act %}"
# The whole list as the inbox template prints it now, and as its former loop did
# (with the "no tickets" line of ``{% empty %}``)
EMPTY_LINE = """
                    <tr><td colspan="10">{{ empty }}</td></tr>
                """
TAG_ROWS = (
    "{% load desk_tags %}<tbody>\n                {% inbox_rows rows may_act %}"
    "{% if not rows %}" + EMPTY_LINE + "{% endif %}\n            </tbody>"
)
FORMER_ROWS = (
    "<tbody>\n                "
    + FORMER_ROW.removesuffix("{% endfor %}")
    + "{% empty %}"
    + EMPTY_LINE
    + "{% endfor %}"
    + "\n            </tbody>"
)

FORMER_OPTIONS = (
    '{% for pk, email, name in staff %}<option value="{{ pk }}" {% if assignee_value'
    " == pk %}selected{% endif %}>{{ name }}</option>{% endfor %}"
)
TAG_OPTIONS = "{% load desk_tags %}{% staff_options staff assignee_value %}"
FORMER_DATALIST = (
    '{% for pk, email, name in staff %}<option value="{{ email }}">{{ name }}'
    "</option>{% endfor %}"
)
TAG_DATALIST = "{% load desk_tags %}{% staff_datalist staff %}"

NASTY = "<b>\"Q&A\"</b> 'x' {{ y }} 100%"


def row(**changes):
    fields = {
        "ticket": None,
        "due": None,
        "reference": "HD-0<1>",
        "select_label": f"Select {NASTY}",
        "url": "/admin/helpdesk/tickets/HD-1/?a=1&b=<2>",
        "subject": NASTY,
        "tags": (),
        "requester": NASTY,
        "organization": "—",
        "status": Status.OPEN,
        "status_label": "Open & <new>",
        "priority": Priority.HIGH,
        "priority_label": "High",
        "assignee": "—",
        "due_iso": "",
        "due_text": "",
        "sla_state": "none",
        "sla_label": "No target",
        "updated_iso": "2026-12-05T08:00:00+00:00",
        "updated_text": "5 Dec, 08:00",
        "snippet": "",
    }
    return inbox.InboxRow(**{**fields, **changes})


def hand_rows():
    yield row()
    yield row(tags=("a&b", "<t>", "plain"), organization=NASTY, assignee=NASTY)
    yield row(snippet=mark_safe("before <mark>word</mark> &amp; after"))
    yield row(snippet="unsafe <mark>text</mark> & more")
    yield row(sla_state="breached", sla_label="<Overdue>", due_iso="x<1>")
    yield row(sla_state="running", due_iso="2026-12-05T09:00:00+01:00", due_text="9&")
    yield row(status="weird<status>", priority='odd"prio', reference="")
    yield row(sla_state="x&y", sla_label="A&B", due_iso="d", due_text="<t>")


def assert_same(rows, language):
    pairs = (
        (Template(TAG_ROW), Template(FORMER_ROW)),
        (Template(TAG_ROWS), Template(FORMER_ROWS)),
    )
    with translation.override(language):
        for ours, theirs in pairs:
            for may_act in (True, False, "", None):
                for autoescape in (True, False):
                    context = {"rows": rows, "may_act": may_act, "empty": "No <t>"}
                    expected = theirs.render(Context(context, autoescape=autoescape))
                    got = ours.render(Context(context, autoescape=autoescape))
                    assert got == expected


def test_no_rows_print_the_empty_line_as_before():
    for rows in ([], (), None):
        assert_same(rows, "en")
    html = Template(TAG_ROWS).render(Context({"rows": [], "empty": "None <here>"}))
    assert '<td colspan="10">None &lt;here&gt;</td>' in html


def test_cells_that_are_not_plain_text_are_escaped_one_by_one():
    from django.utils.translation import gettext_lazy

    assert_same(
        [
            row(subject="a\x00<b>"),  # the separator itself
            row(requester=mark_safe("<b>safe</b>"), assignee=gettext_lazy("Open")),
            row(),
        ],
        "pl",
    )


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_inbox_row_is_the_former_markup(language):
    assert_same(list(hand_rows()), language)
    html = Template(TAG_ROW).render(Context({"rows": [row()], "may_act": True}))
    assert 'value="HD-0&lt;1&gt;"' in html
    assert "&lt;b&gt;&quot;Q&amp;A&quot;&lt;/b&gt; &#x27;x&#x27; {{ y }} 100%" in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_inbox_row_of_listed_tickets_is_the_former_markup(language):
    now = datetime(2026, 12, 5, 8, tzinfo=UTC)
    tickets = [
        TicketFactory(subject=NASTY, priority=Priority.CRITICAL),
        TicketFactory(),
        TicketFactory(),
    ]
    Ticket.objects.filter(pk=tickets[1].pk).update(
        status=Status.RESOLVED, resolved_at=now
    )
    Ticket.objects.filter(pk=tickets[2].pk).update(
        status=Status.WAITING_ON_CUSTOMER, organization=None
    )
    tickets[0].tags.add("b&<c>", "a")
    with translation.override(language):
        rows = inbox.listing_rows(inbox.for_listing(Ticket.objects.order_by("pk")))
    assert len(rows) == 3 and any(r.tags for r in rows)
    assert_same(rows, language)


STAFF = (
    ("1", "a@example.com", "Ann <b>\"&'"),
    ("22", "b&<x>@example.com", "b&<x>@example.com"),
    ("3", "c@example.com", "C {{ z }} 100%"),
)


@pytest.fixture
def forget():
    kept_fields.forget_kept_fields()
    yield
    kept_fields.forget_kept_fields()


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_staff_lists_are_the_former_loops(language, forget):
    with translation.override(language):
        for staff in (list(STAFF), list(STAFF[1:]), []):
            for selected in ("", "none", "1", "22", "2", "<x>"):
                for autoescape in (True, False):
                    for _kept in range(2):  # built, then kept
                        context = {"staff": staff, "assignee_value": selected}
                        for ours, theirs in (
                            (TAG_OPTIONS, FORMER_OPTIONS),
                            (TAG_DATALIST, FORMER_DATALIST),
                        ):
                            expected = Template(theirs).render(
                                Context(context, autoescape=autoescape)
                            )
                            got = Template(ours).render(
                                Context(context, autoescape=autoescape)
                            )
                            assert got == expected
    html = Template(TAG_OPTIONS).render(
        Context({"staff": list(STAFF), "assignee_value": "22"})
    )
    assert html == (
        '<option value="1" >Ann &lt;b&gt;&quot;&amp;&#x27;</option>'
        '<option value="22" selected>b&amp;&lt;x&gt;@example.com</option>'
        '<option value="3" >C {{ z }} 100%</option>'
    )


def test_a_changed_staff_is_shown_at_once(forget):
    first = kept_fields.staff_datalist(list(STAFF))
    assert kept_fields.staff_datalist(list(STAFF)) is first  # kept
    renamed = [STAFF[0], ("22", "b@example.com", "Bea"), STAFF[2]]
    assert kept_fields.staff_datalist(renamed) == (
        '<option value="a@example.com">Ann &lt;b&gt;&quot;&amp;&#x27;</option>'
        '<option value="b@example.com">Bea</option>'
        '<option value="c@example.com">C {{ z }} 100%</option>'
    )
    assert "Bea" in kept_fields.staff_options(renamed, "22")
    assert "Bea" not in kept_fields.staff_options(list(STAFF), "22")
    assert kept_fields.staff_options(STAFF[:1], "") == (
        '<option value="1" >Ann &lt;b&gt;&quot;&amp;&#x27;</option>'
    )
