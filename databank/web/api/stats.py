"""API operations on anonymised statistics (issue 18): the published tables, ad-hoc tables on
the caller's privacy budget, flows, waiting-time medians and the monthly city report.

Thin: parse, call `services.statistics` (which decides who may read, releases only protected
numbers and logs each query), and present. A token acts as its user: the user's roles decide,
as on the pages. Downloads (CSV, XLSX, the report's PDF) are made from the released table only;
an ad-hoc table is downloaded from its stored release, never run again (new noise each run would
let a caller average it away).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response

from databank.analytics.tables import DIMENSIONS
from databank.domain.errors import ValidationFailed
from databank.schemas.stats import (
    MONTH,
    BudgetOut,
    MediansQueryIn,
    PeriodIn,
    PreviewOut,
    ReleaseQueryIn,
    ReportOut,
    ReportQueryIn,
    StandardTableListOut,
    TableIn,
    TableOut,
    TableQueryIn,
)
from databank.services import statistics
from databank.services.statistics import (
    Budget,
    Period,
    Preview,
    Result,
    TableRequest,
    exports,
    report_pdf,
)
from databank.web.api import stats_doc
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db

SCOPE = "stats:read"
TAG = "statistics"
TABLE_ID = r"^[a-z][a-z0-9_]{0,39}$"
READ_ERRORS = (401, 403, 404, 422)
BODY_ERRORS = (400, 401, 403, 409, 413, 415, 422)
DOWNLOADS = (exports.CSV_TYPE, exports.XLSX_TYPE)


def _period(q: dict[str, Any], prefix: str = "") -> Period:
    """The period asked for; the service's refusal names the field as the caller wrote it."""
    try:
        return statistics.parse_period(q.get("granularity"), q.get("start"), q.get("end"))
    except statistics.StatsInputError as error:
        if not prefix:
            raise
        named = {f"{prefix}.{field}": texts for field, texts in error.errors.items()}
        raise ValidationFailed(error.message, named) from None


def _request(data: dict[str, Any]) -> tuple[TableRequest, float]:
    period = _period(data["period"], "period")
    request = statistics.request_from(data["dimensions"], data["filters"], period)
    return request, data["epsilon"]


def _download(result: Result, fmt: str, name: str) -> Response | dict[str, Any]:
    """The table as JSON, or as the CSV or XLSX file the pages offer."""
    if fmt == "json":
        return stats_doc.table(result)
    made = exports.file(result, fmt, stats_doc.locale(), name)
    return Response(
        made.data,
        mimetype=made.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{made.name}"'},
    )


@operation(
    "/stats/tables",
    summary="The standard tables",
    tag=TAG,
    scope=SCOPE,
    response=StandardTableListOut,
    errors=(401, 403),
)
def stats_tables() -> dict[str, Any]:
    """The fixed, pre-approved tables published to every reader (their ids, dimensions and the
    chart the dashboard draws), and every dimension an ad-hoc table may use."""
    statistics.require_statistics_reader(caller().actor)
    lang = stats_doc.locale()
    return {
        "tables": [stats_doc.standard(t, lang) for t in statistics.standard_tables()],
        "dimensions": [stats_doc.dimension(d, lang) for d in DIMENSIONS],
    }


@operation(
    "/stats/tables/<string:table>",
    summary="A published table",
    tag=TAG,
    scope=SCOPE,
    query=TableQueryIn,
    response=TableOut,
    errors=READ_ERRORS,
    media=DOWNLOADS,
    words={"table": TABLE_ID},
)
def stats_table(q: dict[str, Any], table: str) -> Response | dict[str, Any]:
    """A standard table over a period (default: the last 12 complete months, by month), with
    the deterministic rules only: the same numbers for every reader. `format=csv` or `xlsx`
    downloads it."""
    result = statistics.published(db(), caller().actor, table, _period(q))
    return _download(result, q["format"], table)


@operation(
    "/stats/budget",
    summary="The caller's privacy budget",
    tag=TAG,
    scope=SCOPE,
    response=BudgetOut,
    errors=(401, 403),
)
def stats_budget() -> Budget:
    """The caller's differential-privacy budget for the current quarter: total, spent, left."""
    return statistics.budget(db(), caller().actor)


