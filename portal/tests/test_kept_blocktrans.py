"""``portal.kept_nodes.KeptBlockTranslationNode``: a ``{% blocktrans %}`` that reads
variables renders what Django's node renders, per language, plural form, escaping and
localisation, kept per the values it read; anything it cannot key renders with
Django's node each time."""

from unittest import mock

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.templatetags import i18n as django_i18n
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from portal import kept_nodes

from .test_kept_translations_urls import _kinds, _plain

L = "{% load i18n %}"
SOURCES = [
    L + "{% blocktrans count counter=n %}{{ counter }} ticket{% plural %}"
    "{{ counter }} tickets{% endblocktrans %}",
    L + "{% blocktrans with counter=n %}{{ counter }}+ tickets{% endblocktrans %}",
    L + "{% blocktrans with n=n total=total %}Page {{ n }} of {{ total }}"
    "{% endblocktrans %}",
    L + "{% blocktrans with name=name %}Queue: {{ name }}{% endblocktrans %}",
    L + "{% blocktrans %}Hello {{ name }}, 100% {{ n }}{% endblocktrans %}",
    L + "{% blocktrans trimmed with name=name|upper %}\n  {{ name }}\n  <b>&</b>"
    "{% endblocktrans %}",
    L + "{% blocktrans context 'inbox' count counter=n %}{{ counter }} ticket"
    "{% plural %}{{ counter }} tickets{% endblocktrans %}",
    L + "{% blocktrans count counter=n %}one{% plural %}more{% endblocktrans %}",
    L + "{% blocktrans with total=n count counter=total %}{{ counter }} of {{ name }}"
    "{% plural %}{{ counter }} of {{ name }}s{% endblocktrans %}",
]
VALUES = [
    {"n": 1, "total": 1, "name": "Billing"},
    {"n": 2, "total": 3, "name": "<Q&A>"},
    {"n": 5, "total": 12345, "name": mark_safe("<b>safe</b>")},
    {"n": 22, "total": 1001, "name": None},
    {"n": 1001, "total": 2, "name": True},
    {"n": 0, "total": 0, "name": ""},
]


def _node(template):
    (node,) = [n for n in template.nodelist if hasattr(n, "kept")]
    return node


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_kept_blocktrans_is_djangos_own(source, autoescape, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    ours, theirs = Template(source), _plain(source)
    assert kept_nodes.KeptBlockTranslationNode in _kinds(ours)
    assert kept_nodes.KeptBlockTranslationNode not in _kinds(theirs)
    for language in ("en", "pl", "ru", "en"):
        with translation.override(language):
            for values in VALUES * 2:  # made, then kept
                for use_l10n in (True, False):

                    def context(values=values, use_l10n=use_l10n):
                        return Context(values, autoescape=autoescape, use_l10n=use_l10n)

                    assert ours.render(context()) == theirs.render(context())
    assert _node(ours).kept


def test_the_plural_forms_follow_the_count_in_each_language():
    source = SOURCES[0]
    ours, theirs = Template(source), _plain(source)
    with translation.override("pl"):
        seen = {ours.render(Context({"n": n})) for n in (1, 2, 5, 22, 25)}
        assert seen == {theirs.render(Context({"n": n})) for n in (1, 2, 5, 22, 25)}
    assert len(seen) == 5


def test_djangos_node_renders_once_per_language_and_values():
    template = Template(SOURCES[2])
    rendered = []
    own = django_i18n.BlockTranslateNode.render

    def counted(node, context, nested=False):
        rendered.append(translation.get_language())
        return own(node, context, nested)

    with mock.patch.object(django_i18n.BlockTranslateNode, "render", counted):
        for language, n in (("en", 1), ("en", 1), ("pl", 1), ("pl", 1), ("en", 2)):
            with translation.override(language):
                template.render(Context({"n": n, "total": 3}))
    assert rendered == ["en", "pl", "en"]


@pytest.mark.parametrize(
    ("values", "sources"),
    [
        ({"n": 2, "name": gettext_lazy("Search")}, (3, 4)),  # lazy text
        ({"n": 2, "name": object()}, (3, 4)),
        ({"n": 2}, (4,)),  # a name read from the context missing: string_if_invalid
        ({"n": 2.5, "name": "x"}, (1, 2, 4)),  # a float
    ],
)
def test_values_it_cannot_key_render_with_djangos_node_each_time(values, sources):
    values = {**values, "total": 3}
    for at in sources:
        ours, theirs = Template(SOURCES[at]), _plain(SOURCES[at])
        for language in ("en", "pl"):
            with translation.override(language):
                for _ in range(2):
                    expected = theirs.render(Context(values))
                    assert ours.render(Context(values)) == expected
        assert _node(ours).kept == {}


def test_a_count_that_is_not_a_number_raises_each_time():
    template = Template(SOURCES[0])
    for _ in range(2):
        with pytest.raises(TemplateSyntaxError):
            template.render(Context({"n": "three"}))
    assert _node(template).kept == {}


def test_blocktrans_as_a_variable_is_djangos_node():
    source = (
        L + "{% blocktrans with n=n asvar word %}{{ n }} x{% endblocktrans %}{{ word }}"
    )
    assert kept_nodes.KeptBlockTranslationNode not in _kinds(Template(source))
    assert Template(source).render(Context({"n": 4})) == "4 x"


def test_a_setting_change_forgets_the_kept_output(settings):
    template = Template(SOURCES[3])
    with translation.override("en"):
        assert template.render(Context({"name": "A"})) == "Queue: A"
        node = _node(template)
        (key,) = node.kept
        node.kept[key] = "stale"
        assert template.render(Context({"name": "A"})) == "stale"  # kept, as designed
        settings.LANGUAGE_CODE = settings.LANGUAGE_CODE  # any setting_changed
        assert template.render(Context({"name": "A"})) == "Queue: A"
