"""``portal.escaping.escaped`` against Django's ``conditional_escape``."""

from django.forms import CharField, Form
from django.utils.functional import lazy
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from accounts.models import User
from portal.escaping import escaped


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
