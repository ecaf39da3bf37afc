"""Reading the roll-ups gives ``sla.median`` of every duration merged, per value and
for the total over every value (not a median of medians): even and odd counts, empty
lists, values spread over several slices and queues, a whole period and merged day
slices, an agent's queues only; and the counts without the medians (the trend)."""

import random
from datetime import date

import pytest

from tickets import sla
from tickets.models import StatsSlice
from tickets.statistics import figures, read

from .factories import make_agent

pytestmark = pytest.mark.django_db
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
DAYS = (date(2025, 3, 3), date(2025, 4, 20))  # longer than a short range: day slices


def _slice(queue, value, firsts, resolutions, *, period="year", start=YEAR[0]):
    return StatsSlice(
        period=period,
        start=start,
        queue=queue,
        dimension="organization",
        value=value,
        created=len(firsts) + 1,
        resolved=len(resolutions),
        backlog=2,
        first_response_seconds=sorted(firsts),
        resolution_seconds=sorted(resolutions),
        sla_met=1,
        sla_settled=2,
        rating_sum=4,
        rated=1,
    )


def _check(got: dict[str, figures.Facts], total: figures.Facts, lists: dict):
    assert set(got) == set(lists)
    for facts, (firsts, resolutions) in [
        *((got[v], lists[v]) for v in lists),
        (total, [sum((lists[v][i] for v in lists), []) for i in (0, 1)]),
    ]:
        assert facts.median_first_response == sla.median(firsts)
        assert facts.median_resolution == sla.median(resolutions)
        assert (facts.median_first_response is None) == (not firsts)
        assert facts.has_events()


def test_medians_of_a_period_equal_the_python_median(supervisor, queue, other_queue):
    # seconds with microseconds: the mean of the middle two must round the same
    slices = {
        "1": [([1.5, 3600.123457], [10.0]), ([2.25, 7200.654321], [20.0, 30.5])],
        "2": [([5.0], []), ([1.0, 9.000001], [4.0])],  # odd, even
        "3": [([], []), ([], [])],  # no durations at all
        "": [([0.0, 0.0, 0.1], [86400.000001]), ([0.2], [3.3, 1e7])],
    }
    rows, lists = [], {}
    for value, parts in slices.items():
        for q, (firsts, resolutions) in zip([queue, other_queue], parts, strict=True):
            rows.append(_slice(q, value, firsts, resolutions))
        lists[value] = [sum((p[i] for p in parts), []) for i in (0, 1)]
    StatsSlice.objects.bulk_create(rows)
    got, total = read.report_facts(supervisor, "organization", *YEAR, period="year")
    _check(got, total, lists)
    assert got["1"].created == 2 * 3 and got["1"].backlog == 4
    assert total.created == sum(f.created for f in got.values())
    assert read.facts_by_value(supervisor, "organization", *YEAR).keys() == got.keys()
    # an agent's figures are their queue's slices only
    agent = make_agent(other_queue)
    got, total = read.report_facts(agent, "organization", *YEAR, period="year")
    _check(got, total, {v: [p[1][0], p[1][1]] for v, p in slices.items()})
    # an agent of no queue reads nothing
    nobody = make_agent()
    assert read.report_scope(nobody) == set()
    got, total = read.report_facts(nobody, "organization", *YEAR, period="year")
    assert got == {} and total.created == 0 and total.median_resolution is None


def test_medians_of_merged_days_equal_the_python_median(supervisor, queue):
    rng = random.Random(7)
    rows, lists = [], {}
    day = DAYS[0]
    while day <= DAYS[1]:
        for value in ("1", "2", "3"):
            firsts = [round(rng.uniform(0, 90000), 6) for _ in range(rng.randint(0, 5))]
            resolutions = [round(rng.expovariate(1e-5), 6) for _ in range(day.day % 3)]
            rows.append(
                _slice(queue, value, firsts, resolutions, period="day", start=day)
            )
            own = lists.setdefault(value, [[], []])
            own[0] += firsts
            own[1] += resolutions
        day = figures.next_start("day", day)
    StatsSlice.objects.bulk_create(rows)
    got, total = read.report_facts(supervisor, "organization", *DAYS)
    _check(got, total, lists)
    assert got["1"].backlog == 2  # the last day's only


def test_figures_without_medians(supervisor, queue):
    StatsSlice.objects.bulk_create([_slice(queue, "1", [1.0, 2.0], [3.0])])
    got, total = read.report_facts(
        supervisor, "organization", *YEAR, period="year", durations=False
    )
    assert total.medians == got["1"].medians == (None, None)
    assert (total.created, total.resolved, total.sla_settled) == (3, 1, 2)
    with pytest.raises(ValueError, match="do not merge"):
        figures.Facts().add(total)
