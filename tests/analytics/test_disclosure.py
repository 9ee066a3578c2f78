"""Disclosure control (issue 18, point 3): each rule on hand-made tables, then properties over
random tables (hypothesis): no released cell is in 1..9, every released non-zero count is a
multiple of 5 or "<10", and no suppressed cell can be recovered exactly from what is released."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from databank.analytics import disclosure
from databank.analytics.disclosure import (
    Mark,
    ReleasedTable,
    Shown,
    median,
    percentage,
    protect,
    round_to_base,
    shown,
)


def _table(rows: list[list[int]]) -> ReleasedTable:
    names_r = [f"r{i}" for i in range(len(rows))]
    names_c = [f"c{j}" for j in range(len(rows[0]))]
    counts = {(names_r[i], names_c[j]): v for i, row in enumerate(rows) for j, v in enumerate(row)}
    return protect(counts, names_r, names_c)


def test_zero_stays_zero_small_counts_hide_and_the_rest_rounds_to_5() -> None:
    assert shown(0) == Shown(0, Mark.ZERO)
    assert [shown(n).text for n in range(1, 10)] == ["<10"] * 9
    assert [shown(n).value for n in (10, 11, 12, 13, 14, 15, 17, 18, 1002)] == [
        10, 10, 10, 15, 15, 15, 15, 20, 1000,
    ]  # fmt: skip
    assert round_to_base(22) == 20
    assert round_to_base(23) == 25


def test_totals_come_from_unrounded_cells_and_round_on_their_own() -> None:
    # Cells 12 + 12 + 12 = 36: rounded cells sum to 30, the total released is 35.
    released = _table([[12, 12, 12]])
    assert [released.cell("r0", c).value for c in ("c0", "c1", "c2")] == [10, 10, 10]
    assert released.row_totals["r0"].value == 35
    assert released.total.value == 35


def test_a_dominant_category_suppresses_its_row_and_the_suppression_spreads() -> None:
    # Row r0: 19 of 20 people (95 %) in c0: knowing someone is in r0 tells their category.
    released = _table([[19, 1, 0], [20, 15, 30], [25, 30, 12]])
    assert all(released.cell("r0", c).mark is Mark.DOMINANT for c in ("c0", "c1", "c2"))
    # Its total is hidden too (two dominated rows' rounded totals against the columns' can pin
    # a hidden cell: see the property test's explicit example).
    assert released.row_totals["r0"].mark is Mark.DOMINANT
    # Each column now holds one suppressed cell: a second one is suppressed in each.
    for c in ("c0", "c1", "c2"):
        assert sum(released.cell(r, c).suppressed for r in ("r0", "r1", "r2")) >= 2
    # Below 10 people a row is not judged on dominance (its cells are "<10" anyway).
    small = _table([[9, 0], [30, 40]])
    assert small.cell("r0", "c0").mark is Mark.LOW


def test_a_lone_suppressed_cell_gets_the_smallest_nonzero_neighbour_as_second() -> None:
    released = _table([[95, 2, 3], [40, 45, 50], [20, 0, 60]])
    assert released.cell("r0", "c0").mark is Mark.DOMINANT
    # Column c1: r0's cell is suppressed with its row; the column's smallest non-zero other is
    # r1 (45; r2 is 0).
    assert released.cell("r1", "c1").mark is Mark.SECONDARY
    assert released.cell("r2", "c1").mark is Mark.ZERO


def test_a_single_column_table_is_not_judged_on_dominance() -> None:
    """One column is no distribution of the row's people over categories: nothing to dominate.
    Its counts are released as counts (people per area, the people of a median)."""
    released = _table([[20], [5]])
    assert released.cell("r0", "c0").text == "20"
    assert released.cell("r1", "c0").text == "<10"
    assert released.total.text == "25"


def test_percentages_need_a_denominator_of_50_and_released_values() -> None:
    assert percentage(shown(25), shown(49), 49) is None  # 49 shows as 50: the truth decides
    assert percentage(shown(25), shown(50), 50) == 50
    assert percentage(shown(7), shown(100), 100) is None  # "<10": no share of it
    assert percentage(Shown(None, Mark.SECONDARY), shown(100), 100) is None


def test_medians_need_ten_people() -> None:
    assert median([3.0] * 9) is None
    assert median([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 6.0  # 5.5 rounded half to even -> 6
    assert median([1.0] * 10 + [100.0]) == 1.0


# ---- properties over random tables -------------------------------------------------------

ROUNDED_WIDTH = disclosure.ROUNDED_WIDTH


def _attack(released: ReleasedTable) -> dict[object, tuple[float, float]]:
    """The tightest bounds on every hidden number a reader can get from the released table: a
    linear programme (scipy) minimising then maximising each one, subject to every line adding
    up and every released number's interval. Independent of the module's own audit, which
    propagates bounds line by line (a relaxation of this)."""
    from scipy.optimize import linprog

    numbers: dict[object, Shown] = {("cell", *k): v for k, v in released.cells.items()}
    numbers |= {("row", r): v for r, v in released.row_totals.items()}
    numbers |= {("column", c): v for c, v in released.column_totals.items()}
    numbers[("total",)] = released.total
    order = list(numbers)
    index = {k: i for i, k in enumerate(order)}
    lines = [(("row", r), [("cell", r, c) for c in released.columns]) for r in released.rows]
    lines += [(("column", c), [("cell", r, c) for r in released.rows]) for c in released.columns]
    lines += [(("total",), [("row", r) for r in released.rows])]
    lines += [(("total",), [("column", c) for c in released.columns])]
    equalities = []
    for total, parts in lines:
        row = [0.0] * len(order)
        row[index[total]] = -1.0
        for part in parts:
            row[index[part]] += 1.0
        equalities.append(row)
    bounds = [disclosure.interval(numbers[k]) for k in order]
    bounds = [(lo, None if hi == INFINITY else hi) for lo, hi in bounds]
    found = {}
    for key, value in numbers.items():
        if not value.suppressed:
            continue
        goal = [0.0] * len(order)
        goal[index[key]] = 1.0
        low = linprog(goal, A_eq=equalities, b_eq=[0.0] * len(equalities), bounds=bounds)
        high = linprog(
            [-g for g in goal], A_eq=equalities, b_eq=[0.0] * len(equalities), bounds=bounds
        )
        assert low.status == 0  # the truth is feasible: the programme always has a solution
        found[key] = (low.fun, INFINITY if high.status == 3 else -high.fun)
    return found


INFINITY = math.inf


tables = st.integers(1, 5).flatmap(
    lambda n_rows: st.integers(1, 5).flatmap(
        lambda n_cols: st.lists(
            st.lists(
                st.one_of(st.integers(0, 12), st.integers(0, 400)), min_size=n_cols, max_size=n_cols
            ),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
)


@settings(max_examples=400, deadline=None)
@given(tables)
def test_no_released_number_is_small_and_every_count_is_a_multiple_of_5(
    rows: list[list[int]],
) -> None:
    released = _table(rows)
    numbers = [
        *released.cells.values(),
        *released.row_totals.values(),
        *released.column_totals.values(),
        released.total,
    ]
    for number in numbers:
        if number.value is not None:
            assert number.value == 0 or number.value >= 10
            assert number.value % 5 == 0
        else:
            assert number.mark in {Mark.LOW, Mark.DOMINANT, Mark.SECONDARY}
        if number.mark is Mark.ZERO:
            assert number.value == 0
    # The true zeros outside suppressed lines stay 0.
    for (r, c), number in released.cells.items():
        i, j = int(r[1:]), int(c[1:])
        if rows[i][j] == 0 and not number.suppressed:
            assert number.mark is Mark.ZERO


@settings(max_examples=300, deadline=None)
@given(tables)
# Found by hypothesis: the "<10" column total over two dominated rows pinned their hidden cell
# to [0, 4] for a linear programme, not for the line-by-line audit (low totals are now hidden).
@example(rows=[[0, 0, 10], [0, 1, 0], [11, 0, 1]])
# Found by hypothesis: a row total hidden to pair a dominated row's, though its own cells were all
# released, came back to within the rounding (complements are now never sums of released numbers).
@example(rows=[[0, 0, 10], [1, 10, 10], [0, 10, 10]])
@example(rows=[[0, 0, 10], [0, 10, 11], [2, 9, 10]])
def test_no_suppressed_cell_can_be_recovered_exactly_from_the_margins(
    rows: list[list[int]],
) -> None:
    """Bounded by linear programming on everything released, every hidden cell or total stays
    wider than a rounded number's own uncertainty, and the bounds hold the truth. (Measured with
    `hypothesis.event`: about half of these tables hold a suppressed cell.)"""
    released = _table(rows)
    for key, (lo, hi) in _attack(released).items():
        assert hi - lo > ROUNDED_WIDTH, (key, lo, hi)
        if key[0] == "cell":
            truth = rows[int(key[1][1:])][int(key[2][1:])]
            assert lo - 1e-6 <= truth <= hi + 1e-6


def test_the_recovery_check_catches_a_table_without_secondary_suppression(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The property above can fail: with primary suppression only, the dominant cell of
    [[20, 0, 0], [0, 20, 15]] is its column total (20) give or take the rounding."""
    rows = [[20, 0, 0], [0, 20, 15]]
    lo, hi = _attack(_table(rows))[("cell", "r0", "c0")]
    assert hi - lo > ROUNDED_WIDTH
    monkeypatch.setattr(disclosure, "_secondary", lambda *args: None)
    unprotected = _table(rows)
    assert unprotected.cell("r0", "c0").mark is Mark.DOMINANT
    lo, hi = _attack(unprotected)[("cell", "r0", "c0")]
    assert hi - lo <= ROUNDED_WIDTH
    assert lo <= 20 <= hi
