"""CSV and XLSX of a released statistics table (issue 18, point 6): released texts only.

A file holds what the page shows and nothing more: the released numbers ("<10", "x", counts
rounded to 5), the dimension and category labels in the reader's language, the totals, and a
notes block saying what each mark means (and, for an ad-hoc table, its epsilon and expected
error). Layout: one header row (the row dimensions' labels, the column categories, "Total"),
one line per row, a total line. A table of one dimension is written one category per line (the
dimension, then "People"), the way a spreadsheet reader expects a list of counts.

Spreadsheet formula injection: every text cell opening with = + - @, a tab or a carriage return
is prefixed with a single quote, so that a spreadsheet shows it as text instead of running it
(a label comes from the deployment's areas file, which this module does not control).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from databank.analytics.disclosure import (
    LOW_LIMIT,
    MEDIAN_MIN_PEOPLE,
    PERCENT_MIN_DENOMINATOR,
    ROUNDING_BASE,
    Mark,
    ReleasedTable,
    Shown,
)
from databank.domain.vocab import Label
from databank.services.statistics import labels
from databank.services.statistics.views import Result

Cell = str | int | float | None
Labeller = Callable[[str, str, str], str]  # (dimension, code, locale) -> words
DimensionLabeller = Callable[[str, str], str]  # (dimension, locale) -> words

ALL = "all"  # the one row of a one-dimension table
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TOTAL = Label("Total", "Total")
PEOPLE = Label("People", "Personnes")
MEDIAN_DAYS = Label("Median waiting time (days)", "Délai médian (jours)")
NOTES_TITLE = Label("Notes", "Notes")
DISTINCT = Label(
    "Counts are distinct people: each person once in a cell. Totals are counted on their own "
    "and rounded on their own, so they can differ from the sum of the cells.",
    "Les effectifs sont des personnes distinctes : chaque personne une fois par case. Les "
    "totaux sont comptés et arrondis séparément : ils peuvent différer de la somme des cases.",
)
MARK_NOTES = {
    Mark.ZERO: Label("0: no one.", "0 : personne."),
    Mark.LOW: Label(
        f"<{LOW_LIMIT}: between 1 and {LOW_LIMIT - 1} people (not shown exactly).",
        f"<{LOW_LIMIT} : entre 1 et {LOW_LIMIT - 1} personnes (non affiché précisément).",
    ),
    Mark.ROUNDED: Label(
        f"Other counts are rounded to the nearest {ROUNDING_BASE}.",
        f"Les autres effectifs sont arrondis au multiple de {ROUNDING_BASE} le plus proche.",
    ),
    Mark.DOMINANT: Label(
        "x: hidden because one category holds 90 % or more of its row (it would tell "
        "something about the people in it).",
        "x : masqué car une catégorie regroupe au moins 90 % de sa ligne (cela révélerait "
        "une information sur les personnes concernées).",
    ),
    Mark.SECONDARY: Label(
        "x: hidden so that another hidden number cannot be worked out from the totals.",
        "x : masqué pour qu'un autre nombre masqué ne puisse pas être déduit des totaux.",
    ),
}
MEDIAN_NOTE = Label(
    f"Medians are shown only over {MEDIAN_MIN_PEOPLE} people or more.",
    f"Les médianes ne sont affichées qu'à partir de {MEDIAN_MIN_PEOPLE} personnes.",
)
PERCENT_NOTE = Label(
    f"Percentages are shown only over {PERCENT_MIN_DENOMINATOR} people or more.",
    f"Les pourcentages ne sont affichés qu'à partir de {PERCENT_MIN_DENOMINATOR} personnes.",
)
PUBLISHED_NOTE = Label(
    "Published table: the same for every reader (disclosure rules only).",
    "Tableau publié : le même pour tous les lecteurs (règles de confidentialité seules).",
)
ADHOC_NOTE = Label(
    "Ad-hoc table with differential privacy: epsilon {epsilon}; each count is within "
    "{error} of the true count 95 % of the time, before rounding.",
    "Tableau à la demande avec confidentialité différentielle : epsilon {epsilon} ; chaque "
    "effectif est à moins de {error} du vrai 95 % du temps, avant arrondi.",
)
PERIOD_NOTE = Label("Period: {start} to {end}.", "Période : de {start} à {end}.")


@dataclass(frozen=True)
class Sheet:
    """A released table laid out for a file: a header, the lines, the notes (no true count)."""

    title: str
    header: list[str]
    lines: list[list[Cell]]
    notes: list[str]


CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class File:
    """A released table as a download: its bytes, its media type and its file name."""

    data: bytes
    mimetype: str
    name: str


def file(result: Result, fmt: str, locale: str, stem: str) -> File:
    """The table as a CSV or XLSX file (`fmt`), named `stem.fmt`: what the pages and the API
    hand over the same way."""
    if fmt == "csv":
        return File(csv_bytes(result, locale), f"{CSV_TYPE}; charset=utf-8", f"{stem}.csv")
    if fmt == "xlsx":
        return File(xlsx_bytes(result, locale), XLSX_TYPE, f"{stem}.xlsx")
    raise ValueError(f"no such format: {fmt}")


def csv_bytes(result: Result, locale: str) -> bytes:
    """The released table of `result` as CSV (UTF-8), labelled in `locale` ("en" or "fr")."""
    return sheet_csv(sheet(result, locale))


def xlsx_bytes(result: Result, locale: str) -> bytes:
    """The released table of `result` as an XLSX workbook: the table, then its notes."""
    return sheet_xlsx(sheet(result, locale), NOTES_TITLE.for_locale(locale))


def sheet(result: Result, locale: str) -> Sheet:
    """A result laid out with the service's labels, its period and, for an ad-hoc table, its
    epsilon and expected error in the notes."""
    result = result.for_reading()
    notes = [
        PERIOD_NOTE.for_locale(locale).format(
            start=result.period.start.strftime("%Y-%m"), end=result.period.end.strftime("%Y-%m")
        )
    ]
    if result.epsilon is not None:
        notes.append(
            ADHOC_NOTE.for_locale(locale).format(epsilon=result.epsilon, error=result.error_95)
        )
    else:
        notes.append(PUBLISHED_NOTE.for_locale(locale))
    return lay_out(
        result.table,
        result.request.dimensions,
        locale,
        label=labels.label,
        dimension_label=labels.dimension_label,
        title=result.title_key,
        notes=notes,
        medians=result.medians,
    )


def neutralised(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def value(number: Shown) -> Cell:
    """A released number as a file holds it: an int where shown, else its text ("<10", "x")."""
    if number.mark in (Mark.ZERO, Mark.ROUNDED):
        return number.value
    return number.text


def lay_out(
    table: ReleasedTable,
    dimensions: Sequence[str],
    locale: str,
    *,
    label: Labeller,
    dimension_label: DimensionLabeller,
    title: str = "",
    notes: Sequence[str] = (),
    medians: Mapping[object, float | None] | None = None,
) -> Sheet:
    """The sheet of a released table whose last dimension is its columns (`medians`: a mapping
    of row codes to a median in days or None, written as one more column)."""
    medians_of = medians
    last = dimensions[-1]
    if len(dimensions) == 1 and tuple(table.rows) == (ALL,):
        header = [dimension_label(last, locale), PEOPLE.for_locale(locale)]
        lines: list[list[Cell]] = [
            [label(last, str(c), locale), value(table.cell(ALL, c))] for c in table.columns
        ]
        lines.append([TOTAL.for_locale(locale), value(table.total)])
    else:
        row_dims = list(dimensions[:-1]) or [last]
        header = [dimension_label(d, locale) for d in row_dims]
        if medians_of is not None:  # one column: the people counted per row
            header += [PEOPLE.for_locale(locale) for _ in table.columns]
        else:
            header += [label(last, str(c), locale) for c in table.columns]
        header.append(TOTAL.for_locale(locale))
        if medians_of is not None:
            header.append(MEDIAN_DAYS.for_locale(locale))
        lines = []
        for row in table.rows:
            codes = row if isinstance(row, tuple) else (row,)
            words: list[Cell] = [
                label(d, str(code), locale) for d, code in zip(row_dims, codes, strict=True)
            ]
            line = words + [value(table.cell(row, c)) for c in table.columns]
            line.append(value(table.row_totals[row]))
            if medians_of is not None:
                median = medians_of.get(row)
                line.append(median if median is not None else "")
            lines.append(line)
        total_line: list[Cell] = [TOTAL.for_locale(locale), *[""] * (len(row_dims) - 1)]
        total_line += [value(table.column_totals[c]) for c in table.columns]
        total_line.append(value(table.total))
        lines.append(total_line)
    return Sheet(title, header, lines, [*notes, *legend(table, locale, medians_of is not None)])


def legend(table: ReleasedTable, locale: str, with_medians: bool = False) -> list[str]:
    """The notes on the marks a table uses, in the order of `Mark`."""
    used = table.marks()
    notes = [DISTINCT.for_locale(locale)]
    notes += [MARK_NOTES[m].for_locale(locale) for m in Mark if m in used and m is not Mark.ZERO]
    if with_medians:
        notes.append(MEDIAN_NOTE.for_locale(locale))
    return notes


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return neutralised(cell)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def sheet_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read accents right), comma separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text(h) for h in sheet.header])
    for line in sheet.lines:
        writer.writerow([_text(c) for c in line])
    if sheet.notes:
        writer.writerow([])
        for note in sheet.notes:
            writer.writerow([_text(note)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_xlsx(sheet: Sheet, notes_title: str = "Notes") -> bytes:
    """A workbook: the table on its first sheet (numbers as numbers), the notes on a second,
    so that the first sheet reads back as a plain table."""
    book = Workbook()
    data = book.active
    assert data is not None  # noqa: S101 - a new workbook has its active sheet
    data.title = _sheet_title(sheet.title or "Table")
    data.append([_xlsx(h) for h in sheet.header])
    for cell in data[1]:
        cell.font = Font(bold=True)
    for line in sheet.lines:
        data.append([_xlsx(c) for c in line])
    data.freeze_panes = "A2"
    for index, column in enumerate(data.iter_cols(), start=1):
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        data.column_dimensions[get_column_letter(index)].width = min(max(10, width + 2), 60)
    notes = book.create_sheet(_sheet_title(notes_title))
    for note in sheet.notes:
        notes.append([_xlsx(note)])
    notes.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(cell: Cell) -> str | int | float | None:
    if isinstance(cell, str):
        # openpyxl stores a string opening with "=" as a formula: neutralised, it stays text.
        return neutralised(cell) if cell else None
    return cell


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip("' ")
    return (cleaned or "Table")[:31]
