"""The privacy budget: epsilon spent by each user per quarter on ad-hoc tables (issue 18, 4).

Differential privacy bounds what one table tells about one person; what many tables tell adds
up, so each user has a budget per calendar quarter (DATABANK default 2.0) and each ad-hoc table
costs its epsilon (default 0.5). The spend is written in the transaction that releases the
table: no table without its charge, no charge without its table. Two tables asked at once by
one user are charged one after the other (the user's row is locked on PostgreSQL; SQLite writes
one transaction at a time).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.analytics import dp
from databank.models import PrivacySpend, User
from databank.services import auditlog
from databank.services.access import AccessRefused
from databank.services.actors import Actor
from databank.services.statistics.views import Budget

QUARTER_BUDGET = dp.DEFAULT_QUARTER_BUDGET


class BudgetSpent(AccessRefused):
    """An ad-hoc table would cost more than the user's budget left this quarter. A refusal: its
    log entry is written after the rollback (every query is logged, refused ones too)."""

    status = 409
    code = "privacy_budget_spent"

    def __init__(
        self, message: str, actor: Actor, entries: list[auditlog.EntryIn], left: float
    ) -> None:
        super().__init__(entries, actor)
        self.message = message
        self.args = (message,)
        self.errors = {"epsilon": [f"at most {left:g} is left this quarter"]}


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _spent(session: Session, user_id: uuid.UUID, quarter: str) -> float:
    total = session.scalar(
        select(func.sum(PrivacySpend.epsilon)).where(
            PrivacySpend.user_id == user_id, PrivacySpend.quarter == quarter
        )
    )
    return round(float(total or 0.0), 6)


def budget_of(session: Session, actor: Actor, today: date | None = None) -> Budget:
    """The actor's budget this quarter (an operator at the command line has none)."""
    quarter = quarter_of(today or datetime.now(UTC).date())
    if actor.user_id is None:
        return Budget(quarter, 0.0, 0.0)
    return Budget(quarter, QUARTER_BUDGET, _spent(session, actor.user_id, quarter))


def charge(
    session: Session,
    actor: Actor,
    epsilon: float,
    release_id: uuid.UUID,
    refused: auditlog.EntryIn,
) -> PrivacySpend:
    """The charge of `epsilon` to the actor's budget (the caller adds it once the release it
    names is stored), or `BudgetSpent` with the `refused` entry: nothing charged."""
    if actor.user_id is None:
        raise BudgetSpent(
            "an ad-hoc table needs a signed-in user with a privacy budget", actor, [refused], 0.0
        )
    session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
    quarter = quarter_of(datetime.now(UTC).date())
    spent = _spent(session, actor.user_id, quarter)
    if spent + epsilon > QUARTER_BUDGET + 1e-9:
        left = max(0.0, QUARTER_BUDGET - spent)
        raise BudgetSpent(
            f"this table costs epsilon {epsilon:g} but your privacy budget for {quarter} has "
            f"{left:g} left of {QUARTER_BUDGET:g}; it renews at the start of the next quarter",
            actor,
            [refused],
            left,
        )
    return PrivacySpend(
        user_id=actor.user_id, quarter=quarter, epsilon=epsilon, release_id=release_id
    )
