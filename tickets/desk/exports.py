"""The desk report as a download: CSV or XLSX, the same rows as the HTML table.

Both print ``ReportRow.record()`` (the report's own roundings): the CSV as
``reports.to_csv`` writes it, the XLSX with those printed numbers read back as
numbers (``"12.3"`` → 12.3 with one decimal shown), so a spreadsheet can sum them
and no format shows a figure the page does not. Labels are user text, neutralised
against formula injection by ``portal.csv`` / ``portal.xlsx`` (one rule).
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.http import HttpResponse
from django.utils.translation import gettext as _

from portal import xlsx

from . import reports

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": XLSX_TYPE,
}


def cell_value(printed):
    """A value of ``record()`` as a spreadsheet cell: counts stay ints, printed
    decimals become ``Decimal`` (keeping their places), empty stays empty."""
    if printed is None or printed == "" or isinstance(printed, int | Decimal):
        return printed
    try:
        return Decimal(str(printed))
    except InvalidOperation:
        return str(printed)


def xlsx_rows(rows: list[reports.ReportRow]) -> list[list]:
    return [[row.label, *(cell_value(v) for v in row.record())] for row in rows]


def title(dimension: str, start: date, end: date) -> str:
    return _("Helpdesk report by %(dimension)s, %(start)s – %(end)s") % {
        "dimension": reports.headers(dimension)[0].lower(),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def to_xlsx(
    rows: list[reports.ReportRow],
    dimension: str,
    start: date,
    end: date,
    *,
    total: bool = True,
) -> bytes:
    """The report as an XLSX workbook: one sheet named after the dimension, the
    total row (``report_rows(..., total=True)``, the last) in bold."""
    return xlsx.workbook(
        title(dimension, start, end),
        reports.headers(dimension),
        xlsx_rows(rows),
        sheet_name=reports.headers(dimension)[0],
        bold_last=total,
    )


def filename(dimension: str, start: date, end: date, export_format: str) -> str:
    return f"helpdesk-{dimension}-{start}-{end}.{export_format}"


def download(
    rows: list[reports.ReportRow],
    dimension: str,
    start: date,
    end: date,
    export_format: str,
) -> HttpResponse:
    """The file response for ``export_format`` (one of ``FORMATS``)."""
    if export_format == "xlsx":
        content = to_xlsx(rows, dimension, start, end)
    else:
        content = reports.to_csv(rows, dimension)
    response = HttpResponse(content, content_type=FORMATS[export_format])
    response["Content-Disposition"] = (
        f'attachment; filename="{filename(dimension, start, end, export_format)}"'
    )
    return response
