"""XLSX workbooks that spreadsheet applications open as data, never as formulas.

openpyxl stores a string that starts with ``=`` as a formula, and Excel turns a text
cell that starts with ``=``, ``+``, ``-`` or ``@`` into one as soon as someone edits
it. User text (names of queues, agents, organizations) must stay text, so the cells
that ``portal.csv.is_formula_text`` flags (the one rule, shared with our CSV) are
stored as text with Excel's "quote prefix" style: shown as typed, still text when
edited. Unlike CSV, no ``'`` is added to the value: an XLSX cell has a type.

Numbers stay numbers, with a number format that shows the places they were rounded
to, so that sums and charts work in the spreadsheet. Headers are bold and frozen;
columns are as wide as their longest text.
"""

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from . import csv

MAX_TITLE_LENGTH = 31  # Excel refuses longer sheet names
TITLE_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
MIN_WIDTH, MAX_WIDTH = 8, 60


def sheet_title(text: str) -> str:
    """``text`` as a sheet name Excel accepts (no ``[]:*?/\\``, at most 31
    characters, not empty)."""
    title = " ".join(str(text).translate(TITLE_FORBIDDEN).split())
    return title[:MAX_TITLE_LENGTH].strip() or "Sheet1"


def number_format(value) -> str:
    """Grouped digits, with as many decimals as ``value`` was rounded to
    (``Decimal("12.30")`` → ``#,##0.00``)."""
    places = 0
    if isinstance(value, Decimal):
        places = max(-value.as_tuple().exponent, 0)
    elif isinstance(value, float):
        return "General"
    return "#,##0" + ("." + "0" * places if places else "")


def _write(cell, value) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float | Decimal):
        cell.value = value
        cell.number_format = number_format(value)
        return
    text = str(value)
    cell.value = text
    if csv.is_formula_text(text):
        cell.data_type = "s"  # openpyxl made it a formula ("f") when it began with =
        cell.quotePrefix = True


def _shown_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return len(f"{value:,}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def workbook(
    title: str,
    headers: Sequence,
    rows: Iterable[Sequence],
    *,
    sheet_name: str = "",
    bold_last=False,
) -> bytes:
    """A workbook titled ``title`` with one sheet (named ``sheet_name``, else after the
    title): a bold, frozen header row, then ``rows``. Cells may be text (neutralised
    as above), ``int``/``float``/``Decimal`` (numbers), or ``None``/``""`` (empty).
    ``bold_last`` sets the last row in bold (a total)."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(sheet_name or title)
    book.properties.title = str(title)
    widths: dict[int, int] = {}
    rows = [list(headers), *(list(row) for row in rows)]
    bold = Font(bold=True)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            _write(cell, value)
            if r == 1 or (bold_last and r == len(rows) > 1):
                cell.font = bold
            widths[c] = max(widths.get(c, 0), _shown_length(value))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
