"""Flows, waiting-time medians, the dashboard and the monthly city report: tables over the same
facts with the same protection (the deterministic rules; medians only over 10 people)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from databank.analytics import disclosure, tables
from databank.analytics import facts as pure
from databank.domain.audit_vocab import AuditEvent
from databank.domain.errors import NotFound
from databank.services.actors import Actor
from databank.services.statistics import snapshot
from databank.services.statistics.labels import categories
from databank.services.statistics.queries import (
    STANDARD,
    StatsInputError,
    _entry,
    _frame,
    _log,
    _periods,
    _published,
    _shift,
    contributing_orgs,
    last_months,
    published,
    require_statistics_reader,
)
from databank.services.statistics.views import (
    Granularity,
    Kind,
    Period,
    Report,
    Result,
    TableRequest,
)

FLOW_ROWS = ("entering", "leaving")
PEOPLE = "people"


def _flow_counts(session: Session, period: Period) -> tables.Counts:
    """Two rows, a column per period: people first seen in the pool then (entering), and people
    whose last month it is, closed to a home (leaving). Each person's first and last months are
    taken over all their facts, before the period is applied: a person seen before it is not
    new."""
    frame = snapshot.facts(session).frame
    frame = frame[frame["org_id"].isin(contributing_orgs(session))]
    columns = categories("period", period)
    cells: dict[tuple[object, object], int] = {(r, c): 0 for r in FLOW_ROWS for c in columns}
    empty = tables.Counts(FLOW_ROWS, columns, cells, dict.fromkeys(FLOW_ROWS, 0),
                          dict.fromkeys(columns, 0), 0)  # fmt: skip
    if frame.empty:
        return empty
    by_person = frame.groupby("person", observed=True)["month"]
    first, last = by_person.min(), by_person.max()
    housed = frame.loc[frame["outcome"] == "closed_housed", ["person", "month"]]
    current = pd.Timestamp(pure.month_of(date.today()))
    housed_last = housed.merge(last.rename("last").reset_index(), on="person")
    leaving = housed_last.loc[
        (housed_last["month"] == housed_last["last"]) & (housed_last["last"] <= current),
        ["person", "last"],
    ].drop_duplicates("person")
    events = pd.concat(
        [
            pd.DataFrame({"person": first.index, "month": first.values, "flow": "entering"}),
            pd.DataFrame(
                {"person": leaving["person"], "month": leaving["last"], "flow": "leaving"}
            ),
        ],
        ignore_index=True,
    )
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    events = events[events["month"].between(start, end)]
    if events.empty:
        return empty
    events = events.assign(period=_periods(events["month"], period))
    return tables.count(
        events[["person", "flow", "period"]].rename(columns={"flow": "outcome"}),
        tables.TableQuery(("outcome", "period")),
        {"period": columns, "outcome": FLOW_ROWS},
    )


def flows(session: Session, actor: Actor, period: Period | None = None) -> Result:
    """People entering and leaving homelessness, per period (the deterministic rules)."""
    require_statistics_reader(actor)
    period = period or last_months()
    request = TableRequest(("flow", "period"), {}, period)
    result = Result(Kind.FLOWS, "flows", request, period,
                    tables.release_published(_flow_counts(session, period)))  # fmt: skip
    _log(session, actor, [_entry(AuditEvent.STATS_TABLE, "flows", request, period)])
    return result


def waiting_medians(
    session: Session, actor: Actor, dimension: str = "org_kind", period: Period | None = None
) -> Result:
    """The median days from a referral's sending to its answer, per category of `dimension`
    (None where fewer than 10 people had an answer), and the people counted per row."""
    require_statistics_reader(actor)
    if dimension not in tables.DIMENSIONS or dimension in ("wait_band", "period"):
        raise StatsInputError("dimension", f"unknown dimension {dimension!r} for medians")
    period = period or last_months()
    request = TableRequest((dimension,), {}, period)
    frame = _frame(session, request, period)
    answered = frame.join(snapshot.facts(session).frame["wait_days"], how="inner")
    answered = answered[answered["wait_days"].notna()]
    rows = categories(dimension, period)
    # One value per person, month and wait: a fact row repeats it once per need.
    distinct = answered.drop_duplicates(["person", "month", dimension, "wait_days"])
    medians: dict[object, float | None] = {}
    cells: dict[tuple[object, object], int] = {}
    for code in rows:
        part = distinct[distinct[dimension] == code]
        people = int(part["person"].nunique())
        cells[(code, PEOPLE)] = people
        value = disclosure.median(part["wait_days"].tolist())
        medians[code] = value if people >= disclosure.MEDIAN_MIN_PEOPLE else None
    counts = tables.Counts(
        rows, (PEOPLE,), cells, {r: cells[(r, PEOPLE)] for r in rows},
        {PEOPLE: int(distinct["person"].nunique())}, int(distinct["person"].nunique()),
    )  # fmt: skip
    result = Result(Kind.MEDIANS, "medians", request, period,
                    tables.release_published(counts), medians=medians)  # fmt: skip
    _log(session, actor, [_entry(AuditEvent.STATS_TABLE, "medians", request, period)])
    return result


def dashboard(session: Session, actor: Actor, period: Period | None = None) -> list[Result]:
    """Every standard table, then the flows and the waiting-time medians by kind of org."""
    require_statistics_reader(actor)
    period = period or last_months()
    found = [published(session, actor, t.id, period) for t in STANDARD]
    found.append(flows(session, actor, period))
    found.append(waiting_medians(session, actor, "org_kind", period))
    return found


def monthly_report(session: Session, actor: Actor, month: date) -> Report:
    """The month and the month before, by area, age band, need, living situation and outcome
    (the deterministic rules: the report is published), with the flows of the two months."""
    require_statistics_reader(actor)
    month = pure.month_of(month)
    if month > pure.month_of(date.today()):
        raise NotFound("no report for a month to come")
    previous = _shift(month, -1)
    period = Period(previous, month, Granularity.MONTH)
    sections = []
    for dimension in ("area", "age_band", "need", "living", "outcome"):
        request = TableRequest((dimension, "period"), {}, period)
        sections.append(_published(session, f"report_{dimension}", request, period))
    entries = [_entry(AuditEvent.STATS_TABLE, r.title_key, r.request, period) for r in sections]
    _log(session, actor, entries)
    return Report(month, previous, tuple(sections), flows(session, actor, period))
