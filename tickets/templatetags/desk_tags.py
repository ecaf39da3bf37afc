"""Rows of the desk workspace that repeat per item (``templates/tickets/desk/
ticket.html``), built in one node each instead of a dozen variable and filter nodes
(the History, the Conversation, the SLA clocks and the other tickets: one node per
list): the markup is the template's, character for character
(``tickets/tests/test_desk_tags.py`` renders both).

Over 400 lines until split: the workspace's list nodes (history, conversation, clocks,
other tickets) could move to their own module beside the inbox row and the kept fields.
"""

import re

from django import template
from django.template.base import Token, TokenType
from django.template.defaultfilters import (
    filesizeformat,
    timesince_filter,
    timeuntil_filter,
)
from django.template.loader_tags import do_include
from django.urls import reverse
from django.utils import numberformat, translation
from django.utils.formats import get_format, localize
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, gettext_noop

from portal.escaping import escaped, linebreaks_html
from portal.templatetags.time_tags import TimeElements
from portal.translations import translated
from tickets.desk import forms as desk_forms
from tickets.desk import kept_fields
from tickets.desk.forms import Unbuilt

register = template.Library()


# What the workspace's ``{% for %}`` put around each row: the line break and the
# indentation of the loop's body, then of its ``{% endfor %}``.
ROW_BEFORE = "\n          "
ROW_AFTER = "\n        "


# the constant messages of the list nodes below: ``translated`` (portal.translations)


class RowsNode(template.Node):
    """The rows of a list in one node: what ``{% for item in items %}{{ row }}{%
    endfor %}`` rendered (with the loop's line breaks, ``ROW_BEFORE`` and
    ``ROW_AFTER``), each row built by ``row`` from what the list shares, decided once
    in ``shared``: the language, the time zone and the escaping cannot change inside
    this node, so the ``<time>`` elements (``time_tags.TimeElements``) and the
    translated constants are made once for the list instead of once per row."""

    def __init__(self, items):
        self.items = items

    def render(self, context):
        items = self.items.resolve(context)
        if not items:  # None, an empty list: ``{% for %}`` renders nothing
            return ""
        shared = self.shared(context)
        row = self.row
        return mark_safe(  # noqa: S308 - every value escaped in ``row``
            "".join(f"{ROW_BEFORE}{row(item, shared)}{ROW_AFTER}" for item in items)
        )


class HistoryRowsNode(RowsNode):
    """The History's rows, each the former ``<li>``::

    <li data-event-kind="{{ event.kind }}">{% time_element event.created_at
    "DATETIME_FORMAT" %} · {{ event.actor|default:_("System") }} · {{
    event.get_kind_display }}{% if event.old_value and event.new_value %}: {{
    event.old_label }} → {{ event.new_label }}{% elif event.new_value %}: {{
    event.new_label }}{% elif event.old_value %}: {{ event.old_label }}{% endif
    %}</li>
    """

    def shared(self, context):
        escape = escaped if context.autoescape else str
        # ``_("System")`` was a template literal: safe, so not escaped
        when = TimeElements(context, "DATETIME_FORMAT")
        return escape, when, translated((gettext_noop("System"),))["System"], {}, {}, {}

    @staticmethod
    def row(event, shared):
        # ``labels``, ``kinds``, ``actors``: what a list repeats, rendered once: a
        # value's label is its kind's and its own (``TicketEvent.value_label``), a
        # kind's label the kind's alone (``get_kind_display``), a saved actor's name
        # the same for every row read with the list
        escape, when, system, labels, kinds, actors = shared
        actor_id = event.actor_id
        if actor_id is None:  # none, or one not saved
            actor = event.actor
            who = escape(actor) if actor else system
        else:
            who = actors.get(actor_id)
            if who is None:
                actor = event.actor
                who = actors[actor_id] = escape(actor) if actor else system
        kind, old, new = event.kind, event.old_value, event.new_value
        if old and new:
            change = f": {label(shared, event, old)} → {label(shared, event, new)}"
        elif new:
            change = f": {label(shared, event, new)}"
        elif old:
            change = f": {label(shared, event, old)}"
        else:
            change = ""
        shown = kinds.get(kind)
        if shown is None:
            shown = kinds[kind] = (escape(kind), escape(event.get_kind_display()))
        return (
            f'<li data-event-kind="{shown[0]}">{when(event.created_at)} · {who} · '
            f"{shown[1]}{change}</li>"
        )


