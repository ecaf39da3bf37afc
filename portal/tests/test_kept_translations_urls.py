"""``portal.kept_nodes``: a ``{% trans %}``/``{% blocktrans %}`` that reads no variable
and an argument-less ``{% url 'name' %}`` kept on the parsed node render what Django's
own nodes render, in each language, for each URL configuration, script prefix and
current application, and follow a change of any of them at once."""

from types import SimpleNamespace
from unittest import mock

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template import defaulttags as django_defaulttags
from django.template.base import Lexer, Parser
from django.templatetags import i18n as django_i18n
from django.urls import NoReverseMatch, set_script_prefix, set_urlconf
from django.utils import translation

from portal import kept_nodes

from .test_kept_nodes import _unwrapped


def _plain(source):
    """The same template compiled with Django's own (unwrapped) compile functions."""
    engine = Engine.get_default()
    builtins = [
        _unwrapped(lib) if lib is django_defaulttags.register else lib
        for lib in engine.template_builtins
    ]
    libraries = {**engine.template_libraries, "i18n": _unwrapped(django_i18n.register)}
    template = Template("")
    template.nodelist = Parser(Lexer(source).tokenize(), libraries, builtins).parse()
    return template


def _kinds(template):
    return {type(node) for node in template.nodelist}


TRANSLATIONS = [
    "{% load i18n %}{% trans 'Sidebar' %}",
    '{% load i18n %}{% translate "Skip to main content" %}',
    "{% load i18n %}{% trans 'Search' context 'x' %}",
    "{% load i18n %}{% trans 'Open' noop %}",
    "{% load i18n %}{% blocktrans %}Some filters were not understood.{% endblocktrans %}",
    "{% load i18n %}{% blocktrans trimmed %}\n  Tickets\n  <b>&</b>{% endblocktrans %}",
    "{% load i18n %}{% blocktrans with name='<Q&A>' %}Queue: {{ name }}{% endblocktrans %}",
    "{% load i18n %}{% trans 'a <b>&amp; \"x\"' %}",
]


@pytest.mark.parametrize("source", TRANSLATIONS)
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_kept_translation_is_djangos_own_in_each_language(source, autoescape):
    ours, theirs = Template(source), _plain(source)
    assert kept_nodes.KeptTranslationNode in _kinds(ours)
    assert kept_nodes.KeptTranslationNode not in _kinds(theirs)
    for language in ("en", "pl", "ru", "en", "ru"):  # a switch shows at once
        with translation.override(language):
            for _ in range(2):  # made, then kept
                context = Context({}, autoescape=autoescape)
                expected = theirs.render(Context({}, autoescape=autoescape))
                assert ours.render(context) == expected


def test_the_polish_words_show_after_english_ones_at_once():
    template = Template("{% load i18n %}{% trans 'Search' %}")
    with translation.override("en"):
        assert template.render(Context()) == "Search"
    with translation.override("pl"):
        polish = template.render(Context())
    with translation.override("pl"):
        assert polish == translation.gettext("Search") != "Search"


def test_a_kept_translation_asks_the_catalogue_once_per_language():
    template = Template("{% load i18n %}{% trans 'Sidebar' %}")
    rendered = []
    own = django_i18n.TranslateNode.render

    def counted(node, context):
        rendered.append(translation.get_language())
        return own(node, context)

    with mock.patch.object(django_i18n.TranslateNode, "render", counted):
        for language in ("en", "en", "en", "pl", "pl", "en"):
            with translation.override(language):
                template.render(Context())
    assert rendered == ["en", "pl"]


@pytest.mark.parametrize(
    "source",
    [
        "{% load i18n %}{% trans name %}",
        "{% load i18n %}{% trans 'Search'|upper %}",
        "{% load i18n %}{% trans 'Search' as word %}{{ word }}",
        "{% load i18n %}{% blocktrans with n=count %}{{ n }} x{% endblocktrans %}",
        "{% load i18n %}{% blocktrans count counter=n %}a{% plural %}b{% endblocktrans %}",
        "{% load i18n %}{% blocktrans %}{{ name }}{% endblocktrans %}",
        "{% load i18n %}{% blocktrans asvar word %}Search{% endblocktrans %}{{ word }}",
    ],
)
def test_a_translation_that_reads_a_variable_is_djangos_node(source):
    ours, theirs = Template(source), _plain(source)
    assert kept_nodes.KeptTranslationNode not in _kinds(ours)
    for name, n in (("Search", 1), ("Status", 2)):
        values = {"name": name, "count": n, "n": n}
        assert ours.render(Context(values)) == theirs.render(Context(values))


