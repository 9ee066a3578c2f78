"""Published tables, ad-hoc tables, flows, waiting-time medians and the monthly report.

Each function: the role gate first (roles.STATISTICS_READERS), then the facts of the
organisations whose policy lets them be counted (Cedar action `contribute`, decided at each
query, so a policy change takes effect at once), then the release through `analytics` and one
log entry per table (what was asked, never what was counted). Ad-hoc tables always take the
differentially private path and are charged to the user's budget.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.analytics import dp, tables
from databank.analytics import facts as pure
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Purpose
from databank.domain.errors import NotFound, ValidationFailed
from databank.models import Organisation, StatRelease
from databank.policy import CaseFacts, Situation, statistics_principal
from databank.services import access, auditlog
from databank.services.access import roles
from databank.services.actors import Actor
from databank.services.context import policy_of
from databank.services.statistics import ledger, releases, snapshot
from databank.services.statistics.labels import categories, period_code
from databank.services.statistics.views import (
    Budget,
    Granularity,
    Kind,
    Period,
    Preview,
    Result,
    StandardTable,
    TableRequest,
)

MAX_EPSILON = 2.0
MAX_MONTHS = 60
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

STANDARD: tuple[StandardTable, ...] = (
    StandardTable("trend_by_month", TableRequest(("period",)), "line"),
    StandardTable("people_by_area", TableRequest(("area",)), "bar"),
    StandardTable("needs", TableRequest(("need",)), "bar"),
    StandardTable("living_by_month", TableRequest(("period", "living")), "stacked"),
    # People with an outcome in the month ("none" is everyone else: it would dominate each row).
    StandardTable(
        "outcomes_by_month",
        TableRequest(("period", "outcome"), {"outcome": frozenset(pure.OUTCOMES) - {pure.NONE}}),
        "stacked",
    ),
    StandardTable("age_and_sex", TableRequest(("age_band", "sex")), "bar"),
    StandardTable(
        "waiting_times",
        TableRequest(("wait_band",), {"wait_band": frozenset(pure.WAIT_BANDS) - {pure.NONE}}),
        "bar",
    ),
)
_BY_ID = {t.id: t for t in STANDARD}
REPORT_DIMENSIONS = ("area", "age_band", "need", "living", "outcome")


class StatsInputError(ValidationFailed):
    """A statistics request that cannot be asked: the field and the problem are named."""

    code = "invalid_statistics_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", {field: [problem]})


def require_statistics_reader(actor: Actor) -> None:
    access.require_any_role(actor, roles.STATISTICS_READERS, AuditEvent.STATS_TABLE)


def standard_tables() -> tuple[StandardTable, ...]:
    return STANDARD


# -- requests ------------------------------------------------------------------------------


def parse_month(value: str, field: str = "month") -> date:
    """A month written YYYY-MM (a form's, a path's, a query's), or the error naming `field`."""
    if not _MONTH.match(value):
        raise StatsInputError(field, "must be a month written YYYY-MM, such as 2026-11")
    return date(int(value[:4]), int(value[5:7]), 1)


def last_months(count: int = 12, today: date | None = None) -> Period:
    """The `count` complete months before this one."""
    this = pure.month_of(today or datetime.now(UTC).date())
    end = _shift(this, -1)
    return Period(_shift(end, -(count - 1)), end, Granularity.MONTH)


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def parse_period(granularity: str | None, start: str | None, end: str | None) -> Period:
    """A period from form or query strings; empty: the last 12 complete months, by month."""
    try:
        grain = Granularity(granularity or Granularity.MONTH.value)
    except ValueError:
        raise StatsInputError("granularity", "must be month, quarter or year") from None
    default = last_months()
    first = parse_month(start, "start") if start else default.start
    last = parse_month(end, "end") if end else max(default.end, first)
    if last < first:
        raise StatsInputError("end", "must not be before start")
    if len(pure.months_between(first, last)) > MAX_MONTHS:
        raise StatsInputError("end", f"a table covers at most {MAX_MONTHS} months")
    return Period(first, last, grain)


def request_from(
    dimensions: Sequence[str], filters: Mapping[str, Sequence[str]], period: Period | None
) -> TableRequest:
    """A checked request: 1 to 3 distinct known dimensions, filters on known codes."""
    dims = tuple(d for d in dimensions if d)
    if not 1 <= len(dims) <= tables.MAX_DIMENSIONS:
        raise StatsInputError("dimensions", f"choose 1 to {tables.MAX_DIMENSIONS} dimensions")
    if len(set(dims)) != len(dims):
        raise StatsInputError("dimensions", "a dimension is chosen twice")
    for d in dims:
        if d not in tables.DIMENSIONS:
            raise StatsInputError("dimensions", f"unknown dimension {d!r}")
    checked: dict[str, frozenset[str]] = {}
    for d, codes in filters.items():
        if d not in tables.DIMENSIONS:
            raise StatsInputError("filters", f"unknown dimension {d!r}")
        wanted = frozenset(c for c in codes if c)
        if not wanted:
            continue
        known = set(categories(d, period or last_months()))
        unknown = sorted(wanted - known)
        if unknown:
            raise StatsInputError(f"filters.{d}", f"unknown category {unknown[0]!r}")
        checked[d] = wanted
    return TableRequest(dims, checked, period)


# -- the facts a table counts --------------------------------------------------------------


def contributing_orgs(session: Session) -> list[str]:
    """The organisations whose policy lets their cases be counted (decided now)."""
    engine = policy_of(session)
    asker = statistics_principal()
    situation = Situation(Purpose.AGGREGATE_STATISTICS.value)
    found = []
    for org_id, slug, kind in session.execute(
        select(Organisation.id, Organisation.slug, Organisation.kind)
    ):
        decision = engine.decide(
            asker, "contribute", CaseFacts(slug, kind.value), situation, "status"
        )
        if decision.allowed:
            found.append(str(org_id))
    return found


def _frame(session: Session, request: TableRequest, period: Period) -> pd.DataFrame:
    """The facts of the contributing organisations in the period, with the columns the table
    needs (`period` made from the month at the period's grain)."""
    frame = snapshot.facts(session).frame
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    mask = frame["month"].between(first, last) & frame["org_id"].isin(contributing_orgs(session))
    wanted = [d for d in dict.fromkeys((*request.dimensions, *request.filters)) if d != "period"]
    kept = frame.loc[mask, ["person", "month", *wanted]]
    if "period" in request.dimensions or "period" in request.filters:
        kept = kept.assign(period=_periods(kept["month"], period))
    return kept


def _periods(months: pd.Series, period: Period) -> pd.Categorical:
    codes = categories("period", period)
    month_list = pure.months_between(period.start, period.end)
    lookup = np.array([codes.index(period_code(m, period.granularity)) for m in month_list])
    # Each fact's month among the period's, by a binary search over their first days (the .dt
    # accessors, or numpy's conversion to months, cost several times more a million rows).
    starts = np.array([np.datetime64(m, "ns") for m in month_list])
    offset = np.searchsorted(starts, months.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    return pd.Categorical.from_codes(lookup[offset], categories=list(codes))


def _categories(request: TableRequest, period: Period) -> dict[str, tuple[str, ...]]:
    return {d: categories(d, period) for d in (*request.dimensions, *request.filters)}


def _query(request: TableRequest) -> tables.TableQuery:
    return tables.TableQuery(request.dimensions, dict(request.filters))


# -- the log -------------------------------------------------------------------------------


def _entry(
    event: AuditEvent,
    template: str,
    request: TableRequest,
    period: Period,
    epsilon: float | None = None,
    decision: Decision = Decision.ALLOW,
    rule: str | None = None,
    record_id: uuid.UUID | None = None,
) -> auditlog.EntryIn:
    extra: dict[str, object] = {
        "template": template,
        "dimensions": list(request.dimensions),
        "filters": {d: sorted(v) for d, v in sorted(request.filters.items())},
        "period": f"{period.start:%Y-%m}..{period.end:%Y-%m}",
        "granularity": period.granularity.value,
    }
    if epsilon is not None:
        extra["epsilon"] = epsilon
    record_type = RecordType.STAT_RELEASE if record_id else RecordType.STATISTICS
    return auditlog.EntryIn(
        event,
        record_type,
        record_id,
        None,
        None,
        Purpose.AGGREGATE_STATISTICS.value,
        decision,
        rule=rule,
        extra=extra,
    )


def _log(session: Session, actor: Actor, entries: list[auditlog.EntryIn]) -> None:
    auditlog.append(session, actor, entries)


# -- tables --------------------------------------------------------------------------------


def _published(session: Session, template: str, request: TableRequest, period: Period) -> Result:
    query, cats = _query(request), _categories(request, period)
    counts = tables.count(_frame(session, request, period), query, cats)
    return Result(Kind.PUBLISHED, template, request, period, tables.release_published(counts))


def published(
    session: Session, actor: Actor, table_id: str, period: Period | None = None
) -> Result:
    """A standard table: the deterministic rules only, the same for everyone."""
    require_statistics_reader(actor)
    standard = _BY_ID.get(table_id)
    if standard is None:
        raise NotFound("no such standard table")
    period = period or last_months()
    result = _published(session, table_id, standard.request, period)
    _log(session, actor, [_entry(AuditEvent.STATS_TABLE, table_id, standard.request, period)])
    return result


def _check_epsilon(epsilon: float) -> float:
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        raise StatsInputError("epsilon", "must be a number") from None
    if not 0 < value <= MAX_EPSILON or value != value:
        raise StatsInputError("epsilon", f"must be more than 0 and at most {MAX_EPSILON:g}")
    return round(value, 4)


def budget(session: Session, actor: Actor) -> Budget:
    require_statistics_reader(actor)
    return ledger.budget_of(session, actor)


def preview(
    session: Session, actor: Actor, request: TableRequest, epsilon: float = dp.DEFAULT_EPSILON
) -> Preview:
    """The cost and the expected error of an ad-hoc table, before it runs (nothing counted)."""
    require_statistics_reader(actor)
    epsilon = _check_epsilon(epsilon)
    noise = dp.plan(epsilon, tables.sensitivity())
    left = ledger.budget_of(session, actor)
    return Preview(epsilon, noise.error_95, left, left.left + 1e-9 >= epsilon)


def adhoc(
    session: Session, actor: Actor, request: TableRequest, epsilon: float = dp.DEFAULT_EPSILON
) -> Result:
    """An ad-hoc table: each person in at most `CONTRIBUTION_CAP` cells, discrete Laplace noise
    within `epsilon` charged to the user's budget, then the presentation rules; stored."""
    require_statistics_reader(actor)
    epsilon = _check_epsilon(epsilon)
    period = request.period or last_months()
    release_id = uuid.uuid4()
    refused = _entry(
        AuditEvent.STATS_ADHOC, "adhoc", request, period, epsilon, Decision.DENY,
        "statistics.budget_spent",
    )  # fmt: skip
    spend = ledger.charge(session, actor, epsilon, release_id, refused)
    query, cats = _query(request), _categories(request, period)
    released = tables.release_adhoc(_frame(session, request, period), query, cats, epsilon)
    result = Result(
        Kind.ADHOC,
        "adhoc",
        request,
        period,
        released,
        epsilon=epsilon,
        error_95=dp.plan(epsilon, tables.sensitivity()).error_95,
        release_id=release_id,
    )
    assert actor.user_id is not None  # noqa: S101 - charge refused an actor without a user
    releases.store(session, actor.user_id, result)
    session.add(spend)
    _log(
        session,
        actor,
        [_entry(AuditEvent.STATS_ADHOC, "adhoc", request, period, epsilon, record_id=release_id)],
    )
    return result


def released(session: Session, actor: Actor, release_id: uuid.UUID) -> Result:
    """A stored ad-hoc table, for the user who asked it only (charges nothing)."""
    require_statistics_reader(actor)
    row = session.get(StatRelease, release_id)
    if row is None or row.user_id != actor.user_id:
        raise NotFound("no such table")
    result = releases.result_of(row)
    _log(
        session,
        actor,
        [
            _entry(
                AuditEvent.STATS_EXPORT, "adhoc", result.request, result.period, result.epsilon,
                record_id=release_id,
            )
        ],
    )  # fmt: skip
    return result