def label(shared: tuple, event, value) -> str:
    """``event.value_label(value)``, escaped as the row is, once per (kind, value)
    in a list (``HistoryRowsNode.shared``)."""
    escape, labels = shared[0], shared[3]
    key = (event.kind, value)
    shown = labels.get(key)
    if shown is None:
        shown = labels[key] = escape(event.value_label(value))
    return shown


@register.tag
def history_rows(parser, token):
    """``{% history_rows events %}``: see ``HistoryRowsNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a list of events")
    return HistoryRowsNode(parser.compile_filter(bits[1]))


CONVERSATION_ITEM = """<li class="desk-message desk-message--{kind}" id="comment-{pk}">
            <header>
              <span class="desk-badge desk-badge--{kind}">{badge}</span>
              <strong>{author}</strong> · {when}
            </header>
            <div class="desk-message__body">{body}</div>
            {files}
          </li>"""


class ConversationRowsNode(RowsNode):
    """The Conversation's messages after the description, each the former loop
    body::

        <li class="desk-message {% if comment.is_internal %}desk-message--note{% else
        %}desk-message--reply{% endif %}" id="comment-{{ comment.pk }}">
          <header>
            {% if comment.is_internal %}<span class="desk-badge desk-badge--note">{%
            trans "Internal note" %}</span>{% else %}<span class="desk-badge
            desk-badge--reply">{% trans "Public reply" %}</span>{% endif %}
            <strong>{{ comment.author }}</strong> · {% time_element comment.created_at
            "DATETIME_FORMAT" %}
          </header>
          <div class="desk-message__body">{{ comment.body|linebreaks }}</div>
          {% with files=comment.files %}{% if files %}<ul class="desk-files">{% for f
          in files %}<li><a href="{{ f.get_absolute_url }}">{{ f.original_name }}</a>
          ({{ f.size|filesizeformat }})</li>{% endfor %}</ul>{% endif %}{% endwith %}
        </li>

    (with the template's line breaks and indentation).
    """

    def shared(self, context):
        autoescape = context.autoescape
        messages = translated(
            (gettext_noop("Internal note"), gettext_noop("Public reply"))
        )
        return (
            autoescape,
            escaped if autoescape else str,
            context.use_l10n,
            int_localizer(context.use_l10n),
            TimeElements(context, "DATETIME_FORMAT"),
            # ``{% trans %}`` of a template literal: safe, so not escaped
            ("note", messages["Internal note"]),
            ("reply", messages["Public reply"]),
            {},
        )

    @staticmethod
    def row(comment, shared):
        autoescape, escape, use_l10n, localized, when, note, reply, authors = shared
        kind, badge = note if comment.is_internal else reply
        pk = comment.pk
        pk = localized(pk) if type(pk) is int else localize(pk, use_l10n=use_l10n)
        # a saved author's name is the same for every comment read with the list
        author_id = comment.author_id
        if author_id is None:
            author = escape(comment.author)
        else:
            author = authors.get(author_id)
            if author is None:
                author = authors[author_id] = escape(comment.author)
        files = getattr(comment, "files", "")
        files = (
            '<ul class="desk-files">{}</ul>'.format(
                "".join(
                    f'<li><a href="{escape(f.get_absolute_url())}">'
                    f"{escape(f.original_name)}</a> "
                    f"({escape(filesizeformat(f.size))})</li>"
                    for f in files
                )
            )
            if files
            else ""
        )
        return CONVERSATION_ITEM.format(
            kind=kind,
            pk=escape(pk),
            badge=badge,
            author=author,
            when=when(comment.created_at),
            body=linebreaks_html(comment.body, autoescape),
            files=files,
        )


def int_localizer(use_l10n):
    """``formats.localize(value, use_l10n)`` of the ints of one list (a list's node:
    the language does not change in it): ``number_format``'s language and separators
    read once, its ``numberformat.format`` called for each value."""
    if use_l10n is False:
        return str
    language = get_language()
    decimal, grouping, thousand = (
        get_format(name, language, use_l10n=True)
        for name in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR")
    )

    def localized(value: int) -> str:
        return numberformat.format(
            value,
            decimal,
            None,
            grouping,
            thousand,
            force_grouping=False,
            use_l10n=True,
        )

    return localized


@register.tag
def conversation_rows(parser, token):
    """``{% conversation_rows comments %}``: see ``ConversationRowsNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a list of comments")
    return ConversationRowsNode(parser.compile_filter(bits[1]))


# the former ``<li>``: each ``{% if %}`` branch ended with the line break and the
# indentation before the next ``{% elif %}``, the last one before ``{% endif %}``
CLOCK_ROW = (
    '<li class="desk-clock desk-clock--{state}"><strong>{label}</strong>:'
    "\n            {text}\n            \n          </li>"
)


class ClockRowsNode(RowsNode):
    """The SLA clocks (``workspace.sla_clocks``), each the former loop body::

        <li class="desk-clock desk-clock--{{ clock.state }}"><strong>{{ clock.label
        }}</strong>:
          {% if clock.state == "none" %}{% trans "no target" %}
          {% elif clock.state == "met" %}{% blocktrans with done=clock.done|date:
          "DAY_MONTH_TIME_FORMAT" %}met ({{ done }}){% endblocktrans %}
          {% elif clock.state == "late" %}{% blocktrans with done=clock.done|date:
          "DAY_MONTH_TIME_FORMAT" due=clock.due|date:"DAY_MONTH_TIME_FORMAT" %}late
          ({{ done }}, due {{ due }}){% endblocktrans %}
          {% elif clock.state == "paused" %}{% blocktrans with due=clock.due|date:
          "DAY_MONTH_TIME_FORMAT" %}paused (due {{ due }}){% endblocktrans %}
          {% elif clock.state == "breached" %}{% blocktrans with since=clock.due|
          timesince %}breached {{ since }} ago{% endblocktrans %}
          {% else %}{% blocktrans with until=clock.due|timeuntil %}due in {{ until
          }}{% endblocktrans %}{% if clock.state == "due_soon" %} — {% trans "at
          risk" %}{% endif %}
          {% endif %}
        </li>

    (with the template's line breaks and indentation; each tag on one line). The
    messages are the same ``gettext`` msgids ``{% blocktrans %}`` looked up, filled
    with the same escaped values, and, as there, with the msgid itself when a
    translation does not fit its values.
    """

    def shared(self, context):
        return (
            escaped if context.autoescape else str,
            TimeElements(context, "DAY_MONTH_TIME_FORMAT"),
            translated(CLOCK_MSGIDS),
        )

    @staticmethod
    def row(clock, shared):
        escape, when, messages = shared
        state = clock.state
        if state == "none":
            text = messages["no target"]
        else:
            msgid, values = CLOCK_MESSAGES.get(state, DUE_IN)
            text = message(messages[msgid], msgid, values, clock, when, escape)
            if state == "due_soon":
                text += " — " + messages["at risk"]
        return CLOCK_ROW.format(
            state=escape(state), label=escape(clock.label), text=text
        )


# Each state's ``{% blocktrans %}``: its msgid and its ``with`` values, rendered.
CLOCK_MESSAGES = {
    "met": (
        gettext_noop("met (%(done)s)"),
        lambda clock, when, _: {"done": when.text(clock.done)},
    ),
    "late": (
        gettext_noop("late (%(done)s, due %(due)s)"),
        lambda clock, when, _: {
            "done": when.text(clock.done),
            "due": when.text(clock.due),
        },
    ),
    "paused": (
        gettext_noop("paused (due %(due)s)"),
        lambda clock, when, _: {"due": when.text(clock.due)},
    ),
    "breached": (
        gettext_noop("breached %(since)s ago"),
        lambda clock, _, escape: {"since": escape(timesince_filter(clock.due))},
    ),
}
DUE_IN = (
    gettext_noop("due in %(until)s"),
    lambda clock, _, escape: {"until": escape(timeuntil_filter(clock.due))},
)


CLOCK_MSGIDS = (
    gettext_noop("no target"),
    gettext_noop("at risk"),
    DUE_IN[0],
    *(msgid for msgid, _ in CLOCK_MESSAGES.values()),
)


def message(found: str, msgid: str, values, clock, when, escape) -> str:
    """``{% blocktrans with … %}msgid{% endblocktrans %}``: ``found``, its translation, filled
    with ``values(clock, when, escape)``; if it does not fit them, as there, the
    message rendered again with no language active (its values too)."""
    try:
        return found % values(clock, when, escape)
    except (KeyError, ValueError):
        with translation.override(None):
            when = TimeElements(when.context, when.format_name)
            return gettext(msgid) % values(clock, when, escape)


@register.tag
def clock_rows(parser, token):
    """``{% clock_rows clocks %}``: see ``ClockRowsNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a list of clocks")
    return ClockRowsNode(parser.compile_filter(bits[1]))


class OtherTicketsNode(template.Node):
    """The requester's or the organization's other tickets, the whole list (the
    template's former loop)::

    <ul>{% for t in tickets %}<li><a href="{{ t.get_admin_url }}">{{ t.reference
    }}</a> {{ t.subject }} · {{ t.get_status_display }}</li>{% empty %}<li>{% trans
    "None." %}</li>{% endfor %}</ul>

    Each value is text (no localization applies), escaped as ``{{ }}`` escapes it
    (``portal.escaping.escaped``, as the workspace's other list nodes). The status
    label is ``choice_label``'s, kept per language."""

    def __init__(self, tickets):
        self.tickets = tickets

    def render(self, context):
        tickets = self.tickets.resolve(context, ignore_failures=True)
        if not tickets:
            # ``{% trans %}`` of a template literal: safe, so not escaped
            none = gettext("None.")
            return mark_safe(f"<ul><li>{none}</li></ul>")  # noqa: S308
        escape = escaped if context.autoescape else str
        rows = "".join(
            f'<li><a href="{escape(t.get_admin_url())}">{escape(t.reference)}</a> '
            f"{escape(t.subject)} · {escape(t.get_status_display())}</li>"
            for t in tickets
        )
        return mark_safe(f"<ul>{rows}</ul>")  # noqa: S308 - every value escaped


@register.tag
def other_tickets(parser, token):
    """``{% other_tickets tickets %}``: see ``OtherTicketsNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one list of tickets")
    return OtherTicketsNode(parser.compile_filter(bits[1]))


FORM_ERRORS = "includes/form_errors.html"


class FormErrorsBoxNode(template.Node):
    """``{% include "includes/form_errors.html" with form=… field_errors=True
    class="error-message" %}``, the error box above each of the workspace's forms:
    the include for a form with errors; for a form without, what the include rendered
    for the first such form (its text outside its ``{% if %}``: it reads nothing
    else), kept on this node, so for the parsed template's lifetime."""

    def __init__(self, form, include):
        self.form = form
        self.include = include
        self.without_errors = None

    def render(self, context):
        form = self.form.resolve(context)
        # a form not built yet is unbound: it has no errors (``forms.Unbuilt``)
        if not isinstance(form, Unbuilt) and form.errors:
            return self.include.render(context)
        if self.without_errors is None:
            self.without_errors = self.include.render(context)
        return self.without_errors


@register.tag
def form_errors_box(parser, token):
    """``{% form_errors_box form %}``: see ``FormErrorsBoxNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one form")
    include = do_include(
        parser,
        Token(
            TokenType.BLOCK,
            f'include "{FORM_ERRORS}" with form={bits[1]} field_errors=True '
            'class="error-message"',
            token.position,
            token.lineno,
        ),
    )
    include.origin, include.token = parser.origin, token  # as ``Parser`` sets them
    return FormErrorsBoxNode(parser.compile_filter(bits[1]), include)


@register.filter
def shown_value(form, name):
    """``{{ form|shown_value:"body" }}``: ``{{ form.body.value }}``, without building
    a form not built yet (``tickets.desk.forms.shown_value``)."""
    return desk_forms.shown_value(form, name)


@register.filter
def field_choices(form, name):
    """``{% for value, label in form|field_choices:"submit_as" %}``: ``form.fields.
    submit_as.choices``, without building a form not built yet
    (``tickets.desk.forms.field_choices``)."""
    return desk_forms.field_choices(form, name)


@register.filter
def field_max_length(form, name):
    """``{{ form|field_max_length:"reason" }}``: ``form.fields.reason.max_length``,
    without building a form not built yet (``tickets.desk.forms.field_max_length``)."""
    return desk_forms.field_max_length(form, name)


@register.simple_tag
def tags_input(form):
    """``{% tags_input tags_form %}``: ``{{ tags_form.tags }}``, without building a
    form not built yet (``tickets.desk.forms.tags_input``)."""
    return desk_forms.tags_input(form)


@register.simple_tag
def assignee_select(form, ticket):
    """``{% assignee_select assign_form ticket %}``: ``{{ assign_form.assignee }}``,
    kept while the staff is unchanged (``tickets.desk.kept_fields``)."""
    return kept_fields.assignee_select(form, ticket)


@register.simple_tag
def priority_select(form):
    """``{% priority_select priority_form %}``: ``{{ priority_form.priority }}``,
    kept per language and priority (``tickets.desk.kept_fields``)."""
    return kept_fields.priority_select(form)


@register.simple_tag
def queue_select(form):
    """``{% queue_select queue_form %}``: ``{{ queue_form.queue }}``, kept while the
    queues are unchanged (``tickets.desk.kept_fields``)."""
    return kept_fields.queue_select(form)


INBOX_ROW = """<tr class="desk-row desk-row--{priority}" data-reference="{reference}">
                        {select}
                        <td class="desk-nowrap"><a href="{url}">{reference}</a></td>
                        <td><a href="{url}">{subject}</a>{tags}{snippet}</td>
                        <td>{requester}</td>
                        <td>{organization}</td>
                        <td><span class="desk-status desk-status--{status}">{status_label}</span></td>
                        <td><span class="desk-priority desk-priority--{priority}">{priority_label}</span></td>
                        <td>{assignee}</td>
                        <td class="desk-nowrap">{sla}{due}</td>
                        <td class="desk-nowrap"><time datetime="{updated_iso}">{updated_text}</time></td>
                    </tr>"""  # noqa: E501 - the template's lines


# ``html.escape``'s replacements in one pass (it makes five): the same text.
_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)


def _row_escaped(value) -> str:
    """``str(conditional_escape(value))`` (``portal.escaping.escaped``) in one call
    for a plain ``str`` (most of an inbox row's ~18 values)."""
    if type(value) is str:
        return value.translate(_HTML_ESCAPES)
    return escaped(value)


# The row's plain text cells, escaped together where each is a plain ``str``
_ROW_CELLS = (
    "reference",
    "select_label",
    "url",
    "subject",
    "requester",
    "organization",
    "status",
    "status_label",
    "priority",
    "priority_label",
    "assignee",
    "sla_label",
    "due_iso",
    "due_text",
    "updated_iso",
    "updated_text",
)
_CELL_SEPARATOR = "\x00"  # kept by the escape; a cell holding it is escaped alone


def _escaped_cells(values) -> list:
    """``[_row_escaped(value) for value in values]``: plain ``str``s joined, escaped
    in one ``translate`` (it replaces characters one by one: the same text) and
    split again."""
    for value in values:
        if type(value) is not str or _CELL_SEPARATOR in value:
            return [_row_escaped(value) for value in values]
    return _CELL_SEPARATOR.join(values).translate(_HTML_ESCAPES).split(_CELL_SEPARATOR)


def _row_html(row, may_act, autoescape: bool) -> str:
    """The markup of one ``<tr>`` of the inbox (``templates/tickets/desk/inbox.html``),
    from an ``inbox.InboxRow``: the template's former loop body, with its line breaks
    and indentation (``tickets/tests/test_desk_inbox_rows.py`` renders both)::

        <tr class="desk-row desk-row--{{ row.priority }}" data-reference="{{
        row.reference }}">
            {% if may_act %}<td><input type="checkbox" name="references" value="{{
            row.reference }}" aria-label="{{ row.select_label }}"></td>{% endif %}
            <td class="desk-nowrap"><a href="{{ row.url }}">{{ row.reference }}</a></td>
            <td><a href="{{ row.url }}">{{ row.subject }}</a>{% for tag in row.tags
            %} <span class="desk-tag">{{ tag }}</span>{% endfor %}{% if row.snippet
            %}<p class="desk-snippet">{{ row.snippet }}</p>{% endif %}</td>
            <td>{{ row.requester }}</td>
            <td>{{ row.organization }}</td>
            <td><span class="desk-status desk-status--{{ row.status }}">{{
            row.status_label }}</span></td>
            <td><span class="desk-priority desk-priority--{{ row.priority }}">{{
            row.priority_label }}</span></td>
            <td>{{ row.assignee }}</td>
            <td class="desk-nowrap">{% if row.sla_state == "none" %}—{% else %}<span
            class="desk-sla desk-sla--{{ row.sla_state }}">{{ row.sla_label }}</span>{%
            endif %}{% if row.due_iso %}<br><time datetime="{{ row.due_iso }}">{{
            row.due_text }}</time>{% endif %}</td>
            <td class="desk-nowrap"><time datetime="{{ row.updated_iso }}">{{
            row.updated_text }}</time></td>
        </tr>
    """
    values = (
        row.reference,
        row.select_label,
        row.url,
        row.subject,
        row.requester,
        row.organization,
        row.status,
        row.status_label,
        row.priority,
        row.priority_label,
        row.assignee,
        row.sla_label,
        row.due_iso,
        row.due_text,
        row.updated_iso,
        row.updated_text,
    )
    if autoescape:
        escape = _row_escaped
        cells = _escaped_cells(values)
    else:
        escape = str
        cells = [str(value) for value in values]
    (
        reference,
        select_label,
        url,
        subject,
        requester,
        organization,
        status,
        status_label,
        priority,
        priority_label,
        assignee,
        sla_label,
        due_iso,
        due_text,
        updated_iso,
        updated_text,
    ) = cells
    select = (
        f'<td><input type="checkbox" name="references" value="{reference}" '
        f'aria-label="{select_label}"></td>'
        if may_act
        else ""
    )
    tags = "".join(
        [f' <span class="desk-tag">{escape(tag)}</span>' for tag in row.tags]
    )
    snippet = (
        f'<p class="desk-snippet">{escape(row.snippet)}</p>' if row.snippet else ""
    )
    state = row.sla_state
    sla = (
        "—"
        if state == "none"
        else f'<span class="desk-sla desk-sla--{escape(state)}">{sla_label}</span>'
    )
    due = f'<br><time datetime="{due_iso}">{due_text}</time>' if row.due_iso else ""
    return INBOX_ROW.format(
        priority=priority,
        reference=reference,
        select=select,
        url=url,
        subject=subject,
        tags=tags,
        snippet=snippet,
        requester=requester,
        organization=organization,
        status=status,
        status_label=status_label,
        priority_label=priority_label,
        assignee=assignee,
        sla=sla,
        due=due,
        updated_iso=updated_iso,
        updated_text=updated_text,
    )


# the text before and after a row in the inbox template's former loop body
_ROW_BEFORE = "\n                    "
_ROW_AFTER = "\n                "


class InboxRowsNode(template.Node):
    """Every row of the inbox, as the template's former loop printed them::

        {% for row in rows %}
                            <tr …>…</tr>  (``_row_html``)
                        {% endfor %}

    (nothing for no rows, as an empty list's loop; the template prints its "No
    tickets here." line itself)."""

    def __init__(self, rows, may_act):
        self.rows = rows
        self.may_act = may_act

    def render(self, context):
        rows = self.rows.resolve(context, ignore_failures=True)
        if not rows:
            return ""
        may_act = self.may_act.resolve(context)
        autoescape = context.autoescape
        return mark_safe(  # noqa: S308 - every value escaped
            "".join(
                [
                    _ROW_BEFORE + _row_html(row, may_act, autoescape) + _ROW_AFTER
                    for row in rows
                ]
            )
        )


@register.tag
def inbox_rows(parser, token):
    """``{% inbox_rows rows may_act %}``: see ``InboxRowsNode``."""
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes the rows and may_act")
    return InboxRowsNode(parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))


INBOX_COLUMN = """
                        <th scope="col" {sort}><a href="{url}">{label}</a></th>
                    """


@register.simple_tag(takes_context=True)
def inbox_columns(context, columns):
    """``{% inbox_columns columns %}``: the inbox's column headers (the view's
    ``(key, label, url, sort)``s), as the template's former loop printed them::

        {% for key, label, url, sort in columns %}
            <th scope="col" {% if sort %}aria-sort="{{ sort }}"{% endif %}><a href="{{
            url }}">{{ label }}</a></th>
        {% endfor %}
    """
    escape = _row_escaped if context.autoescape else str
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            INBOX_COLUMN.format(
                sort=f'aria-sort="{escape(sort)}"' if sort else "",
                url=escape(url),
                label=escape(label),
            )
            for _key, label, url, sort in columns
        )
    )


@register.simple_tag(takes_context=True)
def staff_options(context, staff, selected):
    """``{% staff_options staff assignee_value %}``: the assignee filter's staff
    ``<option>``s, kept per staff list (``tickets.desk.kept_fields``)."""
    return kept_fields.staff_options(staff, selected, context.autoescape)


@register.simple_tag(takes_context=True)
def staff_datalist(context, staff):
    """``{% staff_datalist staff %}``: the bulk form's ``<option>``s of the staff's
    addresses, kept per staff list (``tickets.desk.kept_fields``)."""
    return kept_fields.staff_datalist(staff, context.autoescape)


@register.simple_tag(takes_context=True)
def inbox_filters(context):
    """``{% inbox_filters %}``: the inbox's saved views and filter bar
    (``tickets/desk/_inbox_filters.html``), kept without its free text
    (``tickets.desk.kept_fields``)."""
    return kept_fields.inbox_filters(context)


@register.simple_tag(takes_context=True)
def inbox_bulk(context):
    """``{% inbox_bulk %}``: the inbox's bulk form (``tickets/desk/_inbox_bulk.html``),
    kept per language and staff list (``tickets.desk.kept_fields``)."""
    return kept_fields.inbox_bulk(context)


_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # Django's ``slug`` path converter


@register.simple_tag(takes_context=True)
def ticket_action_url(context, reference, action):
    """``{% url 'helpdesk:ticket_action' reference action %}`` for the workspace's
    forms (nine a page): the first action of a reference is reversed, the URL of the
    others is that one with the last segment (the ``<slug:action>`` that ends the
    pattern) replaced, which is what reversing them gives for any slug. Anything
    else is reversed."""
    kept = context.render_context.setdefault(ticket_action_url, {})
    base = kept.get(reference)
    if base is not None and _SLUG.fullmatch(action):
        return f"{base}{action}/"
    url = reverse("helpdesk:ticket_action", args=[reference, action])
    ending = f"/{action}/"
    if _SLUG.fullmatch(action) and url.endswith(ending):
        kept[reference] = url[: -len(ending) + 1]
    return url
