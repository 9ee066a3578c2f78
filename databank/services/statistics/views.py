"""What the statistics services hand to the interfaces (web pages, API, CLI, exports, report).

Only released numbers cross this line: a `Result` holds a `disclosure.ReleasedTable` (every
cell, margin and total already protected), never a true count. Categories are codes; the
interfaces label them with `labels.label(dimension, code, locale)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from databank.analytics.disclosure import ReleasedTable


class Granularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """The months a table covers (first days of months, both included) and how the `period`
    dimension groups them. Period codes: "2026-11" (month), "2026-Q4" (quarter), "2026" (year)."""

    start: date
    end: date
    granularity: Granularity = Granularity.MONTH


@dataclass(frozen=True)
class TableRequest:
    """A templated table: 1 to 3 dimensions of `analytics.tables.DIMENSIONS`, filters on those
    dimensions only (sets of category codes), over a period. Checked by `TableRequest.checked`
    in the service (a bad dimension, filter or code raises `StatsInputError` naming it)."""

    dimensions: tuple[str, ...]
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    period: Period | None = None  # None: the last 12 complete months


class Kind(StrEnum):
    PUBLISHED = "published"  # a standard table: deterministic rules only, same for everyone
    ADHOC = "adhoc"  # differential privacy first, then the same rules
    FLOWS = "flows"  # people entering and leaving homelessness per period
    MEDIANS = "medians"  # median referral waiting times (days) per row


@dataclass(frozen=True)
class Result:
    """One released table. `table.rows` are category codes of the row dimensions (a tuple of
    codes when two are folded into the rows; "all" for a one-dimension table), `table.columns`
    the codes of the last dimension. For MEDIANS, `medians` maps each row to a median in days
    (None where fewer than 10 people) and `table` holds the people counted per row."""

    kind: Kind
    title_key: str  # a standard table's id, or "adhoc" / "flows" / "medians"
    request: TableRequest
    period: Period
    table: ReleasedTable
    epsilon: float | None = None  # ADHOC only: the budget this table cost
    error_95: int | None = None  # ADHOC only: each cell within this of the truth, 95 %
    medians: Mapping[object, float | None] | None = None
    release_id: uuid.UUID | None = None  # ADHOC only: the stored release, for its exports

    def transposed(self) -> Result:
        """The same released numbers with rows and columns swapped (a table of two rows over
        twelve months reads better as twelve lines of two): presentation only, nothing new."""
        table = self.table
        swapped = ReleasedTable(
            rows=table.columns,
            columns=table.rows,
            cells={(c, r): shown for (r, c), shown in table.cells.items()},
            row_totals=table.column_totals,
            column_totals=table.row_totals,
            total=table.total,
        )
        dims = self.request.dimensions
        request = TableRequest((dims[-1], *dims[:-1]), self.request.filters, self.request.period)
        return replace(self, table=swapped, request=request)

    def for_reading(self) -> Result:
        """As pages, files and the report lay it out: the flows one line per period."""
        return self.transposed() if self.kind is Kind.FLOWS else self


@dataclass(frozen=True)
class Budget:
    """A user's differential-privacy budget for the current quarter."""

    quarter: str  # "2026-Q4"
    total: float
    spent: float

    @property
    def left(self) -> float:
        return max(0.0, round(self.total - self.spent, 6))


@dataclass(frozen=True)
class Preview:
    """What an ad-hoc table will cost and how accurate it will be, before it runs."""

    epsilon: float
    error_95: int
    budget: Budget
    affordable: bool


@dataclass(frozen=True)
class StandardTable:
    """One of the fixed, pre-approved published tables."""

    id: str  # "people_by_area", "trend_by_month"...
    request: TableRequest
    chart: str  # "bar" | "line" | "stacked" : how the dashboard draws it


@dataclass(frozen=True)
class Report:
    """The monthly city report: the month, the month before, and its sections."""

    month: date
    previous: date
    sections: tuple[Result, ...]
    flows: Result
