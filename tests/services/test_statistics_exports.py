"""Exports of released statistics tables (issue 18, point 6): CSV and XLSX hold the released
texts only, in the reader's language, with the legend; formula injection is neutralised; pandas
reads the XLSX back with the numbers the table released."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from databank.analytics.disclosure import Mark, ReleasedTable, protect
from databank.services.statistics import exports

WORDS = {
    ("area", "north"): "North",
    ("area", "south"): "South",
    ("area", "east"): '=HYPERLINK("http://evil")',
    ("sex", "female"): "Female",
    ("sex", "male"): "Male",
    ("need", "food"): "Food",
    ("need", "shelter"): "Shelter",
}


def _label(dimension: str, code: str, locale: str) -> str:
    text = WORDS.get((dimension, code), code)
    return f"{text} (fr)" if locale == "fr" and not text.startswith("=") else text


def _dimension_label(dimension: str, locale: str) -> str:
    return {"en": dimension.title(), "fr": f"{dimension}-fr"}[locale]


def _two_way() -> ReleasedTable:
    # north 40 and 37 (rounded), south 5 (a "<10") and 30, east 22 and 31.
    counts = {
        ("north", "female"): 40,
        ("north", "male"): 37,
        ("south", "female"): 5,
        ("south", "male"): 30,
        ("east", "female"): 22,
        ("east", "male"): 31,
    }
    return protect(counts, ["north", "south", "east"], ["female", "male"])


def _dominated() -> ReleasedTable:
    # east: 19 of 20 people are women (95 %): the row is hidden, then a second row beside it.
    counts = {
        ("north", "female"): 40,
        ("north", "male"): 37,
        ("south", "female"): 22,
        ("south", "male"): 31,
        ("east", "female"): 19,
        ("east", "male"): 1,
    }
    return protect(counts, ["north", "south", "east"], ["female", "male"])


def _sheet(table: ReleasedTable, locale: str = "en") -> exports.Sheet:
    return exports.lay_out(
        table, ("area", "sex"), locale, label=_label, dimension_label=_dimension_label
    )


def test_a_two_way_table_writes_released_texts_margins_and_legend() -> None:
    table = _two_way()
    sheet = _sheet(table)
    assert sheet.header == ["Area", "Female", "Male", "Total"]
    north, south, east, total = sheet.lines
    assert north == ["North", 40, 35, 75]  # 37 rounds to 35; the total 77 rounds to 75 itself
    assert south == ["South", "<10", 30, 35]
    assert east[1:] == [20, 30, 55]
    assert total == ["Total", 65, 100, 165]  # from the unrounded cells, rounded on its own
    text = " ".join(sheet.notes)
    assert "<10: between 1 and 9 people" in text
    assert "90 %" not in text  # no dominance here: its note is left out


def test_hidden_cells_are_x_and_the_legend_explains_them() -> None:
    table = _dominated()
    sheet = _sheet(table)
    east = sheet.lines[2]
    assert east[1:4] == ["x", "x", "x"]  # the dominant row is hidden, its total with it
    assert table.marks() >= {Mark.DOMINANT, Mark.SECONDARY}
    text = " ".join(sheet.notes)
    assert "90 %" in text
    assert "worked out from the totals" in text


def test_csv_neutralises_formulas_and_keeps_numbers_as_released() -> None:
    """A label opening with "=" is written as text (prefixed with a quote), never a formula."""
    data = exports.sheet_csv(_sheet(_two_way()))
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["Area", "Female", "Male", "Total"]
    assert lines[1] == ["North", "40", "35", "75"]
    assert lines[3][0] == '\'=HYPERLINK("http://evil")'
    assert all(not cell.startswith(exports.FORMULA_STARTS) for line in lines for cell in line)
    assert "37" not in data.decode("utf-8-sig")  # no true count leaks


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised(start: str) -> None:
    assert exports.neutralised(f"{start}1+1") == f"'{start}1+1"
    assert exports.neutralised("North") == "North"


def test_xlsx_reads_back_with_pandas_with_the_same_numbers() -> None:
    table = _two_way()
    data = exports.sheet_xlsx(_sheet(table), "Notes")
    frame = pd.read_excel(io.BytesIO(data), sheet_name=0)
    assert list(frame.columns) == ["Area", "Female", "Male", "Total"]
    by_area = frame.set_index("Area")
    assert by_area.loc["North", "Female"] == 40
    assert by_area.loc["North", "Male"] == 35
    assert by_area.loc["South", "Female"] == "<10"
    assert by_area.loc['\'=HYPERLINK("http://evil")', "Male"] == 30
    assert by_area.loc["Total", "Total"] == table.total.value
    notes = pd.read_excel(io.BytesIO(data), sheet_name="Notes", header=None)
    assert any("rounded to the nearest 5" in str(n) for n in notes[0])


def test_xlsx_stores_no_formula() -> None:
    """openpyxl would store a string opening with "=" as a formula: none is left in the file."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(exports.sheet_xlsx(_sheet(_two_way()))))
    kinds = {
        cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    }
    assert "f" not in kinds
    assert book.worksheets[0]["A4"].value == '\'=HYPERLINK("http://evil")'
    assert book.worksheets[0]["B2"].value == 40


def test_a_one_dimension_table_is_one_category_per_line_in_the_reader_language() -> None:
    counts = {("all", "food"): 12, ("all", "shelter"): 0, ("all", "health"): 33}
    table = protect(counts, ["all"], ["food", "shelter", "health"])
    sheet = exports.lay_out(table, ("need",), "fr", label=_label, dimension_label=_dimension_label)
    assert sheet.header == ["need-fr", "Personnes"]
    assert sheet.lines == [
        ["Food (fr)", 10],
        ["Shelter (fr)", 0],
        ["health (fr)", 35],
        ["Total", 45],
    ]
    assert any("arrondis" in note for note in sheet.notes)


def test_medians_are_one_more_column_and_blank_when_withheld() -> None:
    table = protect(
        {("north", "people"): 30, ("south", "people"): 8}, ["north", "south"], ["people"]
    )
    sheet = exports.lay_out(
        table,
        ("area", "people"),
        "en",
        label=_label,
        dimension_label=_dimension_label,
        medians={"north": 6.0, "south": None},
    )
    assert sheet.header[-1] == "Median waiting time (days)"
    assert sheet.lines[0][-1] == 6.0
    assert sheet.lines[1][-1] == ""
    assert any("10 people or more" in note for note in sheet.notes)
