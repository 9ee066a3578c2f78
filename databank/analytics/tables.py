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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from databank.analytics import disclosure, dp

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
    """Distinct people per cell, per row, per column and in all, over the filtered facts.

    Each fact row gets its row's and its column's place among the table's labels (-1 for a
    category outside them: counted in the total only, as a group-by would leave it out of the
    cells and margins), and each count is of distinct (person, place) pairs: a sort of
    integers, no group-by (the rows' pairs are the cells' pairs divided, already in order)."""
    kept = _filtered(facts, query)
    row_dims, column_dim = _axes(query)
    rows: list[object] = _labels(row_dims, categories, query) if row_dims else [ALL]
    columns = _labels([column_dim], categories, query)
    person = _person_codes(kept[PERSON])
    row_at = _row_places(kept, row_dims, categories, query, len(kept))
    column_at = _places(kept[column_dim], _labels([column_dim], categories, query))
    width = len(columns)
    known = person >= 0
    in_row, in_column = known & (row_at >= 0), known & (column_at >= 0)
    in_cell = in_row & in_column
    cell_at = row_at[in_cell] * width + column_at[in_cell]
    cell_pairs = _pairs(person[in_cell], cell_at, len(rows) * width)
    if np.array_equal(in_cell, in_row):  # the (person, row) pairs: the cells' pairs, in order
        row_pairs = _first_of_runs(cell_pairs // width)
    else:
        row_pairs = _pairs(person[in_row], row_at[in_row], len(rows))
    per_cell = np.bincount(cell_pairs % (len(rows) * width), minlength=len(rows) * width)
    per_row = np.bincount(row_pairs % len(rows), minlength=len(rows))
    column_pairs = _pairs(person[in_column], column_at[in_column], width)
    per_column = np.bincount(column_pairs % width, minlength=width)
    return Counts(
        tuple(rows),
        tuple(columns),
        {
            (r, c): int(per_cell[i * width + j])
            for i, r in enumerate(rows)
            for j, c in enumerate(columns)
        },
        {r: int(per_row[i]) for i, r in enumerate(rows)},
        {c: int(per_column[j]) for j, c in enumerate(columns)},
        int(np.count_nonzero(np.bincount(person[known]))) if known.any() else 0,
    )


def _person_codes(people: pd.Series) -> np.ndarray:
    """The people as integers from 0 (the snapshot's are already; others are numbered)."""
    values = people.to_numpy()
    if values.dtype.kind not in "iu" or (values.size and values.min() < 0):
        values, _ = pd.factorize(people)  # a missing person (-1) stays out of every count
    return np.asarray(values, dtype=np.int64)


def _places(values: pd.Series, labels: Sequence[object]) -> np.ndarray:
    """Each row's place among the labels, -1 where its category is not one of them."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        where = {label: i for i, label in enumerate(labels)}
        lookup = np.array([where.get(c, -1) for c in values.cat.categories] + [-1], np.int64)
        codes = lookup[values.cat.codes.to_numpy()]  # a missing value's code -1: the last, -1
    else:
        codes = pd.Categorical(values, categories=list(labels)).codes
    return np.asarray(codes, dtype=np.int64)


def _row_places(
    kept: pd.DataFrame,
    row_dims: Sequence[str],
    categories: Mapping[str, Sequence[str]],
    query: TableQuery,
    size: int,
) -> np.ndarray:
    """Each fact's row of the table, numbered as `_labels` orders them (the first dimension
    slowest), -1 where a category is outside the table's."""
    at = np.zeros(size, np.int64)
    for dimension in row_dims:
        labels = _labels([dimension], categories, query)
        place = _places(kept[dimension], labels)
        at = np.where((at < 0) | (place < 0), -1, at * len(labels) + place)
    return at


def _pairs(person: np.ndarray, place: np.ndarray, size: int) -> np.ndarray:
    """The distinct (person, place) pairs as integers (person * size + place), in order: sorted
    (numpy's sort of integers is many times faster than hashing them), each kept once."""
    return _first_of_runs(np.sort(person * size + place))


def _first_of_runs(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of an ordered array."""
    first = np.empty(ordered.size, bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


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
    keys = [PERSON, *query.dimensions]
    ranks = [_sort_ranks(kept[key]) for key in keys]
    combinations = math.prod(count for _codes, count in ranks)
    n = len(kept)
    if n == 0 or combinations * n >= 2**62:  # too many for one integer: pandas' own way
        distinct = kept.drop_duplicates(keys).sort_values(keys)
        return distinct[distinct.groupby(PERSON).cumcount() < cap]
    # Each row as one integer ordering as sort_values would (person, then the dimensions), times
    # the row count plus the row's position: one sort puts each (person, cell) first where it
    # first occurs (what drop_duplicates keeps) and the cells in order.
    combined = np.zeros(n, np.int64)
    for codes, count in ranks:
        combined = combined * count + codes
    combined, position = np.divmod(np.sort(combined * n + np.arange(n)), n)
    first = np.ones(n, bool)
    first[1:] = combined[1:] != combined[:-1]
    combined, position = combined[first], position[first]
    person = combined // (combinations // ranks[0][1])
    starts = np.ones(person.size, bool)
    starts[1:] = person[1:] != person[:-1]
    within = np.arange(person.size) - np.flatnonzero(starts)[np.cumsum(starts) - 1]
    known = person < ranks[0][1] - 1  # a missing person (ranked last) is in no group
    return kept.iloc[position[(within < cap) & known]]


def _sort_ranks(values: pd.Series) -> tuple[np.ndarray, int]:
    """Each value's rank in the order sort_values puts them (a category's code, else the sorted
    values'; a missing value last), and how many ranks there are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, count = values.cat.codes.to_numpy(), len(values.cat.categories)
    else:
        codes, uniques = pd.factorize(values, sort=True)
        count = len(uniques)
    return np.where(codes < 0, count, codes).astype(np.int64), count + 1


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
