"""``{% time_element value "DATETIME_FORMAT" %}``: the desk's ``<time>`` cell,

    <time datetime="{{ value|date:'c' }}">{{ value|date:"DATETIME_FORMAT" }}</time>

in one node, for lists that show many dates (the workspace's conversation and history,
crm's Follow-up panel). The text is the ``date`` filter's, character for character, in
the active language and time zone: ``LocalDateFormatter`` reads the format once per
render, computes the numeric fields of the local time itself and keeps the translated
month names per language (the ``date`` filter builds a ``DateFormat``, splits the format
and translates the month name again for every value). Any other format character goes
through Django's own ``DateFormat``.
"""

from datetime import datetime

from django import template
from django.template.base import FilterExpression
from django.template.defaultfilters import date as date_filter
from django.utils import formats, timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Format characters that are a number of the (local) value's fields: the same strings
# as ``DateFormat``'s methods of the same name (``str()`` of the int where it returns
# one, as ``Formatter.format`` does).
NUMERIC = {
    "d": lambda v: f"{v.day:02d}",
    "j": lambda v: str(v.day),
    "m": lambda v: f"{v.month:02d}",
    "n": lambda v: str(v.month),
    "y": lambda v: f"{v.year % 100:02d}",
    "Y": lambda v: f"{v.year:04d}",
    "H": lambda v: f"{v.hour:02d}",
    "G": lambda v: str(v.hour),
    "i": lambda v: f"{v.minute:02d}",
    "s": lambda v: f"{v.second:02d}",
}
# Translated month names: a function of the month alone (Django's ``MONTHS_*`` tables).
BY_MONTH = frozenset("bEFMN")


class LocalDateFormatter:
    """``formats.date_format(value, format_name)`` of datetimes already in local time,
    in the language active when it is built: build one per render (the format is read
    and split once, each month's name translated once)."""

    def __init__(self, format_name: str):
        self.pieces = []  # (literal or None, format character, {month: name} or None)
        for i, piece in enumerate(
            re_formatchars.split(str(formats.get_format(format_name)))
        ):
            if i % 2:
                self.pieces.append((None, piece, {} if piece in BY_MONTH else None))
            elif piece:
                self.pieces.append((re_escaped.sub(r"\1", piece), None, None))

    def __call__(self, value) -> str:
        out = []
        fallback = None
        for literal, char, names in self.pieces:
            if literal is not None:
                out.append(literal)
            elif names is not None:
                name = names.get(value.month)
                if name is None:
                    name = names[value.month] = str(getattr(DateFormat(value), char)())
                out.append(name)
            elif char in NUMERIC:
                out.append(NUMERIC[char](value))
            else:
                if fallback is None:
                    fallback = DateFormat(value)
                out.append(str(getattr(fallback, char)()))
        return "".join(out)


def time_element_html(context, key, value, format_name: str) -> str:
    """``<time datetime="{{ value|date:'c' }}">{{ value|date:format_name }}</time>`` in
    ``context``; ``key`` names the node that keeps its formatter for the render (one
    per node and language)."""
    if not isinstance(value, datetime):  # a date, None, …: the filter itself
        iso = date_filter(value, "c")
        text = date_filter(value, format_name)
    else:
        key = (key, get_language())
        formatter = context.render_context.get(key)
        if formatter is None:
            formatter = context.render_context[key] = LocalDateFormatter(format_name)
        value = timezone.template_localtime(value, context.use_tz)
        text = formatter(value)
        iso = value.isoformat()
    if context.autoescape:
        iso, text = conditional_escape(iso), conditional_escape(text)
    return mark_safe(f'<time datetime="{iso}">{text}</time>')  # noqa: S308


class TimeElementNode(template.Node):
    def __init__(self, value: FilterExpression, format_name: str):
        self.value = value
        self.format_name = format_name

    def render(self, context):
        return time_element_html(
            context, self, self.value.resolve(context), self.format_name
        )


@register.tag
def time_element(parser, token):
    """``{% time_element value "FORMAT_NAME" %}`` (a format setting's name, quoted)."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[2][0] not in "\"'" or bits[2][-1] != bits[2][0]:
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes a value and a quoted format name: {{% {bits[0]} value "DATETIME_FORMAT" %}}'
        )
    return TimeElementNode(parser.compile_filter(bits[1]), bits[2][1:-1])
