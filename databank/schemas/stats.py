"""API schemas for anonymised statistics: what a caller asks (a period, dimensions, filters,
epsilon) and the released tables it gets back (codes, labels, protected cells, a legend).

The loads check shapes only (a month is "YYYY-MM", a list is a list of short words); whether a
dimension, a code or a period is known is the statistics service's check, which names the field.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from databank.analytics.disclosure import Mark
from databank.analytics.dp import DEFAULT_EPSILON
from databank.schemas.common import one_of

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MONTH_FIELD = validate.Regexp(MONTH, error="Must be a month written YYYY-MM.")
GRANULARITIES = ["month", "quarter", "year"]
TABLE_FORMATS = ["json", "csv", "xlsx"]
REPORT_FORMATS = ["json", "pdf"]
MARKS = [m.value for m in Mark]
MAX_CODES = 50  # a dimension has at most a few dozen categories (areas)


def _code() -> fields.String:
    return fields.String(validate=validate.Length(1, 40))


def _month(description: str) -> fields.String:
    return fields.String(
        validate=MONTH_FIELD, metadata={"example": "2026-11", "description": description}
    )


class PeriodIn(Schema):
    """The months a table covers; none given: the last 12 complete months, by month."""

    granularity = fields.String(validate=one_of(GRANULARITIES), metadata={"example": "month"})
    start = _month("The first month (included).")
    end = _month("The last month (included).")


class TableQueryIn(PeriodIn):
    format = fields.String(
        load_default="json",
        validate=one_of(TABLE_FORMATS),
        metadata={"description": "json (default), or a download: csv, xlsx."},
    )


class ReleaseQueryIn(Schema):
    format = fields.String(load_default="json", validate=one_of(TABLE_FORMATS))


class MediansQueryIn(PeriodIn):
    dimension = fields.String(
        required=True,
        validate=validate.Length(1, 40),
        metadata={"example": "org_kind", "description": "The rows: one dimension's categories."},
    )


class ReportQueryIn(Schema):
    format = fields.String(
        load_default="json",
        validate=one_of(REPORT_FORMATS),
        metadata={"description": "json (default), or pdf: the printable report."},
    )
    locale = fields.String(
        validate=one_of(["en", "fr"]),
        metadata={"description": "The language of the PDF (default: the request's)."},
    )


class TableIn(Schema):
    """An ad-hoc table: 1 to 3 dimensions (the last one is the columns), filters on those
    dimensions only (category codes), a period, and the privacy budget it may spend."""

    dimensions = fields.List(
        _code(),
        required=True,
        validate=validate.Length(1, 3),
        metadata={"example": ["area", "need"]},
    )
    filters = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 40)),
        values=fields.List(_code(), validate=validate.Length(1, MAX_CODES)),
        load_default=dict,
        metadata={"example": {"need": ["shelter", "food"]}},
    )
    period = fields.Nested(PeriodIn, load_default=dict)
    epsilon = fields.Float(
        load_default=DEFAULT_EPSILON,
        allow_nan=False,
        metadata={"description": "Privacy budget the table spends, in (0, 2]; default 0.5."},
    )


class ShownOut(Schema):
    """One released number: what a table prints, its value (null when "<10" or suppressed) and
    how it was protected."""

    text = fields.String(metadata={"example": "<10"})
    value = fields.Integer(allow_none=True)
    mark = fields.String(metadata={"enum": MARKS})


class NamedOut(Schema):
    code = fields.String()
    label = fields.String()


class DimensionOut(Schema):
    id = fields.String(metadata={"example": "area"})
    label = fields.String()


class RowOut(Schema):
    """A row: the codes of the row dimensions (["all"] for a table of one dimension)."""

    codes = fields.List(fields.String())
    labels = fields.List(fields.String())


class PeriodOut(Schema):
    start = fields.String(metadata={"example": "2025-12"})
    end = fields.String(metadata={"example": "2026-11"})
    granularity = fields.String(metadata={"enum": GRANULARITIES})


class TotalsOut(Schema):
    rows = fields.List(fields.Nested(ShownOut), metadata={"description": "One per row."})
    columns = fields.List(fields.Nested(ShownOut), metadata={"description": "One per column."})
    total = fields.Nested(ShownOut)


class LegendOut(Schema):
    mark = fields.String(metadata={"enum": MARKS})
    text = fields.String()


class TableOut(Schema):
    """A released table. `cells[i][j]` is row i, column j; totals are protected on their own
    (never the sum of the shown cells). Ad-hoc tables carry their epsilon, the expected error
    (each count within `error_95` of the truth, 95 % of the time) and the release's id."""

    kind = fields.String(metadata={"enum": ["published", "adhoc", "flows", "medians"]})
    id = fields.String(metadata={"description": "A standard table's id, or adhoc/flows/medians."})
    dimensions = fields.List(fields.Nested(DimensionOut))
    filters = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    period = fields.Nested(PeriodOut)
    rows = fields.List(fields.Nested(RowOut))
    columns = fields.List(fields.Nested(NamedOut))
    cells = fields.List(fields.List(fields.Nested(ShownOut)))
    totals = fields.Nested(TotalsOut)
    legend = fields.List(fields.Nested(LegendOut))
    epsilon = fields.Float(allow_none=True)
    error_95 = fields.Integer(allow_none=True)
    release_id = fields.UUID(allow_none=True)
    medians = fields.List(
        fields.Float(allow_none=True),
        allow_none=True,
        metadata={"description": "MEDIANS only: waiting days per row, null under 10 people."},
    )


class StandardTableOut(Schema):
    id = fields.String(metadata={"example": "people_by_area"})
    title = fields.String()
    chart = fields.String(metadata={"enum": ["bar", "line", "stacked"]})
    dimensions = fields.List(fields.Nested(DimensionOut))


class StandardTableListOut(Schema):
    tables = fields.List(fields.Nested(StandardTableOut))
    dimensions = fields.List(
        fields.Nested(DimensionOut), metadata={"description": "Every dimension a table may use."}
    )


class BudgetOut(Schema):
    quarter = fields.String(metadata={"example": "2026-Q4"})
    total = fields.Float()
    spent = fields.Float()
    left = fields.Float()


class PreviewOut(Schema):
    """What the ad-hoc table would cost and how accurate it would be; nothing is charged."""

    epsilon = fields.Float()
    error_95 = fields.Integer()
    budget = fields.Nested(BudgetOut)
    affordable = fields.Boolean()


class SectionOut(Schema):
    """A section of the monthly report: the month and the month before, as columns."""

    id = fields.String(metadata={"example": "people_by_area"})
    title = fields.String()
    table = fields.Nested(TableOut)


class ReportOut(Schema):
    month = fields.String(metadata={"example": "2026-11"})
    previous = fields.String(metadata={"example": "2026-10"})
    sections = fields.List(fields.Nested(SectionOut))
    flows = fields.Nested(TableOut)
    method = fields.List(fields.String(), metadata={"description": "The disclosure rules."})
