"""Disclosure control of a released table of counts (design.md section 9, issue 18 point 3).

A table is cells of distinct-person counts on rows and columns (a third dimension is folded into
the rows), with its row, column and grand totals. What is released of each number:

- 0 stays 0 (a structural zero tells nothing about a person);
- 1 to 9 is shown as "<10";
- 10 and more is rounded to the nearest 5;
- totals are computed from the unrounded cells and rounded on their own (never summed from the
  rounded cells, which would add the rounding errors up);
- dominance: in a row with a total of 10 or more where one category holds 90 % or more of the
  row's entries, every cell of the row is suppressed (knowing that someone is in the row would
  tell their category), and so is its total. Entries are people where the categories divide
  the row (sex); where one person can be in several (needs, months), each counts in each;
- secondary suppression: a row, a column or a set of margins holding exactly one suppressed
  number gets a second one (its smallest non-zero number), so that no suppressed cell is its
  margin minus the cells beside it; then the pattern is audited as a reader would attack it
  (bounds from every line, tightened until stable), and a hidden number still pinned to within
  the rounding's own width has the totals around it hidden too.

Percentages are shown only over a denominator of 50 or more, computed from released values (an
unrounded numerator would give back what rounding hid); medians only over 10 or more people.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

LOW_LIMIT = 10  # counts 1..LOW_LIMIT-1 are shown as "<10"
ROUNDING_BASE = 5
DOMINANCE_SHARE = 0.9
DOMINANCE_MIN_TOTAL = 10
PERCENT_MIN_DENOMINATOR = 50
MEDIAN_MIN_PEOPLE = 10


class Mark(StrEnum):
    """How a released number was protected (the legend of a table says each in words)."""

    ZERO = "zero"  # an exact zero
    LOW = "low"  # 1..9, shown as "<10"
    ROUNDED = "rounded"  # rounded to the nearest 5
    DOMINANT = "dominant"  # suppressed: one category holds 90 % or more of its row
    SECONDARY = "secondary"  # suppressed so that another suppressed cell cannot be recovered


SUPPRESSED = frozenset({Mark.DOMINANT, Mark.SECONDARY})


@dataclass(frozen=True)
class Shown:
    """One released number: its value (None when suppressed or "<10") and how it was protected."""

    value: int | None
    mark: Mark

    @property
    def suppressed(self) -> bool:
        return self.mark in SUPPRESSED

    @property
    def text(self) -> str:
        """The number as a table prints it (a suppressed cell as "x", the usual symbol)."""
        if self.mark is Mark.LOW:
            return f"<{LOW_LIMIT}"
        if self.suppressed:
            return "x"
        return str(self.value)


def round_to_base(count: int, base: int = ROUNDING_BASE) -> int:
    """The nearest multiple of `base` (halves up: 12.5 never occurs for counts and base 5)."""
    return (count + base // 2) // base * base


def shown(count: int) -> Shown:
    """A single count as released: 0, "<10", or rounded to the nearest 5."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return Shown(0, Mark.ZERO)
    if count < LOW_LIMIT:
        return Shown(None, Mark.LOW)
    return Shown(round_to_base(count), Mark.ROUNDED)


Key = Hashable
Number = tuple[Key, ...]  # ("cell", row, column), ("row", row), ("column", column), ("total",)
Line = tuple[Number, list[Number]]  # a total and the numbers it adds up


@dataclass(frozen=True)
class ReleasedTable:
    """A table as released: every cell, margin and the total protected; no true count kept."""

    rows: tuple[Key, ...]
    columns: tuple[Key, ...]
    cells: Mapping[tuple[Key, Key], Shown]
    row_totals: Mapping[Key, Shown]
    column_totals: Mapping[Key, Shown]
    total: Shown

    def cell(self, row: Key, column: Key) -> Shown:
        return self.cells[(row, column)]

    def marks(self) -> frozenset[Mark]:
        """The kinds of protection used in the table (what its legend must explain)."""
        every = [*self.cells.values(), *self.row_totals.values(), *self.column_totals.values()]
        return frozenset(s.mark for s in [*every, self.total])


