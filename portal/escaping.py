"""``escaped(value)``: ``conditional_escape(value)`` for nodes that build many rows in
Python (``tickets.templatetags.desk_tags``, ``portal.templatetags.time_tags``), and
``linebreaks_html``, the ``linebreaks`` filter's markup, for the same rows.

Django's ``conditional_escape`` goes through ``keep_lazy``'s wrapper (a generator over
the arguments looking for lazy ones) and wraps the result in a ``SafeString``: about
fifteen calls a value, several values a row. This is the same decision in four: a lazy
string is evaluated first, an object that renders itself (``__html__``: safe strings,
forms' bound fields) gives its own markup, anything else is ``str()``'d and escaped
with ``html.escape`` (Django's ``escape`` is exactly that). The result is a plain
``str`` with the same characters; the caller marks the whole row safe.
"""

import re
from html import escape as html_escape

from django.utils.functional import Promise
from django.utils.safestring import SafeData

# ``django.utils.html.linebreaks``'s paragraph break and ``normalize_newlines``'s
# line ends
PARAGRAPHS = re.compile("\n{2,}")
LINE_ENDS = re.compile(r"\r\n|\r")


def escaped(value) -> str:
    """``str(conditional_escape(value))``."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))


def linebreaks_html(value, autoescape: bool) -> str:
    """``str(linebreaks_filter(value, autoescape))`` (``{{ value|linebreaks }}``):
    Django's ``linebreaks`` (each paragraph, escaped unless the value is safe, in
    ``<p>``, its line breaks ``<br>``) without the three lazy wrappers and the escape's
    around it (about fifty calls a value)."""
    text = str(value)
    paragraphs = PARAGRAPHS.split(LINE_ENDS.sub("\n", text))
    if autoescape and not isinstance(text, SafeData):
        paragraphs = [html_escape(p) for p in paragraphs]
    return "\n\n".join("<p>{}</p>".format(p.replace("\n", "<br>")) for p in paragraphs)
