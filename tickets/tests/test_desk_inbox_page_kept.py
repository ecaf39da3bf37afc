"""Parts of the inbox page kept per language or per process (bench FINDINGS S-11),
each against what it replaced: the bulk form (``{% inbox_bulk %}``) per language and
staff list, the column headers (``{% inbox_columns %}``) as the former loop, the
page's words as ``{% trans %}`` printed them, "Any", the SLA cells' words and the
date cells' texts per language, the order parameters of the column links."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.translation import gettext

from tickets import sla
from tickets.desk import forms, inbox, kept_fields, views

LANGUAGES = ["en", "pl", "ru"]
NASTY = "<b>\"Q&A\"</b> 'x' {{ y }} 100%"
STAFF = [
    ("1", "a@example.com", "Ann <b>\"&'"),
    ("22", "b&<x>@example.com", "b&<x>@example.com"),
    ("3", "c@example.com", "C {{ z }} 100%"),
]

# ``templates/tickets/desk/inbox.html``'s former bulk form, with its whitespace
FORMER_BULK = (
    "{% load desk_tags i18n %}"
    + """        {% if may_act %}
        <fieldset class="desk-bulk__actions">
            <legend>{% trans "With the selected tickets" %}</legend>
            <label>{% trans "Action" %} <select name="action" id="id_action">
{% for value, label, selected in bulk_options.action %}  <option value="{{ value }}"{% if selected %} selected{% endif %}>{{ label }}</option>

{% endfor %}</select></label>
            <label>{% trans "Assignee (email, me, none)" %} <input type="text" name="assignee" list="desk-staff"></label>
            <datalist id="desk-staff">{% staff_datalist staff %}</datalist>
            <label>{% trans "Status" %} <select name="status" id="id_status">
{% for value, label, selected in bulk_options.status %}  <option value="{{ value }}"{% if selected %} selected{% endif %}>{{ label }}</option>

{% endfor %}</select></label>
            <label>{% trans "Priority" %} <select name="priority" id="id_priority">
{% for value, label, selected in bulk_options.priority %}  <option value="{{ value }}"{% if selected %} selected{% endif %}>{{ label }}</option>

