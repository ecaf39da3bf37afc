"""The roll-ups' writer (``tickets.statistics.store._replace``): new slices and daily
rows inserted by COPY on PostgreSQL (``bulk_create`` elsewhere) with every column as
given; a run that meets rows already written loses the race quietly."""

from datetime import date

import pytest

from tickets.models import DailyStats, StatsSlice
from tickets.statistics import figures, store

pytestmark = pytest.mark.django_db


def test_replace_writes_every_column_and_loses_a_race_quietly(queue):
    """``_replace`` inserts by COPY on PostgreSQL (bulk_create elsewhere): every column
    as given, in order; a slice another run already wrote (the unique constraint) is
    still an IntegrityError, caught: nothing written, 0 returned."""
    day = date(2026, 3, 2)
    facts = figures.Facts()
    facts.created, facts.resolved, facts.backlog = 3, 2, 1
    facts.first_response += [30.0, 10.0]
    facts.resolution += [7200.0]
    facts.sla_met, facts.sla_settled, facts.rating_sum, facts.rated = 1, 2, 9, 2
    slices = {
        (figures.DAY, day, queue.pk, "queue", str(queue.pk)): facts,
        (figures.DAY, day, queue.pk, "priority", "high"): figures.Facts(created=1),
    }
    assert store._replace({figures.DAY: {day}}, slices, daily=True) == 2
    rows = list(StatsSlice.objects.order_by("pk").values())
    assert [r["dimension"] for r in rows] == ["queue", "priority"]
    assert rows[0]["first_response_seconds"] == [10.0, 30.0]
    assert rows[0]["resolution_seconds"] == [7200.0]
    assert (rows[0]["created"], rows[0]["backlog"], rows[0]["rating_sum"]) == (3, 1, 9)
    assert (
        DailyStats.objects.get(
            day=day, queue=None, organization=None, agent=None
        ).created
        == 3
    )

    # A run whose targets do not cover the day meets the rows already there.
    other = date(2026, 3, 3)
    assert store._replace({figures.DAY: {other}}, slices, daily=False) == 0
    assert StatsSlice.objects.count() == 2
