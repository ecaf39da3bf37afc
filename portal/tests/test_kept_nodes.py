"""``portal.kept_nodes``: ``{% static %}``, ``{% versioned_static %}`` and ``{% icon %}``
kept on the parsed node render what Django's and Wagtail's own nodes render, follow
a change of settings at once, and keep nothing they should not."""

import itertools

import pytest
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.template import Context, Engine, Library, Template
from django.template.base import Lexer, Parser
from django.templatetags import static as django_static
from django.utils.safestring import mark_safe
from wagtail.admin.templatetags import wagtailadmin_tags

from portal import kept_nodes


def _render(source, autoescape=True, **values):
    return Template(source).render(Context(values, autoescape=autoescape))


def _plain(source, autoescape=True, **values):
    """The same template compiled with the tags' own (unwrapped) compile functions."""
    engine = Engine.get_default()
    libraries = {
        **engine.template_libraries,
        "static": _unwrapped(django_static.register),
        "wagtailadmin_tags": _unwrapped(wagtailadmin_tags.register),
    }
    template = Template("")
    template.nodelist = Parser(
        Lexer(source).tokenize(), libraries, engine.template_builtins
    ).parse()
    return template.render(Context(values, autoescape=autoescape))


def _unwrapped(library):
    plain = Library()
    plain.filters = library.filters
    plain.tags = {
        name: getattr(tag, "__wrapped_tag__", tag) for name, tag in library.tags.items()
    }
    return plain


STATIC = [
    "{% load static %}{% static 'desk/desk.css' %}",
    "{% load static %}<a href=\"{% static 'a b&c<d>.js' %}\">",
    "{% load wagtailadmin_tags %}{% versioned_static 'wagtailadmin/css/core.css' %}",
    "{% load wagtailadmin_tags %}{% versioned_static 'x&y\"z.js' %}",
]


@pytest.mark.parametrize("source", STATIC)
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_kept_static_url_is_the_tags_own(source, autoescape):
    template = Template(source)
    assert any(isinstance(n, kept_nodes.KeptStaticNode) for n in template.nodelist)
    first = template.render(Context({}, autoescape=autoescape))
    again = template.render(Context({}, autoescape=autoescape))
    assert first == again == _plain(source, autoescape)


def test_only_literal_paths_without_as_are_kept():
    for source in (
        "{% load static %}{% static path %}",
        "{% load static %}{% static 'a.css' as url %}{{ url }}",
        "{% load static %}{% static 'a.css'|lower %}",
        "{% load wagtailadmin_tags %}{% versioned_static path %}",
        "{% load wagtailadmin_tags %}{% versioned_static 'a.css' as url %}",
    ):
        nodes = Template(source).nodelist
        assert not any(isinstance(n, kept_nodes.KeptStaticNode) for n in nodes)
    assert _render("{% load static %}{% static path %}", path="a.css") == (
        "/static/a.css"
    )
    assert _render("{% load static %}{% static path %}", path="b.css") == (
        "/static/b.css"
    )


def test_a_change_of_settings_is_followed_at_once(settings):
    template = Template(STATIC[0])
    assert template.render(Context()) == "/static/desk/desk.css"
    settings.STATIC_URL = "/elsewhere/"
    assert template.render(Context()) == "/elsewhere/desk/desk.css"
    settings.STATIC_URL = "/static/"
    assert template.render(Context()) == "/static/desk/desk.css"
    versioned = Template(STATIC[2])
    with_version = versioned.render(Context())
    assert "?v=" in with_version  # a plain storage: Wagtail's version string
    settings.STATIC_URL = "https://cdn.example.com/s/"
    assert versioned.render(Context()).startswith(
        "https://cdn.example.com/s/wagtailadmin/css/core.css"
    )


class CountingStorage(StaticFilesStorage):
    """A storage whose URLs differ each time (as signed ones would)."""

    counter = itertools.count()

    def url(self, name):
        return f"{super().url(name)}?n={next(self.counter)}"


def test_a_storage_that_is_not_a_file_system_one_is_asked_each_time(
    settings, monkeypatch
):
    monkeypatch.setattr(kept_nodes, "_storage_urls_fixed", lambda: False)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": f"{__name__}.CountingStorage"},
    }
    template = Template(STATIC[0])
    assert template.render(Context()) != template.render(Context())


def test_a_missing_file_raises_each_time(settings):
    class Strict(StaticFilesStorage):
        def url(self, name):
            raise ValueError(f"Missing staticfiles manifest entry for '{name}'")

    from django.contrib.staticfiles import storage

    template = Template(STATIC[0])
    original = storage.staticfiles_storage._wrapped
    storage.staticfiles_storage._wrapped = Strict()
    try:
        for _ in range(2):
            with pytest.raises(ValueError):
                template.render(Context())
    finally:
        storage.staticfiles_storage._wrapped = original
    assert template.render(Context()) == "/static/desk/desk.css"


ICONS = [
    '{% icon name="success" classname="messages-icon" %}',
    '{% icon name="warning" %}',
    '{% icon classname="w-header__glyph" name=icon %}',
    "{% icon name=icon title=title wrapped=1 %}",
    "{% icon name=icon title=title %}",
    "{% icon 'cogs' 'c<l>' title %}",
]
VALUES = [
    {"icon": "tasks", "title": "A <b>&"},
    {"icon": "tasks", "title": mark_safe("A <b>&")},  # same text, safe
    {"icon": 'x"y', "title": None},
    {"icon": "tasks", "title": "A <b>&"},
]


@pytest.mark.parametrize("source", ICONS)
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_kept_icon_is_wagtails_own(source, autoescape):
    source = "{% load wagtailadmin_tags %}" + source
    template = Template(source)
    assert isinstance(template.nodelist[-1], kept_nodes.KeptIconNode)
    for values in VALUES * 2:
        ours = template.render(Context(values, autoescape=autoescape))
        assert ours == _plain(source, autoescape, **values), values


def test_an_icon_of_values_it_cannot_key_renders_afresh():
    class Name:
        def __init__(self, text):
            self.text = text

        def __str__(self):
            return self.text

    template = Template("{% load wagtailadmin_tags %}{% icon name=icon %}")
    first = template.render(Context({"icon": Name("a")}))
    second = template.render(Context({"icon": Name("b")}))
    assert "icon-a" in first and "icon-b" in second
    assert template.nodelist[-1].kept == {}


def test_an_icon_keeps_a_few_outputs_per_node():
    template = Template("{% load wagtailadmin_tags %}{% icon name=icon %}")
    for n in range(3 * kept_nodes.MAX_PER_NODE):
        assert f"icon-n{n}" in template.render(Context({"icon": f"n{n}"}))
    assert len(template.nodelist[-1].kept) <= kept_nodes.MAX_PER_NODE
