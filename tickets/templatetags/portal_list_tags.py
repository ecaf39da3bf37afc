"""The portal's ticket table rows (``templates/tickets/portal/_ticket_table.html``: the
list page and the dashboard) in one node, and the list's filter ``<select>``s kept per
process, as the desk's list nodes do (``desk_tags.history_rows``, ``other_tickets``):
the markup is the template's, character for character
(``tickets/tests/test_portal_list_tags.py`` renders both).

A row's values repeat across a page (a status's tone and label, a requester's shown
name, the "… ago" units): each is worked out once per list instead of once per row,
and the ``<time>`` title is ``time_tags.TimeElements``'s text.
"""

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language, gettext

from portal.escaping import escaped
from portal.templatetags.time_tags import TimeElements

from .. import permissions
from ..portal.common import STATUS_TONE
from .portal_tags import PRIORITY_LABELS, STATUS_LABELS

register = template.Library()

# The former ``{% for ticket in tickets %}{% with url=ticket.get_absolute_url %}…{%
# endwith %}{% endfor %}``'s body, with its line breaks and indentation.
ROW = (
    "\n    <tr>\n"
    '      <td data-label="{label_ticket}" class="cell-ref"><a href="{url}" '
    'class="ticket-ref">{reference}</a></td>\n'
    '      <td data-label="{label_subject}" class="ticket-subject"><a href="{url}">'
    "{subject}</a></td>\n"
    '      <td data-label="{label_status}" class="cell-status"><span class="badge '
    'status status-{tone}" data-status="{status}">{status_label}</span>\n</td>\n'
    '      <td data-label="{label_priority}" class="cell-priority"><span '
    'class="priority priority-{priority}">{priority_label}</span></td>\n'
    "      {requester}\n"
    '      <td data-label="{label_updated}" class="cell-updated"><time '
    'datetime="{iso}" title="{title}">{ago}</time></td>\n'
    "    </tr>\n  "
)
REQUESTER = '<td data-label="{label}" class="cell-requester">{name}</td>'
LABELS = (
    "label_ticket",
    "label_subject",
    "label_status",
    "label_priority",
    "label_requester",
    "label_updated",
)


class _Units:
    """``timesince``'s ``time_strings`` for one language: each unit's "%(num)d days"
    made once per number (``TIME_STRINGS``' own lazy plurals, so the same text)."""

    class Unit:
        def __init__(self, plural):
            self.plural = plural
            self.made = {}

        def __mod__(self, values):
            num = values["num"]
            text = self.made.get(num)
            if text is None:
                text = self.made[num] = str(self.plural % values)
            return text

    def __init__(self):
        self.units = {name: self.Unit(plural) for name, plural in TIME_STRINGS.items()}

    def __getitem__(self, name):
        return self.units[name]


# {language: _Units}: the catalogues do not change once loaded (as
# ``portal.translations.translated`` assumes)
_UNITS: dict = {}


def _units() -> _Units:
    language = get_language()
    units = _UNITS.get(language)
    if units is None:
        units = _UNITS[language] = _Units()
    return units


