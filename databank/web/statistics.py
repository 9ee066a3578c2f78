"""Statistics pages (issue 18, point 5): the dashboard of the published tables with charts, the
table builder for ad-hoc tables (differential privacy, a budget per quarter), the exports, and
plotly.js served from the installed package (no CDN).

Thin: the statistics service decides who may read (a refusal is a 403 through the error
handler), protects every number and logs every query; this module parses the form, calls it and
lays out what it released."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from importlib import metadata, resources
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from databank.analytics import dp
from databank.analytics.tables import DIMENSIONS, MAX_DIMENSIONS
from databank.services import statistics
from databank.services.statistics import Period, Result, StatsInputError, exports
from databank.web import stats_view
from databank.web.auth import current_actor, login_required
from databank.web.i18n import select_locale
from databank.web.unit_of_work import db, log_refusal

bp = Blueprint("statistics", __name__)

# Found without importing plotly (its Python side is not needed to serve its JavaScript).
PLOTLY_JS = resources.files("plotly").joinpath("package_data", "plotly.min.js")
PLOTLY_VERSION = metadata.version("plotly")
YEAR = 365 * 24 * 3600
DEFAULT_EPSILON = dp.DEFAULT_EPSILON
MAX_EPSILON = statistics.MAX_EPSILON
# Dimensions a reader can filter on in the builder (the period has its own fields).
FILTERABLE = tuple(d for d in DIMENSIONS if d != "period")
# The service names the bad field in English; the pages say what to do, in the reader's language.
FIELD_HELP = {
    "granularity": _l("Choose month, quarter or year."),
    "start": _l("Enter a month as YYYY-MM, e.g. 2026-01."),
    "end": _l("Enter a month as YYYY-MM, not before the first month, at most 60 months after it."),
    "dimensions": _l("Choose 1 to 3 different characteristics from the lists."),
    "filters": _l("Tick categories from the lists only."),
}
EXTRA_TABLES = ("flows", "medians")  # the dashboard's tables beyond the standard set
MEDIANS_DIMENSION = "org_kind"


@bp.route(f"/statistics/vendor/plotly-{PLOTLY_VERSION}.min.js")
def plotly_js() -> Response:
    """plotly.js from the installed plotly package. The URL names the version, so it can be
    cached for a year: a new plotly is a new URL."""
    response = send_file(str(PLOTLY_JS), mimetype="text/javascript", max_age=YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def _help(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The errors of a request, each field's message in the reader's language."""
    return {
        field: [str(FIELD_HELP.get(field.split(".")[0], "")) or " ".join(messages)]
        for field, messages in errors.items()
    }


def _period_fields(source: Mapping[str, str]) -> dict[str, str]:
    return {name: source.get(name, "").strip() for name in ("granularity", "start", "end")}


def _period(fields: Mapping[str, str]) -> Period:
    return statistics.parse_period(
        fields["granularity"] or None, fields["start"] or None, fields["end"] or None
    )


def _period_args(period: Period) -> dict[str, str]:
    return {
        "granularity": period.granularity.value,
        "start": period.start.strftime("%Y-%m"),
        "end": period.end.strftime("%Y-%m"),
    }


@bp.route("/statistics")
@login_required
def dashboard() -> tuple[str, int] | str:
    """The published tables of a period (the last 12 complete months unless chosen)."""
    fields = _period_fields(request.args)
    locale = select_locale()
    try:
        period = _period(fields)
    except StatsInputError as error:
        # The form comes back with the field named; nothing is read.
        statistics.budget(db(), current_actor())  # the role is checked all the same
        return render_template(
            "statistics/dashboard.html", fields=fields, errors=_help(error.errors), tables=[]
        ), 422
    results = statistics.dashboard(db(), current_actor(), period)
    keys = [*(t.id for t in statistics.standard_tables()), *EXTRA_TABLES]
    views = [stats_view.table_view(r, locale, key) for r, key in zip(results, keys, strict=False)]
    return render_template(
        "statistics/dashboard.html",
        fields=fields | _period_args(period),
        errors={},
        tables=views,
        period=period,
        period_args=_period_args(period),
    )


@bp.route("/statistics/published/<table>.<any(csv, xlsx):fmt>")
@login_required
def export_published(table: str, fmt: str) -> Response:
    """A published table (or the flows, or the medians) of a period, as a file."""
    period = _period(_period_fields(request.args))
    session, actor = db(), current_actor()
    result: Result
    if table == "flows":
        result = statistics.flows(session, actor, period)
    elif table == "medians":
        result = statistics.waiting_medians(session, actor, MEDIANS_DIMENSION, period)
    else:
        result = statistics.published(session, actor, table, period)
    name = f"statistics-{table}-{_period_args(period)['start']}-{_period_args(period)['end']}"
    return _download(result, fmt, name)


@bp.route("/statistics/releases/<uuid:release_id>.<any(csv, xlsx):fmt>")
@login_required
def export_release(release_id: uuid.UUID, fmt: str) -> Response:
    """A stored ad-hoc release as a file: never run again (new noise would let a reader
    average it away, and spend the budget twice)."""
    result = statistics.released(db(), current_actor(), release_id)
    return _download(result, fmt, f"statistics-table-{release_id}")


def _download(result: Result, fmt: str, name: str) -> Response:
    made = exports.file(result, fmt, select_locale(), name)
    return Response(
        made.data,
        mimetype=made.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{made.name}"'},
    )


# --- the table builder ---------------------------------------------------------------------------


