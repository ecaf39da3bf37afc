"""``{% time_element value "DATETIME_FORMAT" %}``: the desk's ``<time>`` cell,

    <time datetime="{{ value|date:'c' }}">{{ value|date:"DATETIME_FORMAT" }}</time>

in one node, for lists that show many dates (the workspace's conversation and history,
crm's Follow-up panel). The text is the ``date`` filter's, character for character, in
the active language and time zone: ``LocalDateFormatter`` reads the format once per
process and language, turns it into one ``str.format`` template of the local time's numeric fields,
keeps the translated month names per language and escapes the literals and names once
(the ``date`` filter builds a ``DateFormat``, splits the format, translates the month
name again and escapes the whole text for every value). Any other format character
goes through Django's own ``DateFormat``. A node that renders a whole list itself
builds one ``TimeElements`` for it: the language, the time zone and the escaping read
once instead of once per value.
"""

from datetime import datetime

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import FilterExpression
from django.template.defaultfilters import date as date_filter
from django.utils import formats, timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal.escaping import escaped

register = template.Library()

# Format characters that are a number of the (local) value's fields: the same strings
# as ``DateFormat``'s methods of the same name (``str()`` of the int where it returns
# one, as ``Formatter.format`` does), as ``str.format`` fields of the value (``{0}``).
NUMERIC = {
    "d": "{0.day:02d}",
    "j": "{0.day}",
    "m": "{0.month:02d}",
    "n": "{0.month}",
    "Y": "{0.year:04d}",
    "H": "{0.hour:02d}",
    "G": "{0.hour}",
    "i": "{0.minute:02d}",
    "s": "{0.second:02d}",
}
# Translated month names: a function of the month alone (Django's ``MONTHS_*`` tables).
BY_MONTH = frozenset("bEFMN")


class LocalDateFormatter:
    """``formats.date_format(value, format_name)`` of datetimes already in local time,
    in the language active when it is built (``local_formatter`` keeps one per format,
    language and escaping: the format is read and split once, each month's name
    translated once). With ``escape``, the text is
    ``conditional_escape``'s of it (escaping is character by character, so each piece
    is escaped on its own: the literals and month names once, numbers never)."""

    def __init__(self, format_name: str, escape: bool = False):
        self.escape = escaped if escape else str
        # The text as one ``str.format`` template: numbers are fields of the value
        # ({0.day:02d}); every other character is a positional field ({1}, {2}, …)
        # filled by ``self.fields``: (format character, {month: name} or None).
        parts = []
        self.fields = []
        for i, piece in enumerate(
            re_formatchars.split(str(formats.get_format(format_name)))
        ):
            if i % 2 and piece in NUMERIC:
                parts.append(NUMERIC[piece])
            elif i % 2:
                self.fields.append((piece, {} if piece in BY_MONTH else None))
                parts.append(f"{{{len(self.fields)}}}")
            elif piece:
                literal = str(self.escape(re_escaped.sub(r"\1", piece)))
                parts.append(literal.replace("{", "{{").replace("}", "}}"))
        self.template = "".join(parts)

    def __call__(self, value) -> str:
        if not self.fields:
            return self.template.format(value)
        values = []
        fallback = None
        for char, names in self.fields:
            if names is not None:
                name = names.get(value.month)
                if name is None:
                    name = names[value.month] = str(
                        self.escape(str(getattr(DateFormat(value), char)()))
                    )
                values.append(name)
            else:
                if fallback is None:
                    fallback = DateFormat(value)
                values.append(str(self.escape(str(getattr(fallback, char)()))))
        return self.template.format(value, *values)


# {(format name, language, escape): LocalDateFormatter}: the formatters made so far,
# kept for the process (formats and catalogues do not change once loaded, as
# ``{% trans_once %}`` and ``choice_label`` assume; a changed setting, in tests,
# forgets them all).
_KEPT: dict = {}


