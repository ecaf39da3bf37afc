"""``{% trans_once %}`` (``portal.templatetags.trans_once``): the same output as the
template without it, in each language, with autoescape on and off, for every kind of
node it may keep or must leave alone; kept per language (and autoescape setting), and
never for a translation that reads a variable."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from portal.templatetags.trans_once import KeptAsNode, KeptRunNode

BODY = """<h2>{% trans "Conversation" %}</h2> & <b>{% trans "Back to the inbox" %}</b>
{% trans "May" context "month name" %}|{% trans "100% done, 50%% left" %}|{% trans "Merged into" noop %}
{% trans "a < b & \\"c\\"" %}|{% translate 'History' %}
{% blocktrans with name='%(name)s' %}{{ name }} is replying{% endblocktrans %}
{% blocktrans with name='<i>' %}{{ name }} is replying{% endblocktrans %}
{% if flag %}{% trans "Details" %} {{ value }}{% elif other %}{% trans "SLA" %}{% else %}{% trans "Watchers" %}{% endif %}
{% for item in items %}{% trans "Requester" %}: {{ item }}{% empty %}{% trans "None." %}{% endfor %}
{% with x=value %}{% trans "Status" %} {{ x }}{% endwith %}
{% trans value %}|{% trans "Queue" as queue %}{{ queue }}|{% trans "Tags"|upper %}
{% blocktrans %}{{ value }} is replying{% endblocktrans %}
{% blocktrans with name=value %}{{ name }} is viewing this ticket{% endblocktrans %}
{% blocktrans count n=count %}{{ n }} minute in total{% plural %}{{ n }} minutes in total{% endblocktrans %}
{% language "ru" %}{% trans "History" %}{% endlanguage %}|{% trans "History" %}
{% autoescape off %}{% trans "Conversation" %} {{ value }}{% endautoescape %}
{% trans "a < b & \\"c\\"" as odd %}{{ odd }}|{% trans "May" context "month name" as may %}{{ may }}
{% if flag %}{% trans "Details" as d %}{% endif %}[{{ d }}]{% trans value as v %}{{ v }}
{% autoescape off %}{% trans "a < b & \\"c\\"" as raw %}{{ raw }}{% endautoescape %}"""

PLAIN = Template("{% load i18n %}" + BODY)
KEPT = Template(
    "{% load i18n trans_once %}{% trans_once %}" + BODY + "{% endtrans_once %}"
)

CONTEXTS = [
    {"flag": True, "value": "<x> & 'y'", "items": ["a<b>", "c"], "count": 1},
    {"other": True, "value": "Conversation", "items": [], "count": 3},
    {"value": "", "count": 22},
]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_output_is_the_template_without_the_tag(language, autoescape):
    for data in CONTEXTS:
        with translation.override(language):
            expected = PLAIN.render(Context(data, autoescape=autoescape))
            # twice: the first render keeps, the second reads what was kept
            assert KEPT.render(Context(data, autoescape=autoescape)) == expected
            assert KEPT.render(Context(data, autoescape=autoescape)) == expected


def test_the_example_is_translated():
    """The oracle would prove little if nothing were translated."""
    with translation.override("pl"):
        html = KEPT.render(Context(CONTEXTS[0]))
    assert "<h2>Rozmowa</h2>" in html
    assert "Powrót do skrzynki" in html


def test_each_language_reads_its_own_kept_output():
    template = Template(
        '{% load i18n trans_once %}{% trans_once %}<h2>{% trans "Conversation" %}</h2>'
        "{% endtrans_once %}"
    )
    seen = []
    for language in ("en", "pl", "ru", "en", "pl"):
        with translation.override(language):
            seen.append(template.render(Context()))
    assert seen == [
        "<h2>Conversation</h2>",
        "<h2>Rozmowa</h2>",
        "<h2>Переписка</h2>",
        "<h2>Conversation</h2>",
        "<h2>Rozmowa</h2>",
    ]


def kept_runs(template):
    found = []

    def walk(nodelist):
        for node in nodelist:
            if isinstance(node, KeptRunNode):
                found.append(node)
            branches = getattr(node, "conditions_nodelists", None)
            if branches is not None:  # ``IfNode.nodelist`` joins its branches
                for _condition, branch in branches:
                    walk(branch)
                continue
            for name in ("nodelist", "nodelist_loop", "nodelist_empty"):
                child = getattr(node, name, None)
                if child is not None:
                    walk(child)

    walk(template.nodelist)
    return found


def test_constant_runs_are_kept_variables_are_not():
    template = Template(
        '{% load i18n trans_once %}{% trans_once %}<p>{% trans "Status" %}: {{ v }} '
        "{% trans v %} {% blocktrans %}{{ v }} is replying{% endblocktrans %}"
        '{% if v %}<b>{% trans "SLA" %}</b>{% endif %}</p>{% endtrans_once %}'
    )
    runs = kept_runs(template)
    with translation.override("en"):
        assert [run.render(Context()) for run in runs] == ["<p>Status: ", "<b>SLA</b>"]
        assert template.render(Context({"v": "History"})) == (
            "<p>Status: History History History is replying<b>SLA</b></p>"
        )
        assert template.render(Context({"v": "Details"})) == (
            "<p>Status: Details Details Details is replying<b>SLA</b></p>"
        )
    assert {key for run in runs for key in run.kept} == {("en", True)}


def test_a_run_of_text_alone_is_left_as_it_was():
    template = Template(
        "{% load trans_once %}{% trans_once %}<p>{{ v }}</p>{% endtrans_once %}"
    )
    assert kept_runs(template) == []
    assert template.render(Context({"v": "<x>"})) == "<p>&lt;x&gt;</p>"


def test_takes_no_arguments():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load trans_once %}{% trans_once x %}{% endtrans_once %}")


def test_a_constant_translation_as_a_variable_is_kept_and_set_each_time():
    body = '{% trans "History" as label %}{% trans v as mine %}{{ label }}/{{ mine }}'
    plain = Template("{% load i18n %}" + body)
    template = Template(
        "{% load i18n trans_once %}{% trans_once %}" + body + "{% endtrans_once %}"
    )
    kept = [
        node for node in template.nodelist[-1].nodelist if isinstance(node, KeptAsNode)
    ]
    assert [node.node.asvar for node in kept] == ["label"]
    seen = set()
    for language in ("en", "pl", "ru"):
        with translation.override(language):
            for _turn in (1, 2):
                expected = plain.render(Context({"v": "Status"}))
                assert template.render(Context({"v": "Status"})) == expected
            seen.add(expected)
    assert len(seen) == 3  # translated
    assert set(kept[0].kept) == {("en", True), ("pl", True), ("ru", True)}