def _builder_fields(source: MultiDict[str, str]) -> dict[str, Any]:
    dimensions = [source.get(f"dimension{i}", "").strip() for i in range(1, MAX_DIMENSIONS + 1)]
    filters = {
        d: source.getlist(f"filter.{d}") for d in FILTERABLE if source.getlist(f"filter.{d}")
    }
    return {
        "dimensions": dimensions,
        "filters": filters,
        "epsilon": source.get("epsilon", "").strip() or str(DEFAULT_EPSILON),
        **_period_fields(source),
    }


class FormErrors(Exception):
    """The builder's bad fields, each named (the page shows them beside the fields)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("the table request has invalid fields")
        self.errors = dict(errors)


def _epsilon(raw: str) -> float | None:
    """The privacy cost, or None when it is not a number in (0, 2] (the service checks the
    range too; this names the field before anything is asked)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_EPSILON else None


def _request(fields: Mapping[str, Any]) -> tuple[statistics.TableRequest, float]:
    """The checked request and epsilon of the builder's form; every bad field named at once."""
    errors: dict[str, list[str]] = {}
    period = None
    try:
        period = _period(fields)
    except StatsInputError as error:
        errors |= _help(error.errors)
    epsilon = _epsilon(fields["epsilon"])
    if epsilon is None:
        errors["epsilon"] = [_("Enter a number above 0 and at most 2, e.g. 0.5.")]
    chosen = [d for d in fields["dimensions"] if d]
    request_ = None
    try:
        request_ = statistics.request_from(chosen, fields["filters"], period)
    except StatsInputError as error:
        errors |= _help(error.errors)
    if errors or request_ is None or epsilon is None:
        raise FormErrors(errors)
    return request_, epsilon


def _options(locale: str) -> dict[str, Any]:
    return {
        "dimensions": [(d, statistics.dimension_label(d, locale)) for d in DIMENSIONS],
        "filters": [
            (
                d,
                statistics.dimension_label(d, locale),
                [(c, statistics.label(d, c, locale)) for c in statistics.categories(d)],
            )
            for d in FILTERABLE
        ],
    }


def _render_builder(
    fields: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    status: int = 200,
    preview: statistics.Preview | None = None,
    refusal: str | None = None,
) -> tuple[str, int]:
    locale = select_locale()
    session, actor = db(), current_actor()
    budget = statistics.budget(session, actor)
    if preview is None and not errors:
        # The cost of the table as the form stands, before anything runs (nothing is charged).
        try:
            request_, epsilon = _request({**fields, "dimensions": fields["dimensions"] or ["area"]})
            preview = statistics.preview(session, actor, request_, epsilon)
        except FormErrors:
            preview = None
    return render_template(
        "statistics/tables.html",
        fields=fields,
        errors=errors,
        options=_options(locale),
        budget=budget,
        preview=preview,
        refusal=refusal,
        max_dimensions=MAX_DIMENSIONS,
    ), status


@bp.route("/statistics/tables", methods=["GET", "POST"])
@login_required
def tables() -> tuple[str, int] | Response:
    """GET: the form, with the budget left and the expected error of the table as it stands.
    POST "check": the cost of the chosen table (nothing charged). POST "run": the table, charged
    to the budget, stored; then its page (a reload never runs it again)."""
    if request.method == "GET":
        fields = _builder_fields(request.args)
        if not any(fields["dimensions"]):
            fields["dimensions"] = ["area", "", ""]
        return _render_builder(fields, {})
    fields = _builder_fields(request.form)
    try:
        request_, epsilon = _request(fields)
    except FormErrors as error:
        return _render_builder(fields, error.errors, 422)
    session, actor = db(), current_actor()
    if request.form.get("action") != "run":
        return _render_builder(
            fields, {}, preview=statistics.preview(session, actor, request_, epsilon)
        )
    try:
        result = statistics.adhoc(session, actor, request_, epsilon)
    except statistics.BudgetSpent as spent:
        log_refusal(spent)  # the refused query is logged too, after the rollback
        left = statistics.budget(db(), current_actor())
        refusal = _(
            "This table costs %(epsilon)s but your privacy budget for %(quarter)s has %(left)s "
            "left of %(total)s. It renews at the start of the next quarter.",
            epsilon=f"{epsilon:g}",
            quarter=left.quarter,
            left=f"{left.left:g}",
            total=f"{left.total:g}",
        )
        return _render_builder(fields, {}, 409, refusal=refusal)
    assert result.release_id is not None  # noqa: S101 - an ad-hoc table is always stored
    return redirect(url_for("statistics.release", release_id=result.release_id), code=303)


@bp.route("/statistics/releases/<uuid:release_id>")
@login_required
def release(release_id: uuid.UUID) -> str:
    """A released ad-hoc table (its own user only), with the budget left after it."""
    session, actor = db(), current_actor()
    result = statistics.released(session, actor, release_id)
    view = stats_view.table_view(result, select_locale())
    return render_template(
        "statistics/release.html",
        table=view,
        result=result,
        budget=statistics.budget(session, actor),
        again=_again_args(result),
    )


def _again_args(result: Result) -> dict[str, Any]:
    """The builder's query string for the same table (to change it and run it again)."""
    args: dict[str, Any] = {
        f"dimension{i}": d for i, d in enumerate(result.request.dimensions, start=1)
    }
    args |= {f"filter.{d}": sorted(codes) for d, codes in result.request.filters.items()}
    args |= _period_args(result.period)
    if result.epsilon is not None:
        args["epsilon"] = f"{result.epsilon:g}"
    return args


def plotly_url() -> str:
    return url_for("statistics.plotly_js")


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"plotly_url": plotly_url}