def protect(
    counts: Mapping[tuple[Key, Key], int],
    rows: Sequence[Key],
    columns: Sequence[Key],
) -> ReleasedTable:
    """Apply every rule to a table of true counts (a missing cell counts 0).

    The margins are the sums of the true cells, so the caller's counts must be distinct people
    per cell whose sum over a row is the row's number of people: a person counted in two columns
    of one row (two needs, say) makes the row total a count of mentions, not people. For such
    tables pass `row_people`/`column_people` through :func:`protect_with_margins` instead.
    """
    row_people = {r: sum(counts.get((r, c), 0) for c in columns) for r in rows}
    column_people = {c: sum(counts.get((r, c), 0) for r in rows) for c in columns}
    grand = sum(row_people.values())
    return protect_with_margins(counts, rows, columns, row_people, column_people, grand)


def protect_with_margins(
    counts: Mapping[tuple[Key, Key], int],
    rows: Sequence[Key],
    columns: Sequence[Key],
    row_people: Mapping[Key, int],
    column_people: Mapping[Key, int],
    people: int,
) -> ReleasedTable:
    """Apply every rule to a table whose margins are counted on their own (distinct people in a
    row, a column, the whole table), as when one person can be in several cells of a row."""
    rows, columns = tuple(rows), tuple(columns)
    truth: dict[Number, int] = {
        ("cell", r, c): int(counts.get((r, c), 0)) for r in rows for c in columns
    }
    truth |= {("row", r): int(row_people[r]) for r in rows}
    truth |= {("column", c): int(column_people[c]) for c in columns}
    truth[("total",)] = int(people)
    released = {key: shown(value) for key, value in truth.items()}
    for r in rows:
        # The share is of the row's entries: where a person can be in several of its categories
        # (two needs, twelve months), each category's share of the people would add up to more
        # than 100 % and every month of a trend would look dominant. Where the categories divide
        # the row's people (sex, age band), entries and people are the same.
        entries = sum(truth[("cell", r, c)] for c in columns)
        # One column is no distribution: the row is the category (people per area, say), and
        # its count is released like any other.
        if (
            len(columns) > 1
            and truth[("row", r)] >= DOMINANCE_MIN_TOTAL
            and any(truth[("cell", r, c)] >= DOMINANCE_SHARE * entries for c in columns)
        ):
            for c in columns:
                released[("cell", r, c)] = Shown(None, Mark.DOMINANT)
            # Its total too: two dominated rows' rounded totals against the rounded column
            # totals can pin a hidden cell to within the rounding (a linear programme found
            # rows [[0, 0, 10], [0, 1, 0], [11, 0, 1]] where the line-by-line audit did not).
            released[("row", r)] = Shown(None, Mark.DOMINANT)
    # Each line: a total and the numbers it adds up.
    lines: list[Line] = [(("row", r), [("cell", r, c) for c in columns]) for r in rows]
    lines += [(("column", c), [("cell", r, c) for r in rows]) for c in columns]
    lines += [(("total",), [("row", r) for r in rows])]
    lines += [(("total",), [("column", c) for c in columns])]
    _secondary(released, truth, lines)
    return ReleasedTable(
        rows,
        columns,
        {(r, c): released[("cell", r, c)] for r in rows for c in columns},
        {r: released[("row", r)] for r in rows},
        {c: released[("column", c)] for c in columns},
        released[("total",)],
    )


# A released rounded count pins its truth to 5 values (v-2..v+2): a hidden number bounded as
# tightly as that by what is released has been recovered as well as if it had been published.
ROUNDED_WIDTH = 4.0


def _secondary(
    released: dict[Number, Shown], truth: Mapping[Number, int], lines: list[Line]
) -> None:
    """Secondary suppression: first a line (a total and the numbers it adds up) holding exactly
    one suppressed number, its total shown, suppresses a second (its smallest non-zero number,
    the least information lost; else any other; else the total itself); then the pattern is
    audited as an attacker would (bounds from every line, tightened until stable) and a hidden
    number still recovered to within the rounding gets its lines' totals suppressed too, until
    none is."""
    while True:
        _pair_up(released, truth, lines)
        exposed = [
            number
            for number, (lo, hi) in _bounds(released, lines).items()
            if released[number].suppressed and hi - lo <= ROUNDED_WIDTH
        ]
        if not exposed:
            return
        widened = False
        for number in exposed:
            for total, parts in lines:
                if number in parts and not released[total].suppressed:
                    released[total] = Shown(None, Mark.SECONDARY)
                    widened = True
        if not widened:  # every total around it is hidden already: nothing more to hide
            return