class TicketRowsNode(template.Node):
    """The table's rows, the template's former loop::

    {% for ticket in tickets %}{% with url=ticket.get_absolute_url %}
      <tr>
        <td data-label="{{ label_ticket }}" class="cell-ref"><a href="{{ url }}"
        class="ticket-ref">{{ ticket.reference }}</a></td>
        <td data-label="{{ label_subject }}" class="ticket-subject"><a href="{{ url
        }}">{{ ticket.subject }}</a></td>
        <td data-label="{{ label_status }}" class="cell-status"><span class="badge
        status status-{{ ticket.status|status_tone }}" data-status="{{ ticket.status
        }}">{{ ticket.status|status_label }}</span>
    </td>
        <td data-label="{{ label_priority }}" class="cell-priority"><span
        class="priority priority-{{ ticket.priority }}">{{
        ticket.priority|priority_label }}</span></td>
        {% if show_requester %}<td data-label="{{ label_requester }}"
        class="cell-requester">{{ ticket.requester|shown_to:user }}</td>{% endif %}
        <td data-label="{{ label_updated }}" class="cell-updated"><time datetime="{{
        ticket.updated_at|date:'c' }}" title="{{ ticket.updated_at }}">{{
        ticket.updated_at|ago }}</time></td>
      </tr>
    {% endwith %}{% endfor %}

    The column labels are the context's ``label_*`` (the template's ``{% trans …
    as label_… %}``), the requester's name ``permissions.name_shown_to`` (the
    ``shown_to`` filter's owner), once per requester; "… ago" is ``ago``'s text."""

    def __init__(self, tickets, viewer, show_requester):
        self.tickets = tickets
        self.viewer = viewer
        self.show_requester = show_requester

    def render(self, context):
        tickets = self.tickets.resolve(context)
        if not tickets:
            return ""
        escape = escaped if context.autoescape else str
        labels = {name: escape(context.get(name, "")) for name in LABELS}
        viewer = self.viewer.resolve(context)
        show_requester = self.show_requester.resolve(context)
        when = TimeElements(context, "DATETIME_FORMAT")
        # ``ago``'s message and units: a template literal's translation is not escaped
        ago = gettext("%(since)s ago")
        units = _units()
        statuses, priorities, names = {}, {}, {}
        rows = []
        for ticket in tickets:
            status = ticket.status
            shown_status = statuses.get(status)
            if shown_status is None:
                shown_status = statuses[status] = (
                    escape(STATUS_TONE.get(status, "muted")),
                    escape(status),
                    escape(str(STATUS_LABELS.get(status, status))),
                )
            priority = ticket.priority
            shown_priority = priorities.get(priority)
            if shown_priority is None:
                shown_priority = priorities[priority] = (
                    escape(priority),
                    escape(str(PRIORITY_LABELS.get(priority, priority))),
                )
            if show_requester:
                key = ticket.requester_id
                name = names.get(key)
                if name is None:
                    name = names[key] = escape(
                        permissions.name_shown_to(viewer, ticket.requester)
                    )
                requester = REQUESTER.format(label=labels["label_requester"], name=name)
            else:
                requester = ""
            updated = ticket.updated_at
            if isinstance(updated, datetime):
                iso = when.local(
                    updated
                ).isoformat()  # digits and -:+T.: nothing to escape
            else:  # no datetime: the filters' own texts
                iso = escape(date_filter(updated, "c"))
            url = escape(ticket.get_absolute_url())
            rows.append(
                ROW.format(
                    url=url,
                    reference=escape(ticket.reference),
                    subject=escape(ticket.subject),
                    tone=shown_status[0],
                    status=shown_status[1],
                    status_label=shown_status[2],
                    priority=shown_priority[0],
                    priority_label=shown_priority[1],
                    requester=requester,
                    iso=iso,
                    title=when.text(updated),
                    ago=ago % {"since": escaped(since(updated, units))},
                    **labels,
                )
            )
        return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


def since(value, units) -> str:
    """``timesince_filter(value)``: "" for no value or one it cannot compare."""
    if not value:
        return ""
    try:
        return timesince(value, time_strings=units)
    except (ValueError, TypeError):
        return ""


# {(form class, language, field name, value): html}: the filter bar's unbound fields whose value is
# empty or one of the field's choices (a few dozen at most); free text is rendered
# afresh. Their markup is the form's alone (the code's choices, the language): no
# CSRF token, user or ticket is in it.
_KEPT_FIELDS: dict = {}


@register.simple_tag
def kept_field(form, name: str):
    """``{{ form.<name> }}`` of the list's unbound ``TicketListFilterForm``, rendered
    once per language and value (a bound form is rendered afresh)."""
    field = form[name]
    if form.is_bound:
        return field
    value = field.value()
    choices = getattr(form.fields[name], "choices", ())
    if value not in ("", None) and value not in {str(key) for key, _ in choices}:
        return field
    key = (type(form), get_language(), name, value)
    html = _KEPT_FIELDS.get(key)
    if html is None:
        html = _KEPT_FIELDS[key] = mark_safe(str(field))  # noqa: S308 - the widget's
    return html


@register.tag
def ticket_rows(parser, token):
    """``{% ticket_rows tickets user show_requester %}``: see ``TicketRowsNode``."""
    bits = token.split_contents()
    if len(bits) != 4:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes the tickets, the viewer and show_requester"
        )
    return TicketRowsNode(*(parser.compile_filter(bit) for bit in bits[1:]))
