"""``escaped(value)``: ``conditional_escape(value)`` for nodes that build many rows in
Python (``tickets.templatetags.desk_tags``, ``portal.templatetags.time_tags``).

Django's ``conditional_escape`` goes through ``keep_lazy``'s wrapper (a generator over
the arguments looking for lazy ones) and wraps the result in a ``SafeString``: about
fifteen calls a value, several values a row. This is the same decision in four: a lazy
string is evaluated first, an object that renders itself (``__html__``: safe strings,
forms' bound fields) gives its own markup, anything else is ``str()``'d and escaped
with ``html.escape`` (Django's ``escape`` is exactly that). The result is a plain
``str`` with the same characters; the caller marks the whole row safe.
"""

from html import escape as html_escape

from django.utils.functional import Promise


def escaped(value) -> str:
    """``str(conditional_escape(value))``."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))