def test_a_setting_change_forgets_the_kept_words(settings):
    template = Template("{% load i18n %}{% trans 'Sidebar' %}")
    with translation.override("en"):
        assert template.render(Context()) == "Sidebar"
        (node,) = [n for n in template.nodelist if hasattr(n, "kept")]
        node.kept[("en", True)] = "stale"
        assert template.render(Context()) == "stale"  # kept, as designed
        settings.LANGUAGE_CODE = settings.LANGUAGE_CODE  # any setting_changed
        assert template.render(Context()) == "Sidebar"


URLS = [
    "{% url 'helpdesk:bulk' %}",
    "{% url 'wagtailadmin_javascript_catalog' %}",
    "<a href=\"{% url 'helpdesk:inbox' %}\">",
    "{% url 'javascript-catalog' %}",  # inside the language prefixes
    "{% url 'kb:search' %}",
]


@pytest.mark.parametrize("source", URLS)
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_kept_url_is_djangos_own_for_each_language_and_prefix(source, autoescape):
    ours, theirs = Template(source), _plain(source)
    assert kept_nodes.KeptURLNode in _kinds(ours)
    assert kept_nodes.KeptURLNode not in _kinds(theirs)
    seen = set()
    try:
        for prefix in ("/", "/sub/", "/"):
            set_script_prefix(prefix)
            for language in ("en", "pl", "en", "ru"):
                with translation.override(language):
                    for _ in range(2):
                        expected = theirs.render(Context({}, autoescape=autoescape))
                        got = ours.render(Context({}, autoescape=autoescape))
                        assert got == expected
                        seen.add(got)
    finally:
        set_script_prefix("/")
    assert len(seen) >= 2  # the prefix changed the URL at once


def test_a_language_prefixed_url_follows_the_language_at_once():
    template = Template("{% url 'javascript-catalog' %}")
    with translation.override("en"):
        english = template.render(Context())
    with translation.override("pl"):
        polish = template.render(Context())
    with translation.override("en"):
        again = template.render(Context())
    assert english == "/jsi18n/" and polish == "/pl/jsi18n/" and again == english


def test_a_kept_url_follows_the_request_urlconf_and_current_app():
    template = Template("{% url 'helpdesk:inbox' %}")
    plain = _plain("{% url 'helpdesk:inbox' %}")
    requests = [
        None,
        SimpleNamespace(current_app="helpdesk"),
        SimpleNamespace(resolver_match=SimpleNamespace(namespace="helpdesk")),
    ]
    for request in requests:
        for _ in range(2):
            context, expected = Context(), Context()
            context.request = expected.request = request
            assert template.render(context) == plain.render(expected)
    set_urlconf("portal.tests.urls_without_desk")
    try:
        with pytest.raises(NoReverseMatch):
            template.render(Context())
    finally:
        set_urlconf(None)
    assert template.render(Context()) == "/admin/helpdesk/tickets/"


def test_a_url_that_cannot_be_reversed_raises_each_time():
    template = Template("{% url 'no-such-view' %}")
    for _ in range(2):
        with pytest.raises(NoReverseMatch):
            template.render(Context())


@pytest.mark.parametrize(
    "source",
    [
        "{% url name %}",
        "{% url 'helpdesk:ticket' 'HD-1' %}",
        "{% url 'helpdesk:ticket' reference='HD-1' %}",
        "{% url 'helpdesk:inbox' as here %}{{ here }}",
        "{% url 'helpdesk:inbox'|lower %}",
    ],
)
def test_a_url_with_arguments_a_variable_or_as_is_djangos_node(source):
    template = Template(source)
    assert kept_nodes.KeptURLNode not in _kinds(template)
    values = {"name": "helpdesk:inbox"}
    assert template.render(Context(values)) == _plain(source).render(Context(values))


def test_a_bad_url_tag_is_still_refused():
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")
