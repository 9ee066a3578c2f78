"""A released statistics table as the API's JSON document: codes with their labels in the
request's language, every cell, margin and total as released ({text, value, mark}), and the
legend of the marks used. Only what the service released is read: nothing is recounted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from databank.analytics.disclosure import Mark, Shown
from databank.analytics.tables import ALL
from databank.services import statistics
from databank.services.statistics import Kind, Period, Result, StandardTable
from databank.web.stats_view import TITLES

# What each mark means, for the legend a table carries (the marks it uses only).
LEGEND = {
    Mark.ZERO: _l("0: nobody (an exact zero tells nothing about a person)."),
    Mark.LOW: _l("<10: between 1 and 9 people."),
    Mark.ROUNDED: _l("Numbers are rounded to the nearest 5; totals are rounded on their own."),
    Mark.DOMINANT: _l("x: suppressed, one category holds 90 % or more of its row."),
    Mark.SECONDARY: _l("x: suppressed so that another hidden number cannot be worked out."),
}
ADHOC_NOTE = _l(
    "Ad-hoc table: random noise was added before the rules above (differential privacy)."
)
# Columns that are no dimension's categories (a medians table's count of people).
COLUMN_WORDS = {"people": _l("People")}
# The tables' titles are the pages' (web/stats_view.py); an API reader's ad-hoc table is theirs.
TABLE_TITLES = {**TITLES, "adhoc": _l("Ad-hoc table")}


def locale() -> str:
    """The request's language ("en" or "fr"), as the pages choose it."""
    return "fr" if str(get_locale() or "en").startswith("fr") else "en"


def month(day: Any) -> str:
    return f"{day:%Y-%m}"


def title(table_id: str) -> str:
    return str(TABLE_TITLES.get(table_id, table_id))


def shown(number: Shown) -> dict[str, Any]:
    return {"text": number.text, "value": number.value, "mark": number.mark.value}


def period(value: Period) -> dict[str, str]:
    return {
        "start": month(value.start),
        "end": month(value.end),
        "granularity": value.granularity.value,
    }


def dimension(name: str, lang: str) -> dict[str, str]:
    return {"id": name, "label": statistics.dimension_label(name, lang)}


def _axes(result: Result) -> tuple[tuple[str, ...], str | None]:
    """The dimensions of the rows, and that of the columns (None: the columns are words)."""
    dims = tuple(result.request.dimensions)
    if result.kind is Kind.MEDIANS:
        return dims[:1], None
    return dims[:-1], dims[-1]


def _label(name: str | None, code: str, lang: str) -> str:
    if name is None and code != ALL:
        return str(COLUMN_WORDS.get(code, code))
    return statistics.label(name or "", code, lang)


def _row(key: object, names: Sequence[str], lang: str) -> dict[str, list[str]]:
    codes = [str(c) for c in key] if isinstance(key, tuple) else [str(key)]
    if codes == [ALL] or len(names) != len(codes):
        return {"codes": codes, "labels": [_label(None, c, lang) for c in codes]}
    return {
        "codes": codes,
        "labels": [_label(n, c, lang) for n, c in zip(names, codes, strict=True)],
    }


def legend(result: Result) -> list[dict[str, str]]:
    used = result.table.marks()
    out = [{"mark": m.value, "text": str(text)} for m, text in LEGEND.items() if m in used]
    if result.kind is Kind.ADHOC:
        out.append({"mark": "adhoc", "text": str(ADHOC_NOTE)})
    return out


def table(result: Result, lang: str | None = None) -> dict[str, Any]:
    """The document of one released table (TableOut)."""
    lang = lang or locale()
    result = result.for_reading()
    released = result.table
    row_dims, column_dim = _axes(result)
    medians = None
    if result.kind is Kind.MEDIANS and result.medians is not None:
        medians = [result.medians.get(row) for row in released.rows]
    return {
        "kind": result.kind.value,
        "id": result.title_key,
        "dimensions": [dimension(d, lang) for d in result.request.dimensions],
        "filters": {d: sorted(codes) for d, codes in result.request.filters.items()},
        "period": period(result.period),
        "rows": [_row(r, row_dims, lang) for r in released.rows],
        "columns": [
            {"code": str(c), "label": _label(column_dim, str(c), lang)} for c in released.columns
        ],
        "cells": [[shown(released.cell(r, c)) for c in released.columns] for r in released.rows],
        "totals": {
            "rows": [shown(released.row_totals[r]) for r in released.rows],
            "columns": [shown(released.column_totals[c]) for c in released.columns],
            "total": shown(released.total),
        },
        "legend": legend(result),
        "epsilon": result.epsilon,
        "error_95": result.error_95,
        "release_id": result.release_id,
        "medians": medians,
    }


def standard(found: StandardTable, lang: str) -> dict[str, Any]:
    return {
        "id": found.id,
        "title": title(found.id),
        "chart": found.chart,
        "dimensions": [dimension(d, lang) for d in found.request.dimensions],
    }
