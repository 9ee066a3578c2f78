"""A case's open needs: a need seen again is the same need (its urgency updated), not a new one.

An outreach worker who meets someone again ticks what they need today; the needs already open on
the case come pre-ticked. A need of a category already open (identified or in progress) on the
case is kept and takes the urgency given now; only a category not open yet becomes a new need.
So re-ticking "shelter" at every encounter leaves one shelter need with its first date, not one
per encounter (which would count a person's need as many needs in the statistics).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import CaseEventKind, NeedStatus
from databank.domain.vocab import NeedCategory
from databank.models import CaseEvent, Need
from databank.services.inputs import NeedIn
from databank.services.records import sealed_rows

# A need still to act on; met and declined needs are closed, and a new one of their category is
# a new need.
OPEN_STATUSES = frozenset({NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS})

# A category's open need: the ORM row, or the row of a need not inserted yet (a batch inserts
# its rows at its end).
OpenNeeds = dict[NeedCategory, Need | dict[str, Any]]


def open_needs_of(session: Session, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, OpenNeeds]:
    """The open needs of these cases by category (the oldest if a case has two of one category,
    as cases recorded before this rule may), in one query."""
    wanted = list(case_ids)
    found: dict[uuid.UUID, OpenNeeds] = {case_id: {} for case_id in wanted}
    if not wanted:
        return found
    rows = session.execute(
        select(Need)
        .where(Need.case_id.in_(wanted), Need.status.in_(OPEN_STATUSES))
        .order_by(Need.identified_at.desc(), Need.id)
    ).scalars()
    for need in rows:  # newest first: the oldest of a category is written last and kept
        found[need.case_id][need.category] = need
    return found


def merge(
    session: Session,
    case_id: uuid.UUID,
    current: OpenNeeds,
    needs: Sequence[NeedIn],
    at: datetime,
    by_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    """The rows of the needs not open yet; an open need of the same category takes the new
    urgency (an ORM row is changed in place, written at flush, the change dated and attributed
    in the case's history like any change of urgency: records/lifecycle.py). `current` gets the
    new rows, so one category named twice (a registration and its first encounter) is one need."""
    rows: list[dict[str, Any]] = []
    # One category named twice in one list is one need, at the urgency given last.
    latest = {need.category: need for need in needs}
    for need in latest.values():
        held = current.get(need.category)
        if isinstance(held, Need):
            if held.severity is not need.severity:
                session.add(
                    CaseEvent(
                        id=uuid.uuid4(),
                        case_id=case_id,
                        need_id=held.id,
                        kind=CaseEventKind.NEED_SEVERITY,
                        from_code=held.severity.value,
                        to_code=need.severity.value,
                        detail_code=None,
                        at=at,
                        by_id=by_id,
                    )
                )
                held.severity = need.severity
        elif held is not None:
            held["severity"] = need.severity
        else:
            [row] = sealed_rows.need_rows(case_id, [need], at)
            current[need.category] = row
            rows.append(row)
    return rows
