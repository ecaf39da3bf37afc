"""Rows of the desk workspace that repeat per item (``templates/tickets/desk/
ticket.html``), built in one node each instead of a dozen variable and filter nodes:
the markup is the template's, character for character (``tickets/tests/
test_desk_tags.py`` renders both)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from portal.templatetags.time_tags import time_element_html

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
