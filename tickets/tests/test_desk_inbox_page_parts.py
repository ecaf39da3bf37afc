"""Parts of the inbox page computed with fewer calls: the rows' escaping, the labels
translated once per language, the column headers' URLs; each against what it
replaced."""

import pytest
from django.http import QueryDict
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from tickets.desk import forms, inbox, views
from tickets.models import Priority, Status
from tickets.templatetags.desk_tags import _row_escaped

LANGUAGES = ["en", "pl", "ru"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "<b>\"Q&A\"</b> 'x' {{ y }} 100% &amp; &#x27;",
        "Поддержка <i>",
        mark_safe("<mark>safe</mark> & 'kept'"),
        gettext_lazy("Overdue"),
        12,
        None,
        "\x00\x02<\x03>",
    ],
)
def test_row_escaping_is_conditional_escape(value):
    assert _row_escaped(value) == str(conditional_escape(value))
    assert type(_row_escaped(value)) in (str, type(mark_safe("")))


def _old_options(field):
    return [(str(v), str(label), str(v) == "") for v, label in field.choices]


def test_labels_are_translated_once_per_language():
    inbox._CHOICE_LABELS.clear()
    views._COLUMN_LABELS.clear()
    views._BULK_OPTIONS.clear()
    for _ in range(2):  # built, then kept
        for language in LANGUAGES:
            with override(language):
                statuses, priorities = inbox.choice_labels()
                assert statuses == {v: str(label) for v, label in Status.choices}
                assert priorities == {v: str(label) for v, label in Priority.choices}
                assert views._column_labels() == [
                    (key, str(label)) for key, label in views.COLUMNS
                ]
                bulk = forms.BulkForm.base_fields
                assert views._bulk_options() == {
                    name: _old_options(bulk[name])
                    for name in ("action", "status", "priority")
                }
    with override("ru"):
        ru = views._column_labels()
    with override("en"):
        assert views._column_labels() != ru


def _old_query(get: QueryDict, **changes):
    """``inbox_view``'s ``query`` as it was."""
    params = get.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    return "?" + params.urlencode() if params else "?"


@pytest.mark.parametrize(
    "query_string",
    [
        "",
        "q=webhook",
        "order=-updated&q=webhook&page=3",
        "page=2",
        "order=subject",
        "q=%D0%BF%D0%BE%D0%B4+%22x%22%26y&status=new&status=open&view=all",
        "status=new&order=&page=&per_page=50&q=a%2Bb%25",
        "q=%3Cb%3E&tag=%E2%80%94&organization=Acme+%26+Co",
    ],
)
def test_column_urls_are_those_of_query(query_string):
    get = QueryDict(query_string)
    rest = get.copy()
    rest.pop("order", None)
    rest.pop("page", None)
    rest = rest.urlencode()
    for key, _label in views.COLUMNS:
        for order in (key, f"-{key}"):
            assert views._with_order(rest, order) == _old_query(
                get, order=order, page=None
            )