{% endfor %}</select></label>
            <label>{% trans "Tags to add" %} <input type="text" name="tags"></label>
            <button type="submit" class="button button-secondary">{% trans "Apply" %}</button>
        </fieldset>
        {% endif %}"""
)
TAG_BULK = """{% load desk_tags %}        {% if may_act %}
        {% inbox_bulk %}
        {% endif %}"""


@pytest.fixture
def forget():
    kept_fields.forget_kept_fields()
    yield
    kept_fields.forget_kept_fields()


def _render(source, context, autoescape=True):
    return Template(source).render(Context(context, autoescape=autoescape))


@pytest.mark.parametrize("language", LANGUAGES)
def test_bulk_form_is_the_former_markup(language, forget):
    with translation.override(language):
        for staff in (list(STAFF), STAFF[1:], []):
            for may_act in (True, False):
                for autoescape in (True, False):
                    context = {
                        "staff": staff,
                        "may_act": may_act,
                        "bulk_options": views._bulk_options(),
                    }
                    expected = _render(FORMER_BULK, context, autoescape)
                    for _kept in range(2):  # built, then kept
                        assert _render(TAG_BULK, context, autoescape) == expected


def test_bulk_form_is_kept_per_language_and_staff(forget):
    def bulk(language, staff):
        with translation.override(language):
            context = {
                "staff": staff,
                "may_act": True,
                "bulk_options": views._bulk_options(),
            }
            return _render(TAG_BULK, context), _render(FORMER_BULK, context)

    english, _former = bulk("en", list(STAFF))
    polish, former_polish = bulk("pl", list(STAFF))
    assert polish == former_polish
    assert polish != english  # another language, not the kept English form
    renamed = [STAFF[0], ("22", "b@example.com", "Bea"), STAFF[2]]
    shown, former = bulk("en", renamed)
    assert shown == former
    assert ">Bea</option>" in shown  # a changed staff is shown at once
    assert ">Bea</option>" not in bulk("en", list(STAFF))[0]


FORMER_COLUMNS = """{% for key, label, url, sort in columns %}
                        <th scope="col" {% if sort %}aria-sort="{{ sort }}"{% endif %}><a href="{{ url }}">{{ label }}</a></th>
                    {% endfor %}"""  # noqa: E501
TAG_COLUMNS = "{% load desk_tags %}{% inbox_columns columns %}"


@pytest.mark.parametrize("autoescape", [True, False])
def test_column_headers_are_the_former_loop(autoescape):
    columns = [
        ("reference", "Reference", "?order=reference", ""),
        ("subject", NASTY, "?q=%3Cb%3E&a=1&order=-subject", "ascending"),
        ("due", "Срок", "?order=due", "descending"),
        ("x", "", "", ""),
    ]
    for shown in (columns, columns[:1], []):
        context = {"columns": shown}
        assert _render(TAG_COLUMNS, context, autoescape) == _render(
            FORMER_COLUMNS, context, autoescape
        )
    with translation.override("pl"):
        labelled = [
            (key, label, views._with_order("q=x", key), "")
            for key, label in views._column_labels()
        ]
    context = {"columns": labelled}
    assert _render(TAG_COLUMNS, context) == _render(FORMER_COLUMNS, context)


# what the template printed before ``texts``
FORMER_TEXTS = {
    "title": '{% trans "Helpdesk inbox" %}',
    "select": '{% trans "Select" %}',
    "empty": '{% trans "No tickets here." %}',
    "pages": "{% trans 'Pages' %}",
    "previous": '{% trans "Previous" %}',
    "next": '{% trans "Next" %}',
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_page_texts_are_what_trans_printed(language):
    assert set(FORMER_TEXTS) == set(views.PAGE_TEXTS)
    for _kept in range(2):
        with translation.override(language):
            context = {"texts": views._page_texts()}
            for key, former in FORMER_TEXTS.items():
                assert _render("{{ texts." + key + " }}", context) == _render(
                    "{% load i18n %}" + former, {}
                )
            # the header's title, given ``{% trans … as title %}`` before
            assert _render("{{ texts.title }}", context) == _render(
                '{% load i18n %}{% trans "Helpdesk inbox" as title %}{{ title }}', {}
            )


def test_page_texts_are_not_escaped_as_trans_did(monkeypatch):
    monkeypatch.setattr(views, "PAGE_TEXTS", {"title": "Q&A <i>"})
    with translation.override("en"):
        texts = views._page_texts()
    assert _render("{{ texts.title }}", {"texts": texts}) == _render(
        '{% load i18n %}{% trans "Q&A <i>" %}', {}
    )
    assert _render("{{ texts.title }}", {"texts": texts}) == "Q&A <i>"


@pytest.mark.parametrize("language", LANGUAGES)
def test_any_is_translated_per_language(language):
    field = forms.FilterForm.base_fields["status"]
    with translation.override(language):
        for _kept in range(2):
            assert views._chosen(field, []) == gettext("Any")
            assert views._chosen(field, None) == gettext("Any")
        value, label = field.choices[0]
        assert views._chosen(field, [value]) == str(label)


def test_order_parameters_are_encoded_as_before():
    views._ORDER_PARAMETERS.clear()
    for _kept in range(2):
        for key, _label in views.COLUMNS:
            for order in (key, f"-{key}"):
                assert views._with_order("q=x", order) == f"?q=x&order={order}"
                assert views._with_order("", order) == f"?order={order}"
    assert views._with_order("", "a b&c") == "?order=a+b%26c"
    assert len(views._ORDER_PARAMETERS) <= 2 * len(views.COLUMNS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sla_words_are_kept_per_language(language):
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    cases = [
        (sla.RUNNING, now + timedelta(minutes=minutes))
        for minutes in (0, 1, 59, 60, 61, 119, 47 * 60, 48 * 60, 30 * 24 * 60)
    ]
    cases += [(sla.DUE_SOON_STATE, now + timedelta(minutes=5))]
    cases += [(state, None) for state in (sla.BREACHED, sla.PAUSED, sla.MET)]
    cases += [(state, None) for state in (sla.LATE, sla.NONE)]
    with translation.override(language):
        for _page in range(2):  # the second page's words are the kept ones
            labels = inbox._SlaLabels(now)
            for state, due in cases:
                assert labels(state, due) == inbox.sla_label(state, due, now)
    with translation.override("ru" if language != "ru" else "pl"):
        other = inbox._SlaLabels(now)(sla.BREACHED, None)
    with translation.override(language):
        assert other != inbox._SlaLabels(now)(sla.BREACHED, None)


TEMPLATE_DATES = "{{ value|date:'c' }}|{{ value|date:'DAY_MONTH_TIME_FORMAT' }}"


def test_date_texts_are_kept_per_language_and_minute():
    values = [
        datetime(2026, month, 1 + month, month, 2 * month, 7, tzinfo=UTC)
        for month in range(1, 13)
    ]
    for _page in range(2):
        for language in LANGUAGES:
            for zone in ("UTC", "Europe/Moscow"):
                with translation.override(language), timezone.override(zone):
                    cells = inbox._DateCells()
                    for value in values:
                        assert "|".join(cells(value)) == _render(
                            TEMPLATE_DATES, {"value": value}
                        )
    with translation.override("en"):
        english = inbox._DateCells()(values[0])
    with translation.override("pl"):
        assert inbox._DateCells()(values[0]) != english  # the month's name


def test_kept_texts_begin_again_when_full(monkeypatch):
    monkeypatch.setattr(inbox, "_KEPT_TEXTS_LIMIT", 3)
    kept = {}
    texts = inbox._kept_texts(kept, "en")
    texts.update(a=1, b=2)
    assert inbox._kept_texts(kept, "en") is texts
    texts["c"] = 3
    assert inbox._kept_texts(kept, "en") == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_checkbox_label_is_translated_per_language(language):
    with translation.override(language):
        for _kept in range(2):
            assert inbox._select_text() == gettext("Select %(ref)s")
        mine = inbox._select_text()
    with translation.override("ru" if language != "ru" else "pl"):
        assert inbox._select_text() != mine
