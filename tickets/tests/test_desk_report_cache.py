"""The reports page at scale: the table is paged (the total stays over every row, the
exports keep every row), and a report read from the roll-ups is kept in the shared
cache per scope, range, dimension and language until the statistics job writes new
slices (``store.generation``)."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from openpyxl import load_workbook

from accounts.models import Organization
from tickets.desk import views
from tickets.statistics import read, store

from .factories import make_customer
from .test_desk_reports import make

pytestmark = pytest.mark.django_db
URL = "/admin/helpdesk/reports/"
YEAR = {"period": "year", "dimension": "organization", "start": "2025-03-10"}
NOW = datetime(2025, 3, 11, 12, tzinfo=UTC)


def at(*args):
    return datetime(*args, tzinfo=UTC)


def run_job(django_capture_on_commit_callbacks):
    """The statistics job as production runs it (its new generation is announced
    once its writes commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        store.backfill((date(2025, 3, 10) - date(2025, 1, 1)).days + 2, now=NOW)


def table(response) -> list[list[str]]:
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return [
        [cell.get_text() for cell in tr.find_all(["th", "td"])]
        for tr in soup.select("table.desk-report tbody tr")
    ]


@pytest.fixture
def caching(settings):
    settings.REPORT_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def five_organizations(queue, other_queue):
    """Organizations A..E, one ticket each in March 2025 (E's in the other queue)."""
    for index, name in enumerate("ABCDE"):
        org = Organization.objects.create(name=f"Org {name}", slug=f"org-{name}")
        make(
            make_customer(org),
            other_queue if name == "E" else queue,
            org=org,
            created=at(2025, 3, 1 + index, 9),
        )


# --- paging ---------------------------------------------------------------------------


@pytest.fixture
def paged_by_two(
    client,
    supervisor,
    five_organizations,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Two rows a page, the slices written, the supervisor signed in."""
    monkeypatch.setattr(views, "REPORT_PAGE_SIZE", 2)
    run_job(django_capture_on_commit_callbacks)
    client.force_login(supervisor)


def test_the_table_is_paged_in_order_with_the_total_over_every_row(
    client, paged_by_two
):
    total = ["Total", "5", "0", "5", "", "", "", "", "0"]
    first = client.get(URL, YEAR)
    assert [row[0] for row in table(first)] == ["Org A", "Org B", "Total"]
    assert table(first)[-1] == total
    soup = BeautifulSoup(first.content.decode(), "html.parser")
    nav = soup.select_one("nav.pagination")
    assert nav.select_one("span").get_text() == "Page 1 of 3"
    assert nav.select_one("a[rel=next]")["href"] == (
        "?period=year&dimension=organization&start=2025-03-10&page=2"
    )
    assert nav.select_one("a[rel=prev]") is None
    last = client.get(URL, {**YEAR, "page": "3"})
    assert table(last) == [["Org E", "1", "0", "1", "", "", "", "", "0"], total]
    assert (
        BeautifulSoup(last.content.decode(), "html.parser")
        .select_one("nav.pagination a[rel=prev]")["href"]
        .endswith("&page=2")
    )
    # a page number out of range or not a number shows the last or the first page
    assert [r[0] for r in table(client.get(URL, {**YEAR, "page": "99"}))] == [
        "Org E",
        "Total",
    ]
    assert [r[0] for r in table(client.get(URL, {**YEAR, "page": "x"}))] == [
        "Org A",
        "Org B",
        "Total",
    ]


def test_the_exports_keep_every_row_whatever_the_page(client, paged_by_two):
    page = client.get(URL, {**YEAR, "page": "2"})
    soup = BeautifulSoup(page.content.decode(), "html.parser")
    links = [a["href"] for a in soup.select("form.desk-filters a[download]")]
    assert links == [
        "?period=year&dimension=organization&start=2025-03-10&format=csv",
        "?period=year&dimension=organization&start=2025-03-10&format=xlsx",
    ]
    expected = ["Org A", "Org B", "Org C", "Org D", "Org E", "Total"]
    # even a link that names a page exports every row
    text = client.get(URL, {**YEAR, "page": "2", "format": "csv"}).content.decode()
    assert [row[0] for row in csv.reader(io.StringIO(text))][1:] == expected
    book = load_workbook(
        io.BytesIO(client.get(URL, {**YEAR, "page": "2", "format": "xlsx"}).content)
    )
    labels = [row[0] for row in book.active.iter_rows(values_only=True)]
    assert labels[-6:] == expected


# --- the cache ------------------------------------------------------------------------


def test_a_cached_report_stays_until_the_job_writes_new_slices(
    client,
    supervisor,
    queue,
    five_organizations,
    caching,
    django_capture_on_commit_callbacks,
):
    run_job(django_capture_on_commit_callbacks)
    client.force_login(supervisor)
    assert table(client.get(URL, YEAR))[-1][1] == "5"
    org = Organization.objects.get(slug="org-A")
    make(make_customer(org), queue, org=org, created=at(2025, 3, 9, 9))
    # the roll-ups have not changed: the kept rows are right
    assert table(client.get(URL, YEAR))[-1][1] == "5"
    run_job(django_capture_on_commit_callbacks)
    response = client.get(URL, YEAR)
    assert table(response)[0] == ["Org A", "2", "0", "2", "", "", "", "", "0"]
    assert table(response)[-1][1] == "6"


def test_users_of_different_scopes_never_share_an_entry(
    client,
    supervisor,
    agent,
    other_agent,
    queue,
    other_queue,
    five_organizations,
    caching,
    django_capture_on_commit_callbacks,
):
    """The agent of Support sees A..D, the agent of Billing E alone, the supervisor
    everything, whoever asked first."""
    run_job(django_capture_on_commit_callbacks)
    year = [(date(2025, 1, 1), date(2025, 12, 31), "year")]
    assert read.slices_scope(supervisor, year) == "all"
    assert read.slices_scope(agent, year) == f"queues:{queue.pk}"  # kept, apart
    assert read.slices_scope(other_agent, year) == f"queues:{other_queue.pk}"
    for user, labels in [
        (supervisor, ["Org A", "Org B", "Org C", "Org D", "Org E", "Total"]),
        (agent, ["Org A", "Org B", "Org C", "Org D", "Total"]),
        (other_agent, ["Org E", "Total"]),
        (supervisor, ["Org A", "Org B", "Org C", "Org D", "Org E", "Total"]),
    ]:
        client.force_login(user)
        for _ in range(2):  # computed, then from the cache
            assert [row[0] for row in table(client.get(URL, YEAR))] == labels


def test_the_language_is_part_of_the_key(
    client, supervisor, five_organizations, caching, django_capture_on_commit_callbacks
):
    run_job(django_capture_on_commit_callbacks)
    client.force_login(supervisor)
    assert table(client.get(URL, YEAR))[-1][0] == "Total"
    polish = client.get(URL, YEAR, headers={"accept-language": "pl"})
    assert table(polish)[-1][0] != "Total"


def test_the_page_works_without_a_cache(
    client, supervisor, five_organizations, settings, django_capture_on_commit_callbacks
):
    """Redis down (nothing listens on port 1): ``portal.cache`` answers misses, the
    roll-ups have no generation, and the report is computed each time."""
    settings.REPORT_CACHE_SECONDS = 300
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    run_job(django_capture_on_commit_callbacks)
    assert store.generation() is None
    client.force_login(supervisor)
    for _ in range(2):
        assert table(client.get(URL, YEAR))[-1][1] == "5"


def test_the_yearly_page_costs_fewer_queries_from_the_cache(
    client,
    supervisor,
    five_organizations,
    caching,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    """Computed: the report's slices and labels, the trend's 12 months, the
    weekly-email choice and Wagtail's own; from the cache: the report and the trend
    are none of them."""
    run_job(django_capture_on_commit_callbacks)
    client.force_login(supervisor)
    client.get("/admin/helpdesk/reports/", {"start": "2025-03-01", "end": "2025-03-10"})
    with django_assert_num_queries(COMPUTED):
        client.get(URL, YEAR)
    with django_assert_num_queries(FROM_CACHE):
        response = client.get(URL, YEAR)
    assert response.context["rows"][-1].volume == 5


# the user, their roles and model permissions are one statement (accounts.session_user)
COMPUTED = 21
FROM_CACHE = 7
