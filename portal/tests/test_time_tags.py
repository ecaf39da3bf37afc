"""``{% time_element %}`` (``portal.templatetags.time_tags``) against Django's own
``date`` filter: the same markup for every language, time zone (DST changes included)
and format the desk uses, and for formats with characters it leaves to Django."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone, translation

from portal.templatetags.time_tags import LocalDateFormatter, TimeElements

FORMATS = [
    "DATETIME_FORMAT",
    "DAY_MONTH_TIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "DATE_FORMAT",
    # raw formats: translated month and day names, 12-hour clock, escapes, offsets
    r"N j, Y, P \a\t H:i:s",
    "D l F E b M y n G a A f g h",
    "O T e I U u w z W t L S",
]
ZONES = ["UTC", "Europe/Warsaw", "America/New_York", "Asia/Kolkata", "Europe/Moscow"]


def moments():
    """Every month, noon and midnight, and both sides of Warsaw's and New York's DST
    changes (2026-03-29 01:00 UTC, 2026-10-25 01:00 UTC; 2026-03-08, 2026-11-01)."""
    start = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    yield from (
        start + timedelta(days=31 * n, hours=7 * n, minutes=n) for n in range(13)
    )
    yield datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    yield datetime(2026, 6, 1, 0, 0, 5, 123456, tzinfo=UTC)
    for change in (
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    ):
        yield from (change + timedelta(minutes=m) for m in (-61, -30, -1, 0, 1, 30, 61))


def django_markup(value, format_name):
    return Template("<time datetime=\"{{ v|date:'c' }}\">{{ v|date:f }}</time>").render(
        Context({"v": value, "f": format_name})
    )


def ours(value, format_name):
    return Template(
        '{% load time_tags %}{% time_element v "' + format_name + '" %}'
    ).render(Context({"v": value}))


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ZONES)
def test_the_same_markup_as_the_date_filter(language, zone):
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        for value in moments():
            for format_name in FORMATS:
                assert ours(value, format_name) == django_markup(value, format_name), (
                    language,
                    zone,
                    value,
                    format_name,
                )


def test_the_language_of_each_render():
    """A formatter is kept for one render and one language: the next render in another
    language names the month in that one."""
    value = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    template = Template('{% load time_tags %}{% time_element v "DATETIME_FORMAT" %}')
    texts = {}
    for language in ("en", "ru", "pl", "en"):
        with translation.override(language):
            texts[language] = template.render(Context({"v": value}))
            assert texts[language] == django_markup(value, "DATETIME_FORMAT")
    assert len(set(texts.values())) == 3  # three languages, three month names


def test_loops_reuse_one_formatter_with_the_right_month_each_time():
    values = [datetime(2026, month, 2, 9, 30, tzinfo=UTC) for month in (1, 2, 1, 12)]
    template = Template(
        '{% load time_tags %}{% for v in values %}{% time_element v "DATETIME_FORMAT" %}|{% endfor %}'
    )
    with translation.override("ru"):
        expected = "".join(django_markup(v, "DATETIME_FORMAT") + "|" for v in values)
        assert template.render(Context({"values": values})) == expected


def test_not_a_datetime_goes_through_the_filter():
    for value in (None, "", date(2026, 12, 3)):
        assert ours(value, "DATE_FORMAT") == django_markup(value, "DATE_FORMAT")


def test_naive_datetimes_are_formatted_as_they_are():
    value = datetime(2026, 7, 1, 23, 59)
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        assert ours(value, "DATETIME_FORMAT") == django_markup(value, "DATETIME_FORMAT")


def test_formatter_alone():
    with translation.override("en"):
        formatter = LocalDateFormatter(r"d M Y H:i \M")
        assert formatter(datetime(2026, 3, 5, 4, 7)) == "05 Mar 2026 04:07 M"


def test_the_format_name_must_be_quoted():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load time_tags %}{% time_element v DATETIME_FORMAT %}")


class KeptLocal(datetime):
    """A datetime the template engine leaves in its own zone."""

    convert_to_local_time = False


ODD_FORMATS = ["<b>{d}</b> & \"M\" 'Y' {{0}} {1} %s", r"\d\M {N} E}", "Y-m-d H:i:s"]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("use_tz", [None, True, False])
def test_time_elements_are_the_date_filters(language, autoescape, use_tz):
    """``TimeElements`` (a list's elements, built once) and its ``text``: the filter's
    markup and text for literals that need escaping or look like ``str.format``
    fields, aware, naive, kept-local and missing values (dates:
    ``test_not_a_datetime_goes_through_the_filter``), in the context's
    escaping and ``use_tz`` (``{% localtime %}``)."""
    values = [
        *list(moments())[:14],
        datetime(2026, 7, 1, 23, 59),
        KeptLocal(2026, 7, 1, 23, 59, tzinfo=ZoneInfo("Asia/Kolkata")),
        None,
        "",
    ]
    with translation.override(language), timezone.override(ZoneInfo("Europe/Warsaw")):
        for format_name in [*FORMATS, *ODD_FORMATS]:
            context = Context({"f": format_name}, autoescape=autoescape, use_tz=use_tz)
            elements = TimeElements(context, format_name)
            theirs = Template(
                "<time datetime=\"{{ v|date:'c' }}\">{{ v|date:f }}</time>|{{ v|date:f }}"
            )
            for value in values:
                with context.push(v=value):
                    expected = theirs.render(context)
                assert f"{elements(value)}|{elements.text(value)}" == expected, (
                    format_name,
                    value,
                )


def test_kept_formatters_follow_changed_settings(settings):
    """Formatters are kept per process; a changed setting (tests) forgets them."""
    value = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    with translation.override("en"):
        assert ours(value, "DATETIME_FORMAT") == django_markup(value, "DATETIME_FORMAT")
        settings.FORMAT_MODULE_PATH = None  # Django's own "en": "N j, Y, P"
        settings.DATETIME_FORMAT = "N j, Y, P"
        changed = ours(value, "DATETIME_FORMAT")
        assert changed == django_markup(value, "DATETIME_FORMAT")
        assert "Dec. 3, 2026, 2:05 p.m." in changed
