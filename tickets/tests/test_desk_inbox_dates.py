"""The inbox's date cells (``tickets.desk.inbox._DateCells``): each format
character's text kept per value of its part for a page, the same text as
``{{ value|date:'DAY_MONTH_TIME_FORMAT' }}`` and ``{{ value|date:'c' }}`` for every
minute, hour, day and month, in each language and time zone; other formats as
Django's ``dateformat.format``."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from tickets.desk import inbox

TEMPLATE = Template("{{ value|date:'c' }}|{{ value|date:'DAY_MONTH_TIME_FORMAT' }}")


def _values():
    start = datetime(2026, 1, 1, 0, 0, 7, 123456, tzinfo=UTC)
    # every month and day, every hour and minute (one cell a step of 97 minutes),
    # the turn of DST in Europe, the year's end
    steps = [start + timedelta(minutes=97 * n) for n in range(5500)]
    return [
        *steps,
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw", "Europe/Moscow"])
def test_cells_are_the_templates_dates(language, zone):
    values = _values()
    with translation.override(language), timezone.override(zone):
        cells = inbox._DateCells()
        assert cells._plan is not None  # the kept path
        for value in values:
            expected = TEMPLATE.render(Context({"value": value}))
            assert "|".join(cells(value)) == expected, value


@pytest.mark.parametrize(
    "form", ["D, d M Y H:i:s", "d \\d\\e M H:i", "j. E Y, G:i", "N b F n m y"]
)
def test_other_formats_are_djangos(monkeypatch, form):
    from django.utils import dateformat, formats

    monkeypatch.setattr(formats, "get_format", lambda name, *a, **k: form)
    values = _values()[::37]
    with translation.override("ru"), timezone.override("Europe/Moscow"):
        cells = inbox._DateCells()
        for value in values:
            local = timezone.template_localtime(value)
            assert cells(value) == (
                local.isoformat(),
                dateformat.format(local, form),
            )
