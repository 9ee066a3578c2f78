"""Released statistics tables as the pages show them: labelled rows and cells with their marks,
and the chart's data (plotly traces of released numbers only; a hidden or "<10" cell is a gap).

Nothing here decides what is released: the statistics service hands over protected tables, and
this module only lays them out (a table of one dimension as one category per line, the way the
exports write it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from databank.analytics.disclosure import Mark, Shown
from databank.services import statistics
from databank.services.statistics import Kind, Result

ALL = "all"
# Titles of the standard tables, flows and medians (the service names them by id).
TITLES = {
    "trend_by_month": _l("People seen, month by month"),
    "people_by_area": _l("People by area"),
    "needs": _l("People by need"),
    "living_by_month": _l("Living situations, month by month"),
    "outcomes_by_month": _l("Outcomes, month by month"),
    "age_and_sex": _l("People by age band and sex"),
    "waiting_times": _l("Referral waiting times"),
    "flows": _l("People entering and leaving homelessness"),
    "medians": _l("Median referral waiting time by kind of organisation"),
    "adhoc": _l("Your table"),
}
HIDDEN_WORDS = _l("hidden")


@dataclass(frozen=True)
class CellView:
    text: str
    mark: str  # a disclosure.Mark value: the page's class and legend entry


@dataclass(frozen=True)
class LineView:
    headers: list[str]
    cells: list[CellView]
    median: str | None = None


@dataclass
class TableView:
    """A released table laid out for a page (a caption, header cells, lines, a total line)."""

    key: str
    title: str
    kind: str
    header_rows: list[str]  # the row dimensions' labels
    columns: list[str]  # the column labels, then "Total"
    lines: list[LineView]
    total: LineView
    marks: frozenset[str]
    chart: dict[str, Any] | None = None
    medians: bool = False
    epsilon: float | None = None
    error_95: int | None = None
    release_id: str | None = None
    notes: list[str] = field(default_factory=list)


def cell(number: Shown) -> CellView:
    return CellView(number.text, number.mark.value)


def _chart_value(number: Shown) -> int | None:
    return number.value if number.mark in (Mark.ZERO, Mark.ROUNDED) else None


def _column_label(result: Result, code: object, locale: str) -> str:
    if result.kind is Kind.MEDIANS:  # one column: the people counted per row
        return str(_("People"))
    dimension = result.request.dimensions[-1]
    return statistics.label(dimension, str(code), locale)


def _row_labels(result: Result, row: object, locale: str) -> list[str]:
    dims = list(result.request.dimensions[:-1]) or [result.request.dimensions[-1]]
    codes = row if isinstance(row, tuple) else (row,)
    return [statistics.label(d, str(c), locale) for d, c in zip(dims, codes, strict=False)]


def table_view(result: Result, locale: str, key: str | None = None) -> TableView:
    """The page's view of a released result (its chart too, drawn from released numbers)."""
    result = result.for_reading()
    table = result.table
    dims = result.request.dimensions
    title_key = key or result.title_key
    title = str(TITLES.get(title_key, TITLES.get(result.kind.value, title_key)))
    if result.kind is Kind.ADHOC:  # named by what it counts: "Age band × Sex"
        title = " × ".join(statistics.dimension_label(d, locale) for d in dims)
    one_way = len(dims) == 1 and tuple(table.rows) == (ALL,) and result.kind is not Kind.FLOWS
    medians: Mapping[object, float | None] = result.medians or {}
    if one_way:
        header_rows = [statistics.dimension_label(dims[0], locale)]
        columns = [_("People")]
        lines = [
            LineView([_column_label(result, c, locale)], [cell(table.cell(ALL, c))])
            for c in table.columns
        ]
        total = LineView([_("Total")], [cell(table.total)])
    else:
        row_dims = list(dims[:-1]) or [dims[-1]]
        header_rows = [statistics.dimension_label(d, locale) for d in row_dims]
        columns = [_column_label(result, c, locale) for c in table.columns] + [_("Total")]
        lines = []
        for row in table.rows:
            cells = [cell(table.cell(row, c)) for c in table.columns]
            cells.append(cell(table.row_totals[row]))
            median = medians.get(row) if result.medians is not None else None
            lines.append(
                LineView(
                    _row_labels(result, row, locale),
                    cells,
                    _median_text(median) if result.medians is not None else None,
                )
            )
        total_cells = [cell(table.column_totals[c]) for c in table.columns]
        total_cells.append(cell(table.total))
        total = LineView([_("Total")] + [""] * (len(header_rows) - 1), total_cells)
    view = TableView(
        key=title_key,
        title=title,
        kind=result.kind.value,
        header_rows=header_rows,
        columns=columns,
        lines=lines,
        total=total,
        marks=frozenset(m.value for m in table.marks()),
        medians=result.medians is not None,
        epsilon=result.epsilon,
        error_95=result.error_95,
        release_id=str(result.release_id) if result.release_id else None,
    )
    view.chart = chart(result, view, one_way, locale)
    return view


