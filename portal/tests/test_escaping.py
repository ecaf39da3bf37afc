"""``portal.escaping.escaped`` against Django's ``conditional_escape``."""

from django.forms import CharField, Form
from django.template import Context, Template
from django.template.defaultfilters import linebreaks_filter
from django.utils.functional import lazy
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from accounts.models import User
from portal.escaping import escaped, linebreaks_html


class Shown:
    def __str__(self):
        return "<shown> & 'q'"


class SelfRendered:
    def __html__(self):
        return "<b>kept</b>"


class F(Form):
    name = CharField(initial="<x>")


def values():
    lazy_safe = lazy(lambda: mark_safe("<i>safe</i>"), SafeString)()
    return [
        "",
        "plain",
        "<script>alert('x' & \"y\")</script>",
        mark_safe("<b>already safe</b> &amp;"),
        gettext_lazy("Internal note"),
        lazy_safe,
        0,
        12345,
        3.5,
        None,
        True,
        Shown(),
        SelfRendered(),
        User(email="a@b.c", display_name="Ann <b>\"&'"),
        F()["name"],
        "Zoë — “quotes” \u00a0",
    ]


def test_the_same_characters_as_conditional_escape():
    for language in ("en", "pl", "ru"):
        with override(language):
            for value in values():
                assert escaped(value) == str(conditional_escape(value)), value


BODIES = [
    "",
    "Hello",
    "Line 1\nLine 2\n\n<script>&amp;</script>\r\n\r\nend",
    "a\rb\r\rc\r\n\r\n\r\n\nd\n",
    "\n\n\n",
    "quotes \"double\" 'single' & <tags>",
    mark_safe("<b>safe</b>\n\n<i>x</i>"),
    gettext_lazy("Internal note"),
    None,
    12345,
]


def test_linebreaks_html_is_the_filters():
    for autoescape in (True, False):
        for body in BODIES:
            expected = str(linebreaks_filter(body, autoescape=autoescape))
            assert linebreaks_html(body, autoescape) == expected, (body, autoescape)
            template = Template("{{ body|linebreaks }}")
            assert template.render(Context({"body": body}, autoescape=autoescape)) == (
                linebreaks_html(body, autoescape)
            )