def _pair_up(released: dict[Number, Shown], truth: Mapping[Number, int], lines: list[Line]) -> None:
    parts_of: dict[Number, list[list[Number]]] = {}
    for total, parts in lines:
        parts_of.setdefault(total, []).append(parts)

    def recomputable(number: Number) -> bool:
        # A total whose parts are all released is worth nothing as a complement: a reader adds
        # them up. Hypothesis found rows [[0, 0, 10], [1, 10, 10], [0, 10, 10]], where the third
        # row's total, hidden to pair the dominated first row's, came back to within the
        # rounding from its own cells and the columns.
        return any(
            all(not released[p].suppressed for p in parts) for parts in parts_of.get(number, [])
        )

    changed = True
    while changed:
        changed = False
        for total, parts in lines:
            hidden = [k for k in parts if released[k].suppressed]
            if len(hidden) != 1 or released[total].suppressed:
                continue
            others = [k for k in parts if not released[k].suppressed]
            # The least information lost: a number that is no sum of released ones, then a
            # non-zero one, then the smallest.
            pick = (
                min(others, key=lambda k: (recomputable(k), truth[k] == 0, truth[k], str(k)))
                if others
                else total
            )
            released[pick] = Shown(None, Mark.SECONDARY)
            changed = True


def interval(number: Shown) -> tuple[float, float]:
    """What a reader knows of a released number's truth."""
    if number.mark is Mark.ZERO:
        return (0.0, 0.0)
    if number.mark is Mark.LOW:
        return (1.0, LOW_LIMIT - 1.0)
    if number.mark is Mark.ROUNDED:
        assert number.value is not None  # noqa: S101 - a rounded number has its value
        half = ROUNDING_BASE // 2
        return (max(number.value - half, LOW_LIMIT), number.value + half)
    return (0.0, math.inf)


def _bounds(
    released: Mapping[Number, Shown], lines: list[Line]
) -> dict[Number, tuple[float, float]]:
    """Bounds on every number from the released ones and every line, tightened until stable."""
    known = {number: interval(value) for number, value in released.items()}
    for _round in range(100):
        moved = False
        for total, parts in lines:
            moved |= _tighten(known, total, parts)
        if not moved:
            break
    return known


def _tighten(known: dict[Number, tuple[float, float]], total: Number, parts: list[Number]) -> bool:
    """One pass over a line: each part bounded by the total less the others, in turn, then the
    total by the sum of its parts. The others' sums are the line's sums less the part, kept
    current as parts move (a line of n parts costs n, not n squared; the bounds are whole
    numbers, so the sums are exact). Whether any bound moved."""
    lows, highs, unbounded = 0.0, 0.0, 0  # sums of the parts' bounds; how many have no upper one
    for part in parts:
        lo, hi = known[part]
        lows += lo
        if hi == math.inf:
            unbounded += 1
        else:
            highs += hi
    total_lo, total_hi = known[total]
    moved = False
    for part in parts:
        lo, hi = known[part]
        open_above = hi == math.inf
        if unbounded - open_above:  # another part has no upper bound: none from below here
            low = -math.inf
        else:
            low = total_lo - (highs - (0.0 if open_above else hi))
        new = (max(lo, low), min(hi, total_hi - (lows - lo)))
        if new != (lo, hi):
            known[part], moved = new, True
            lows += new[0] - lo
            if open_above and new[1] != math.inf:
                unbounded -= 1
                highs += new[1]
            elif not open_above:
                highs += new[1] - hi
    new = (max(total_lo, lows), min(total_hi, math.inf if unbounded else highs))
    if new != (total_lo, total_hi):
        known[total], moved = new, True
    return moved


def percentage(numerator: Shown, denominator: Shown, denominator_people: int) -> float | None:
    """A share in percent of two released numbers, or None: when the true denominator is under
    50 people, or when either number is hidden ("<10" or suppressed)."""
    if numerator.value is None or denominator.value is None:
        return None
    if denominator_people < PERCENT_MIN_DENOMINATOR:
        return None
    return round(100.0 * numerator.value / denominator.value)


def median(values: Sequence[float]) -> float | None:
    """The median of at least 10 people's values (rounded to a whole unit), else None."""
    if len(values) < MEDIAN_MIN_PEOPLE:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return float(round(value))