@operation(
    "/stats/preview",
    "POST",
    summary="What an ad-hoc table would cost",
    tag=TAG,
    scope=SCOPE,
    body=TableIn,
    response=PreviewOut,
    errors=BODY_ERRORS,
)
def stats_preview(data: dict[str, Any]) -> Preview:
    """The expected error (each count within it of the truth, 95 % of the time) and the budget
    left, before the table runs. Nothing is counted and nothing is charged."""
    request, epsilon = _request(data)
    return statistics.preview(db(), caller().actor, request, epsilon)


@operation(
    "/stats/adhoc",
    "POST",
    summary="Run an ad-hoc table",
    tag=TAG,
    scope=SCOPE,
    status=201,
    body=TableIn,
    response=TableOut,
    errors=BODY_ERRORS,
)
def stats_adhoc(data: dict[str, Any]) -> dict[str, Any]:
    """Count an ad-hoc table with differential privacy, then the disclosure rules; its epsilon
    is charged to the caller's budget for the quarter (409 when the budget is spent). The
    release is stored: download it from `/stats/releases/{release_id}`."""
    request, epsilon = _request(data)
    return stats_doc.table(statistics.adhoc(db(), caller().actor, request, epsilon))


@operation(
    "/stats/releases/<uuid:release_id>",
    summary="A stored ad-hoc release",
    tag=TAG,
    scope=SCOPE,
    query=ReleaseQueryIn,
    response=TableOut,
    errors=READ_ERRORS,
    media=DOWNLOADS,
)
def stats_release(q: dict[str, Any], release_id: uuid.UUID) -> Response | dict[str, Any]:
    """An ad-hoc table the caller ran, as it was released (nothing charged, nothing run
    again); anyone else's release is not found. `format=csv` or `xlsx` downloads it."""
    result = statistics.released(db(), caller().actor, release_id)
    return _download(result, q["format"], f"adhoc-{release_id}")


@operation(
    "/stats/flows",
    summary="People entering and leaving homelessness",
    tag=TAG,
    scope=SCOPE,
    query=PeriodIn,
    response=TableOut,
    errors=READ_ERRORS,
)
def stats_flows(q: dict[str, Any]) -> dict[str, Any]:
    """Per period: people entering homelessness (first seen in the pool) and leaving it (a
    case closed to a home, nothing open after), with the same disclosure rules."""
    return stats_doc.table(statistics.flows(db(), caller().actor, _period(q)))


@operation(
    "/stats/medians",
    summary="Median referral waiting times",
    tag=TAG,
    scope=SCOPE,
    query=MediansQueryIn,
    response=TableOut,
    errors=READ_ERRORS,
)
def stats_medians(q: dict[str, Any]) -> dict[str, Any]:
    """Median days from a referral to its answer, per category of `dimension`; null where
    fewer than 10 people (the table gives the people counted per row, released)."""
    found = statistics.waiting_medians(db(), caller().actor, q["dimension"], _period(q))
    return stats_doc.table(found)


@operation(
    "/stats/reports/<string:month>",
    summary="The monthly city report",
    tag=TAG,
    scope=SCOPE,
    query=ReportQueryIn,
    response=ReportOut,
    errors=READ_ERRORS,
    media=("application/pdf",),
    words={"month": MONTH},
)
def stats_report(q: dict[str, Any], month: str) -> Response | dict[str, Any]:
    """The month's totals by area, age band, need, living situation and outcome beside the
    month before, and the flows, as published tables (the same for every reader); `format=pdf`
    gives the printable report."""
    report = statistics.monthly_report(db(), caller().actor, statistics.parse_month(month))
    lang = q.get("locale") or stats_doc.locale()
    if q["format"] == "pdf":
        return Response(
            report_pdf.pdf_bytes(report, lang),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="city-report-{month}.pdf"'},
        )
    said = report_pdf.words(lang)
    return {
        "month": stats_doc.month(report.month),
        "previous": stats_doc.month(report.previous),
        "sections": [
            {
                "id": s.title_key,
                "title": said.get(s.title_key, s.title_key),
                "table": stats_doc.table(s, lang),
            }
            for s in report.sections
        ],
        "flows": stats_doc.table(report.flows, lang),
        "method": list(report_pdf.METHOD["fr" if lang == "fr" else "en"]),
    }
