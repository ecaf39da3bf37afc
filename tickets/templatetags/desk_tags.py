"""Rows of the desk workspace that repeat per item (``templates/tickets/desk/
ticket.html``), built in one node each instead of a dozen variable and filter nodes:
the markup is the template's, character for character (``tickets/tests/
test_desk_tags.py`` renders both).

Over 400 lines on purpose: one node per repeating row of one template, each beside
the markup it replaces."""

import re
from html import escape as html_escape

from django import template
from django.template.base import Token, TokenType
from django.template.defaultfilters import filesizeformat, linebreaks_filter
from django.template.loader_tags import do_include
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from portal.templatetags.time_tags import time_element_html
from tickets.desk import kept_fields
from tickets.desk.forms import Unbuilt

register = template.Library()


class HistoryItemNode(template.Node):
    """One ``<li>`` of the History::

    <li data-event-kind="{{ event.kind }}">{% time_element event.created_at
    "DATETIME_FORMAT" %} · {{ event.actor|default:_("System") }} · {{
    event.get_kind_display }}{% if event.old_value and event.new_value %}: {{
    event.old_label }} → {{ event.new_label }}{% elif event.new_value %}: {{
    event.new_label }}{% elif event.old_value %}: {{ event.old_label }}{% endif
    %}</li>
    """

    def __init__(self, event):
        self.event = event

    def render(self, context):
        event = self.event.resolve(context)
        escape = conditional_escape if context.autoescape else str
        actor = event.actor
        # ``_("System")`` was a template literal: safe, so not escaped
        who = escape(actor) if actor else mark_safe(gettext("System"))  # noqa: S308
        old, new = event.old_value, event.new_value
        if old and new:
            change = f": {escape(event.old_label)} → {escape(event.new_label)}"
        elif new:
            change = f": {escape(event.new_label)}"
        elif old:
            change = f": {escape(event.old_label)}"
        else:
            change = ""
        when = time_element_html(context, self, event.created_at, "DATETIME_FORMAT")
        return mark_safe(  # noqa: S308 - every value escaped above
            f'<li data-event-kind="{escape(event.kind)}">{when} · {who} · '
            f"{escape(event.get_kind_display())}{change}</li>"
        )


@register.tag
def history_item(parser, token):
    """``{% history_item event %}``: see ``HistoryItemNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one event")
    return HistoryItemNode(parser.compile_filter(bits[1]))


CONVERSATION_ITEM = """<li class="desk-message desk-message--{kind}" id="comment-{pk}">
            <header>
              <span class="desk-badge desk-badge--{kind}">{badge}</span>
              <strong>{author}</strong> · {when}
            </header>
            <div class="desk-message__body">{body}</div>
            {files}
          </li>"""


class ConversationItemNode(template.Node):
    """One message of the Conversation (the template's former loop body)::

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

    def __init__(self, comment):
        self.comment = comment

    def render(self, context):
        comment = self.comment.resolve(context)
        autoescape = context.autoescape
        escape = conditional_escape if autoescape else str
        # ``{% trans %}`` of a template literal: safe, so not escaped
        if comment.is_internal:
            kind, badge = "note", gettext("Internal note")
        else:
            kind, badge = "reply", gettext("Public reply")
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
        return mark_safe(  # noqa: S308 - every value escaped above
            CONVERSATION_ITEM.format(
                kind=kind,
                pk=escape(localize(comment.pk, use_l10n=context.use_l10n)),
                badge=badge,
                author=escape(comment.author),
                when=time_element_html(
                    context, self, comment.created_at, "DATETIME_FORMAT"
                ),
                body=linebreaks_filter(comment.body, autoescape=autoescape),
                files=files,
            )
        )


@register.tag
def conversation_item(parser, token):
    """``{% conversation_item comment %}``: see ``ConversationItemNode``."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one comment")
    return ConversationItemNode(parser.compile_filter(bits[1]))


class OtherTicketsNode(template.Node):
    """The requester's or the organization's other tickets, the whole list (the
    template's former loop)::

    <ul>{% for t in tickets %}<li><a href="{{ t.get_admin_url }}">{{ t.reference
    }}</a> {{ t.subject }} · {{ t.get_status_display }}</li>{% empty %}<li>{% trans
    "None." %}</li>{% endfor %}</ul>

    Each value is text (no localization applies), escaped as ``{{ }}`` escapes it:
    a plain ``str`` (what the database and ``choice_label`` give) by ``html.escape``,
    which is what ``conditional_escape`` does to one, in one call instead of ~10; any
    other value by ``conditional_escape`` itself. The status label is
    ``choice_label``'s, kept per language."""

    def __init__(self, tickets):
        self.tickets = tickets

    def render(self, context):
        tickets = self.tickets.resolve(context, ignore_failures=True)
        if not tickets:
            # ``{% trans %}`` of a template literal: safe, so not escaped
            none = gettext("None.")
            return mark_safe(f"<ul><li>{none}</li></ul>")  # noqa: S308
        if context.autoescape:

            def escape(value):
                return (
                    html_escape(value)
                    if type(value) is str
                    else conditional_escape(value)
                )

        else:
            escape = str
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


class InboxRowNode(template.Node):
    """One ``<tr>`` of the inbox (``templates/tickets/desk/inbox.html``), from an
    ``inbox.InboxRow``: the template's former loop body, with its line breaks and
    indentation (``tickets/tests/test_desk_tags.py`` renders both)::

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

    def __init__(self, row, may_act):
        self.row = row
        self.may_act = may_act

    def render(self, context):
        row = self.row.resolve(context)
        escape = conditional_escape if context.autoescape else str
        reference = escape(row.reference)
        select = (
            f'<td><input type="checkbox" name="references" value="{reference}" '
            f'aria-label="{escape(row.select_label)}"></td>'
            if self.may_act.resolve(context)
            else ""
        )
        tags = "".join(
            f' <span class="desk-tag">{escape(tag)}</span>' for tag in row.tags
        )
        snippet = (
            f'<p class="desk-snippet">{escape(row.snippet)}</p>' if row.snippet else ""
        )
        state = row.sla_state
        sla = (
            "—"
            if state == "none"
            else f'<span class="desk-sla desk-sla--{escape(state)}">'
            f"{escape(row.sla_label)}</span>"
        )
        due = (
            f'<br><time datetime="{escape(row.due_iso)}">{escape(row.due_text)}</time>'
            if row.due_iso
            else ""
        )
        return mark_safe(  # noqa: S308 - every value escaped above
            INBOX_ROW.format(
                priority=escape(row.priority),
                reference=reference,
                select=select,
                url=escape(row.url),
                subject=escape(row.subject),
                tags=tags,
                snippet=snippet,
                requester=escape(row.requester),
                organization=escape(row.organization),
                status=escape(row.status),
                status_label=escape(row.status_label),
                priority_label=escape(row.priority_label),
                assignee=escape(row.assignee),
                sla=sla,
                due=due,
                updated_iso=escape(row.updated_iso),
                updated_text=escape(row.updated_text),
            )
        )


@register.tag
def inbox_row(parser, token):
    """``{% inbox_row row may_act %}``: see ``InboxRowNode``."""
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a row and may_act")
    return InboxRowNode(parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))


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