def local_formatter(format_name: str, escape: bool) -> LocalDateFormatter:
    """The kept ``LocalDateFormatter(format_name, escape)`` of the active language."""
    key = (format_name, get_language(), escape)
    formatter = _KEPT.get(key)
    if formatter is None:
        formatter = _KEPT[key] = LocalDateFormatter(format_name, escape=escape)
    return formatter


@receiver(setting_changed, dispatch_uid="portal.time_tags.forget_formatters")
def forget_formatters(**kwargs):
    _KEPT.clear()


class TimeElements:
    """``<time datetime="{{ value|date:'c' }}">{{ value|date:format_name }}</time>``
    of many values, in the language, time zone and escaping of ``context`` when it is
    built: build one for a list (a node that renders the list's rows itself) and call
    it for each value. The time zone's conversion is ``template_localtime``'s (a
    datetime, aware, without ``convert_to_local_time = False``, when the context or
    ``USE_TZ`` says so); the ISO form is made of digits, ``-``, ``:``, ``+``, ``T``
    and ``.``, so escaping leaves it as it is."""

    def __init__(self, context, format_name: str):
        self.context = context
        self.format_name = format_name
        use_tz = settings.USE_TZ if context.use_tz is None else context.use_tz
        self.zone = timezone.get_current_timezone() if use_tz else None
        self.text_of = local_formatter(format_name, context.autoescape)

    def local(self, value: datetime) -> datetime:
        """``timezone.template_localtime(value, context.use_tz)`` of a datetime."""
        zone = self.zone
        if (
            zone is not None
            and value.utcoffset() is not None
            and getattr(value, "convert_to_local_time", True)
        ):
            return value.astimezone(zone)
        return value

    def __call__(self, value) -> str:
        if not isinstance(value, datetime):  # a date, None, …: the filter itself
            return filtered(self.context, value, self.format_name)
        value = self.local(value)
        return f'<time datetime="{value.isoformat()}">{self.text_of(value)}</time>'

    def text(self, value) -> str:
        """``{{ value|date:format_name }}`` alone (rendered as a variable: escaped
        with the context's escaping)."""
        if not isinstance(value, datetime):
            text = date_filter(value, self.format_name)
            return escaped(text) if self.context.autoescape else text
        return self.text_of(self.local(value))


def filtered(context, value, format_name: str) -> str:
    """The element of what is not a datetime: the ``date`` filter's own text."""
    iso = date_filter(value, "c")
    text = date_filter(value, format_name)
    if context.autoescape:
        iso, text = conditional_escape(iso), conditional_escape(text)
    return f'<time datetime="{iso}">{text}</time>'


def time_element_html(context, value, format_name: str) -> str:
    """``<time datetime="{{ value|date:'c' }}">{{ value|date:format_name }}</time>`` in
    ``context``, for one value (``TimeElements`` for a list); the formatters are kept
    per process (``local_formatter``)."""
    if not isinstance(value, datetime):
        return mark_safe(filtered(context, value, format_name))  # noqa: S308
    text = local_formatter(format_name, context.autoescape)
    value = timezone.template_localtime(value, context.use_tz)
    # the ISO form needs no escaping (``TimeElements``), the text is escaped
    return mark_safe(f'<time datetime="{value.isoformat()}">{text(value)}</time>')  # noqa: S308


class TimeElementNode(template.Node):
    def __init__(self, value: FilterExpression, format_name: str):
        self.value = value
        self.format_name = format_name

    def render(self, context):
        return time_element_html(context, self.value.resolve(context), self.format_name)


@register.tag
def time_element(parser, token):
    """``{% time_element value "FORMAT_NAME" %}`` (a format setting's name, quoted)."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[2][0] not in "\"'" or bits[2][-1] != bits[2][0]:
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes a value and a quoted format name: {{% {bits[0]} value "DATETIME_FORMAT" %}}'
        )
    return TimeElementNode(parser.compile_filter(bits[1]), bits[2][1:-1])
