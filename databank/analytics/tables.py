"""Templated tables of distinct people over the coarse facts (issue 18, point 2).

The facts are a frame with one row per (person, coarse attributes) as the projection keeps them:
a person holding two needs in one month is two rows. A table has one to three dimensions from
`DIMENSIONS`, filters on those dimensions only (sets of categories), and counts distinct people
per cell: each person once in a cell, whatever number of rows put them there. Its margins count
distinct people too (a person with two needs is one person in their row's total).

Releases: `release_published` applies the deterministic rules only (the standard tables, the same
for everyone); `release_adhoc` adds differential privacy first (analytics/dp.py), then the same
presentation rules. An ad-hoc table always takes the second path: the first alone loses to a
differencing attack (tests/analytics/test_differencing.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from databank.analytics import disclosure, dp

if TYPE_CHECKING:
    import pandas as pd

# Coarse attributes only: nothing here joins back to a case outside the zone that builds it.
DIMENSIONS = (
    "area",
    "org_kind",
    "period",
    "age_band",
    "sex",
    "need",
    "need_status",
    "living",
    "hud_living",
    "outcome",
    "wait_band",
)
MAX_DIMENSIONS = 3
PERSON = "person"
ALL = "all"  # the one row of a table of one dimension
# The most cells of one table a person's rows are kept in on the differentially private path:
# a person can hold several needs, months or areas, and the noise must cover every cell they
# can change. Their cells beyond this are dropped, the same way each time (stable).
CONTRIBUTION_CAP = 2


@dataclass(frozen=True)
class TableQuery:
    dimensions: tuple[str, ...]
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= len(self.dimensions) <= MAX_DIMENSIONS:
            raise ValueError(f"a table has 1 to {MAX_DIMENSIONS} dimensions")
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError("a dimension appears twice")
        unknown = [d for d in (*self.dimensions, *self.filters) if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension: {', '.join(unknown)}")


@dataclass(frozen=True)
class Counts:
    """True distinct-person counts of a table: cells, margins and the total. Never released as
    they are: only through `release_published` or `release_adhoc`."""

    rows: tuple[object, ...]
    columns: tuple[object, ...]
    cells: Mapping[tuple[object, object], int]
    row_people: Mapping[object, int]
    column_people: Mapping[object, int]
    people: int

    def __repr__(self) -> str:  # true counts stay out of logs and tracebacks
        return f"Counts(<{len(self.rows)} x {len(self.columns)}>)"


def _filtered(facts: pd.DataFrame, query: TableQuery) -> pd.DataFrame:
    kept = facts
    for dimension, values in query.filters.items():
        kept = kept[kept[dimension].isin(sorted(values))]
    return kept


def _axes(query: TableQuery) -> tuple[list[str], str]:
    """The dimensions folded into the rows (none: one row, ALL), and the column dimension. A
    table of one dimension is one row of categories: dominance is judged across them."""
    dims = list(query.dimensions)
    return dims[:-1], dims[-1]


def _labels(
    dims: Sequence[str], categories: Mapping[str, Sequence[str]], query: TableQuery
) -> list[object]:
    """Every category of the row dimensions (the filtered ones only), in the vocabulary's order:
    a table shows its empty cells (a cell missing from a table would say it is empty)."""
    import itertools

    lists = [
        [c for c in categories[d] if d not in query.filters or c in query.filters[d]] for d in dims
    ]
    combos = list(itertools.product(*lists))
    return [combo[0] if len(combo) == 1 else combo for combo in combos]


def count(
    facts: pd.DataFrame, query: TableQuery, categories: Mapping[str, Sequence[str]]
) -> Counts:
    """Distinct people per cell, per row, per column and in all, over the filtered facts."""
    kept = _filtered(facts, query)
    row_dims, column_dim = _axes(query)
    rows: list[object] = _labels(row_dims, categories, query) if row_dims else [ALL]
    columns = _labels([column_dim], categories, query)
    cells: dict[tuple[object, object], int] = {}
    if not kept.empty:
        per_cell = kept.groupby([*row_dims, column_dim], observed=True)[PERSON].nunique()
        for key, value in per_cell.items():
            values = key if isinstance(key, tuple) else (key,)
            head = values[:-1]
            row_key = ALL if not head else (head[0] if len(head) == 1 else tuple(head))
            cells[(row_key, values[-1])] = int(value)
    everyone = int(kept[PERSON].nunique())
    row_people: dict[object, int] = (
        _people_by(kept, row_dims, rows) if row_dims else {ALL: everyone}
    )
    column_people = _people_by(kept, [column_dim], columns)
    return Counts(
        tuple(rows),
        tuple(columns),
        {(r, c): cells.get((r, c), 0) for r in rows for c in columns},
        row_people,
        column_people,
        everyone,
    )


def _people_by(
    kept: pd.DataFrame, dims: Sequence[str], labels: Sequence[object]
) -> dict[object, int]:
    found: dict[object, int] = dict.fromkeys(labels, 0)
    if kept.empty:
        return found
    for key, value in kept.groupby(list(dims), observed=True)[PERSON].nunique().items():
        label = key if not isinstance(key, tuple) else (key[0] if len(key) == 1 else key)
        if label in found:
            found[label] = int(value)
    return found


def release_published(counts: Counts) -> disclosure.ReleasedTable:
    """A standard table: the deterministic rules only, so it is the same for everyone."""
    return disclosure.protect_with_margins(
        counts.cells, counts.rows, counts.columns, counts.row_people, counts.column_people,
        counts.people,
    )  # fmt: skip


def capped(facts: pd.DataFrame, query: TableQuery, cap: int = CONTRIBUTION_CAP) -> pd.DataFrame:
    """The facts with each person kept in at most `cap` cells of this table (the cells first in
    the order of their values, the same every time): what bounds the noise's sensitivity."""
    kept = _filtered(facts, query)
    keys = list(query.dimensions)
    distinct = kept.drop_duplicates([PERSON, *keys]).sort_values([PERSON, *keys])
    return distinct[distinct.groupby(PERSON).cumcount() < cap]