def _median_text(median: float | None) -> str:
    return "–" if median is None else f"{median:g}"


def chart(result: Result, view: TableView, one_way: bool, locale: str) -> dict[str, Any] | None:
    """A plotly figure (data and layout) of the released numbers; None when there is nothing
    to draw. Hidden and "<10" cells are gaps, never a guess."""
    table = result.table
    kind = _chart_kind(result)
    if one_way:
        labels = [line.headers[0] for line in view.lines]
        values = [_chart_value(table.cell(ALL, c)) for c in table.columns]
        traces: list[dict[str, Any]]
        if kind == "line":
            traces = [{"type": "scatter", "mode": "lines+markers", "x": labels, "y": values}]
        else:
            traces = [{"type": "bar", "orientation": "h", "y": labels, "x": values}]
        return _figure(traces, kind, len(labels))
    if result.kind is Kind.MEDIANS:
        rows = [" / ".join(line.headers) for line in view.lines]
        medians: list[float | None] = [(result.medians or {}).get(r) for r in table.rows]
        bars: dict[str, Any] = {"type": "bar", "orientation": "h", "y": rows, "x": medians}
        return _figure([bars], "bar", len(rows))
    rows = [" / ".join(line.headers) for line in view.lines]
    series: list[dict[str, Any]] = [
        {
            "type": "scatter" if kind == "line" else "bar",
            "mode": "lines+markers" if kind == "line" else None,
            "name": view.columns[j],
            "x": rows,
            "y": [_chart_value(table.cell(r, c)) for r in table.rows],
        }
        for j, c in enumerate(table.columns)
    ]
    for one in series:
        if one["mode"] is None:
            del one["mode"]
    return _figure(series, kind, len(rows))


def _chart_kind(result: Result) -> str:
    if result.kind is Kind.FLOWS:
        return "line"
    for standard in statistics.standard_tables():
        if standard.id == result.title_key:
            return standard.chart
    if result.request.dimensions[0] == "period":
        return "line" if len(result.request.dimensions) == 1 else "stacked"
    return "bar" if len(result.request.dimensions) == 1 else "grouped"


def _figure(traces: list[dict[str, Any]], kind: str, categories: int) -> dict[str, Any]:
    # One series needs no legend; several get theirs above the plot (below it, rotated month
    # labels on a phone would run into it).
    layout: dict[str, Any] = {
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "showlegend": len(traces) > 1,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
    if kind == "stacked":
        layout["barmode"] = "stack"
    elif kind in ("grouped", "bar"):
        layout["barmode"] = "group"
    horizontal = bool(traces) and traces[0].get("orientation") == "h"
    if horizontal:
        layout["showlegend"] = False
        layout["yaxis"] = {"automargin": True, "autorange": "reversed"}
        layout["height"] = max(220, 28 * categories + 60)
    else:
        layout["xaxis"] = {"automargin": True, "type": "category"}
        layout["yaxis"] = {"automargin": True, "rangemode": "tozero"}
        layout["height"] = 360
    return {"data": traces, "layout": layout}
