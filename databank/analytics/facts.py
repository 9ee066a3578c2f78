"""The coarse facts of one organisation's record of a person, month by month (issue 18, point 1).

Pure: the statistics service reads the rows (case, needs, dated changes, encounters' districts,
referrals) and the two coarse identity attributes it may use (sex, age from the birth date), and
this module turns them into fact rows. A fact is one month of the record with:

    month, area, age_band, sex, need, need_status, living, hud_living, outcome, wait_band,
    wait_days

A month with several needs, outcomes or answered referrals gives one row per combination: the
tables count distinct people per cell, so a person holding two needs is one person in each need's
cell and one person in their row's total. A month is a month of the record if a case of it was
open at any time in that month (opened on or before its end, not closed before its start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from databank.domain.enums import CaseEventKind, NeedStatus, ReferralStatus
from databank.domain.vocab import ETHOS_GROUP, CloseReason, EthosCategory, hud_codes_for

AGE_BANDS = ("under_18", "18_24", "25_34", "35_44", "45_54", "55_64", "65_plus", "unknown")
_AGE_LIMITS = ((18, "under_18"), (25, "18_24"), (35, "25_34"), (45, "35_44"), (55, "45_54"),
               (65, "55_64"))  # fmt: skip
HUD_GROUPS = ("homeless", "institutional", "temporary", "permanent", "unknown")
NEED_STATUSES = ("open", "in_progress", "met", "not_met", "withdrawn", "none")
OUTCOMES = (
    "none",
    "need_met",
    "referral_accepted",
    "referral_declined",
    "closed_housed",
    "closed_sheltered",
    "closed_other",
)
WAIT_BANDS = ("none", "days_0_2", "days_3_7", "days_8_30", "days_31_plus")
NONE = "none"
OTHER_AREA = "other"

_STATUS_CODE = {
    NeedStatus.IDENTIFIED: "open",
    NeedStatus.IN_PROGRESS: "in_progress",
    NeedStatus.MET: "met",
    NeedStatus.NOT_MET: "not_met",
    NeedStatus.WITHDRAWN: "withdrawn",
}
_CLOSED = {
    CloseReason.HOUSED.value: "closed_housed",
    CloseReason.SHELTERED.value: "closed_sheltered",
}
_ANSWERED = {
    ReferralStatus.ACCEPTED: "referral_accepted",
    ReferralStatus.COMPLETED: "referral_accepted",
    ReferralStatus.DECLINED: "referral_declined",
}


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def age_band(birth_date: date | None, on: date) -> str:
    if birth_date is None or birth_date > on:
        return "unknown"
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for limit, band in _AGE_LIMITS:
        if age < limit:
            return band
    return "65_plus"


def wait_band(days: int) -> str:
    if days <= 2:
        return "days_0_2"
    if days <= 7:
        return "days_3_7"
    if days <= 30:
        return "days_8_30"
    return "days_31_plus"


def hud_group(ethos: str, hud_code: int | None) -> str:
    """The HUD living-situation group: 1xx homeless, 2xx institutional, 3xx temporary, 4xx
    permanent; from the HUD code recorded, else the nearest code of the ETHOS category."""
    code = hud_code
    if code is None:
        try:
            codes = hud_codes_for(EthosCategory(ethos))
        except ValueError:
            codes = frozenset()
        code = min(codes) if codes else None
    if code is None:
        return "unknown"
    return {1: "homeless", 2: "institutional", 3: "temporary", 4: "permanent"}.get(
        code // 100, "unknown"
    )


def living_group(ethos: str) -> str:
    try:
        return ETHOS_GROUP[EthosCategory(ethos)].value
    except (KeyError, ValueError):
        return "unknown"


@dataclass(frozen=True)
class Change:
    """A dated coarse change of a case (a `case_events` row)."""

    kind: CaseEventKind
    at: datetime
    need_id: object | None = None
    from_code: str | None = None
    to_code: str | None = None
    detail_code: str | None = None


@dataclass(frozen=True)
class NeedRow:
    id: object
    category: str
    status: str  # NeedStatus value, now
    identified_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class ReferralRow:
    status: str
    created_at: datetime
    responded_at: datetime | None


@dataclass(frozen=True)
class CaseRow:
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    living_situation: str  # ETHOS, now
    hud_living_situation: int | None
    area_geohash: str | None
    needs: Sequence[NeedRow] = ()
    changes: Sequence[Change] = ()
    encounter_areas: Sequence[tuple[datetime, str | None]] = ()  # (when, district geohash)
    referrals: Sequence[ReferralRow] = ()


@dataclass(frozen=True)
class Fact:
    month: date
    area: str
    age_band: str
    sex: str
    need: str
    need_status: str
    living: str
    hud_living: str
    outcome: str
    wait_band: str
    wait_days: int | None


@dataclass
class _Month:
    area: str
    living: str
    hud: int | None
    needs: list[tuple[str, str]] = field(default_factory=list)
    outcomes: set[str] = field(default_factory=set)
    waits: list[int] = field(default_factory=list)


def _as_of(initial: str, changes: Iterable[tuple[datetime, str]], end: datetime) -> str:
    """The value at `end`: the last change made before it, else the value before any change."""
    value = initial
    for at, code in changes:
        if at < end:
            value = code
    return value


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def case_facts(
    case: CaseRow,
    *,
    birth_date: date | None,
    sex: str | None,
    area_of: Callable[[str | None], str],
    today: date,
) -> list[Fact]:
    """The facts of one case, each month from its opening to its closing (or this month)."""
    last = month_of(case.closed_at) if case.closed_at is not None else month_of(today)
    living_changes = sorted(
        (c for c in case.changes if c.kind is CaseEventKind.LIVING_SITUATION),
        key=lambda c: c.at,
    )
    first_living = living_changes[0].from_code if living_changes else None
    initial_living = first_living or case.living_situation
    living_steps = [(c.at, c.to_code or initial_living) for c in living_changes]
    hud_steps = [(c.at, c.detail_code or "") for c in living_changes]
    status_changes: dict[object, list[tuple[datetime, str]]] = {}
    met_at: dict[object, list[datetime]] = {}
    for c in sorted(case.changes, key=lambda c: c.at):
        if c.kind is CaseEventKind.NEED_STATUS and c.need_id is not None and c.to_code:
            status_changes.setdefault(c.need_id, []).append((c.at, c.to_code))
            if c.to_code == NeedStatus.MET:
                met_at.setdefault(c.need_id, []).append(c.at)
    encounters = sorted(
        ((at, cell) for at, cell in case.encounter_areas if cell), key=lambda pair: pair[0]
    )
    facts: list[Fact] = []
    for month in months_between(case.opened_at.date(), last):
        start, end = _start(month), _start(next_month(month))
        living = _as_of(initial_living, living_steps, end)
        hud_text = _as_of(
            str(case.hud_living_situation or "") if not hud_steps else "", hud_steps, end
        )
        hud_code = int(hud_text) if hud_text.isdigit() else None
        cell = _as_of(case.area_geohash or "", [(at, c or "") for at, c in encounters], end)
        state = _Month(area_of(cell or None), living, hud_code)
        for need in case.needs:
            if need.identified_at >= end:
                continue
            if need.resolved_at is not None and need.resolved_at < start:
                continue
            # Its status at the month's end: open until its first recorded change, else (no
            # change recorded, as before the lifecycle) the status it has now.
            steps = status_changes.get(need.id, [])
            initial = NeedStatus.IDENTIFIED.value if steps else need.status
            status = _as_of(initial, steps, end)
            state.needs.append((need.category, _STATUS_CODE.get(NeedStatus(status), "open")))
            met_times = met_at.get(need.id) or (
                [need.resolved_at]
                if need.status == NeedStatus.MET and need.resolved_at and not steps
                else []
            )
            if any(start <= at < end for at in met_times):
                state.outcomes.add("need_met")
        for referral in case.referrals:
            answered = referral.responded_at
            outcome = _ANSWERED.get(ReferralStatus(referral.status))
            if answered is not None and outcome and start <= answered < end:
                state.outcomes.add(outcome)
                state.waits.append(max(0, (answered - referral.created_at).days))
        if case.closed_at is not None and start <= case.closed_at < end:
            state.outcomes.add(_CLOSED.get(case.close_reason or "", "closed_other"))
        facts.extend(_rows(month, state, birth_date, sex))
    return facts


def _rows(month: date, state: _Month, birth_date: date | None, sex: str | None) -> list[Fact]:
    band = age_band(birth_date, month)
    needs = state.needs or [(NONE, NONE)]
    outcomes = sorted(state.outcomes) or [NONE]
    waits: list[tuple[str, int | None]] = [(wait_band(d), d) for d in state.waits] or [(NONE, None)]
    living, hud = living_group(state.living), hud_group(state.living, state.hud)
    return [
        Fact(
            month,
            state.area,
            band,
            sex or "unknown",
            need,
            status,
            living,
            hud,
            outcome,
            w_band,
            w_days,
        )
        for need, status in needs
        for outcome in outcomes
        for w_band, w_days in waits
    ]
