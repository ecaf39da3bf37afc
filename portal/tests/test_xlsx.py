"""portal.xlsx: user text that a spreadsheet would run stays text (portal.csv's rule),
numbers stay numbers (negative ones too), sheet names are ones Excel accepts."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal import xlsx
from portal.csv import FORMULA_PREFIXES


def read(content):
    return load_workbook(io.BytesIO(content)).active


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_text_starting_a_formula_is_stored_as_typed_as_text(prefix):
    sheet = read(xlsx.workbook("T", ["name"], [[prefix + "SUM(A1:A9)"]]))
    cell = sheet["A2"]
    # XML reads a carriage return back as a line feed; the cell is text either way
    assert cell.value == (prefix + "SUM(A1:A9)").replace("\r", "\n")
    assert (cell.data_type, cell.quotePrefix) == ("s", True)


def test_ordinary_text_and_numbers_are_left_alone():
    sheet = read(
        xlsx.workbook(
            "T",
            ["a", "b", "c", "d", "e"],
            [["Acme", -5, Decimal("-1.50"), None, ""]],
        )
    )
    a, b, c, d, e = sheet[2]
    assert (a.value, a.data_type, a.quotePrefix) == ("Acme", "s", False)
    assert (b.value, b.data_type, b.number_format) == (-5, "n", "#,##0")
    assert (c.value, c.data_type, c.number_format) == (-1.5, "n", "#,##0.00")
    assert d.value is None and e.value is None


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Queue", "Queue"),
        ("a/b:c[d]*e?f\\g", "a b c d e f g"),
        ("x" * 40, "x" * 31),
        ("[]", "Sheet1"),
    ],
)
def test_sheet_names_are_ones_excel_accepts(title, expected):
    assert xlsx.sheet_title(title) == expected
    assert read(xlsx.workbook(title, ["h"], [])).title == expected
