"""The rows of crm's Follow-up panel (``templates/crm/desk/panels/follow_up.html``),
one node each instead of the loop bodies' url, blocktrans, trans, if and variable
nodes: the markup is the former template's, character for character
(``crm/tests/test_follow_up_kept.py`` renders both)."""

from django import template
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop

from portal.templatetags.time_tags import time_element_html

register = template.Library()

TASK_ITEM = """<li{overdue_class}>
      <a href="{url}" aria-label="{label}">{title}</a>
      · {due}
      · {assignee}{overdue_flag}
    </li>"""
INTERACTION_ITEM = """<li>
      {when}
      · <strong>{kind}</strong> {subject} — {author}{contact}
    </li>"""


def _blocktrans(message, **data):
    """``{% blocktrans %}``: the translation unescaped, its variables rendered as
    ``{{ }}`` (``data``); the source text where a translation's placeholder is wrong."""
    try:
        return gettext(message) % data
    except (KeyError, ValueError):
        with translation.override(None):
            return gettext(message) % data


class TaskItemNode(template.Node):
    """One open task::

    <li{% if task.overdue %} class="desk-overdue"{% endif %}>
      <a href="{% url 'helpdesk:task' task.pk %}" aria-label="{% blocktrans with
      title=task.title %}Edit the task {{ title }}{% endblocktrans %}">{{ task.title
      }}</a>
      · {% if task.due_at %}{% time_element task.due_at "SHORT_DATETIME_FORMAT" %}{%
      else %}{% trans "no due date" %}{% endif %}
      · {{ task.assignee }}{% if task.overdue %} <strong class="desk-flag">{% trans
      "Overdue" %}</strong>{% endif %}
    </li>
    """

    def __init__(self, task):
        self.task = task

    def render(self, context):
        task = self.task.resolve(context)
        title = render_value_in_context(task.title, context)
        url = reverse("helpdesk:task", args=[task.pk])
        if context.autoescape:
            url = conditional_escape(url)
        # gettext_noop: the literal into the catalogues, translated by _blocktrans
        label = _blocktrans(gettext_noop("Edit the task %(title)s"), title=title)
        if task.due_at:
            due = time_element_html(context, task.due_at, "SHORT_DATETIME_FORMAT")
        else:
            due = gettext("no due date")  # a {% trans %} literal: not escaped
        overdue = task.overdue
        flag = gettext("Overdue")
        return mark_safe(  # noqa: S308 - every value escaped above
            TASK_ITEM.format(
                overdue_class=' class="desk-overdue"' if overdue else "",
                url=url,
                label=label,
                title=title,
                due=due,
                assignee=render_value_in_context(task.assignee, context),
                overdue_flag=f' <strong class="desk-flag">{flag}</strong>'
                if overdue
                else "",
            )
        )


class InteractionItemNode(template.Node):
    """One of the latest interactions::

    <li>
      {% time_element interaction.happened_at "SHORT_DATETIME_FORMAT" %}
      · <strong>{{ interaction.get_kind_display }}</strong> {{ interaction.subject }}
      — {{ interaction.author }}{% if interaction.contact %}, {{ interaction.contact
      }}{% endif %}
    </li>
    """

    def __init__(self, interaction):
        self.interaction = interaction

    def render(self, context):
        interaction = self.interaction.resolve(context)
        shown = render_value_in_context
        contact = interaction.contact
        return mark_safe(  # noqa: S308 - every value escaped above
            INTERACTION_ITEM.format(
                when=time_element_html(
                    context, interaction.happened_at, "SHORT_DATETIME_FORMAT"
                ),
                kind=shown(interaction.get_kind_display(), context),
                subject=shown(interaction.subject, context),
                author=shown(interaction.author, context),
                contact=f", {shown(contact, context)}" if contact else "",
            )
        )


def _one_argument(node_class):
    def tag(parser, token):
        bits = token.split_contents()
        if len(bits) != 2:
            raise template.TemplateSyntaxError(f"{bits[0]} takes one argument")
        return node_class(parser.compile_filter(bits[1]))

    return tag


register.tag("follow_up_task", _one_argument(TaskItemNode))
register.tag("follow_up_interaction", _one_argument(InteractionItemNode))