def sensitivity(cap: int = CONTRIBUTION_CAP) -> int:
    """How far one person can move an ad-hoc table's cells in L1: one in each of their at most
    `cap` cells. (Its totals are sums of the noised cells: post-processing, no further cost.)"""
    return cap


def release_adhoc(
    facts: pd.DataFrame,
    query: TableQuery,
    categories: Mapping[str, Sequence[str]],
    epsilon: float = dp.DEFAULT_EPSILON,
    cap: int = CONTRIBUTION_CAP,
) -> disclosure.ReleasedTable:
    """An ad-hoc table: each person kept in at most `cap` of its cells, the cells noised
    (discrete Laplace within `epsilon`), the totals summed from the noised cells before any
    rounding, then the same presentation rules as a published table. A total here counts a
    person once in each of their cells it adds up (at most `cap`)."""
    return release_noised(count(capped(facts, query, cap), query, categories), epsilon, cap)


def release_noised(
    counts: Counts, epsilon: float = dp.DEFAULT_EPSILON, cap: int = CONTRIBUTION_CAP
) -> disclosure.ReleasedTable:
    """The noise and the presentation rules of `release_adhoc`, on counts of capped facts."""
    keys = list(counts.cells)
    values = dp.noisy([counts.cells[k] for k in keys], dp.plan(epsilon, sensitivity(cap)))
    noised = dict(zip(keys, values, strict=True))
    rows = {r: sum(noised[(r, c)] for c in counts.columns) for r in counts.rows}
    columns = {c: sum(noised[(r, c)] for r in counts.rows) for c in counts.columns}
    return disclosure.protect_with_margins(
        noised, counts.rows, counts.columns, rows, columns, sum(rows.values())
    )
