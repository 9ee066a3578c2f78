"""Keeping a case true: its living situation, its needs' status and urgency, closing it with an
outcome and reopening it. Each change is decided by the owner's policy on the field it changes
(living_situation; needs or health, by the need's category; status for closing and reopening),
logged, and kept as a dated, attributed case event of coarse codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank import policy
from databank.domain.enums import (
    Action,
    CaseEventKind,
    CaseStatus,
    NeedSeverity,
    NeedStatus,
    Purpose,
)
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.domain.vocab import (
    DESTINATIONS,
    HUD_TO_ETHOS,
    REASONS_WITH_DESTINATION,
    CloseReason,
    Destination,
    EthosCategory,
    NeedCategory,
)
from databank.models import Case, CaseEvent, Need, User
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import when_happened
from databank.services.records.cases import CaseView

# The policy field each kind of change is decided on (a need's: by its category, see `_field`).
EVENT_FIELDS = {
    CaseEventKind.LIVING_SITUATION: "living_situation",
    CaseEventKind.CLOSED: "status",
    CaseEventKind.REOPENED: "status",
}
# The lifecycle actions a case page may offer, by the field each is decided on.
ACTION_FIELDS = ("status", "living_situation", "needs", "health")


@dataclass(frozen=True)
class CaseEventView:
    """One change of a case as the reader may see it (its field released by the case read)."""

    id: uuid.UUID
    kind: CaseEventKind
    at: datetime
    from_code: str | None
    to_code: str | None
    detail_code: str | None
    need_id: uuid.UUID | None
    need_category: NeedCategory | None
    by_id: uuid.UUID | None  # the owner's staff member: shown to the owner's staff only


def _now() -> datetime:
    return datetime.now(UTC)


def _case(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(access.NO_SUCH_CASE)
    return case


def _decide(
    session: Session, actor: Actor, purpose: Purpose, case: Case, field: str
) -> access.Grant:
    """The owner's policy decides the change of this one field, logged (a refusal too)."""
    return access.authorize(
        session, actor, Action.UPDATE, purpose, access.Resource.of_case(case), fields=(field,)
    )


def _require_open(case: Case) -> None:
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is closed; reopen it to change it")


def _event(
    session: Session,
    actor: Actor,
    case: Case,
    kind: CaseEventKind,
    before: str | None,
    after: str | None,
    detail: str | None = None,
    need_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        CaseEvent(
            id=uuid.uuid4(),
            case_id=case.id,
            need_id=need_id,
            kind=kind,
            from_code=before,
            to_code=after,
            detail_code=detail,
            at=at or _now(),
            by_id=actor.user_id,
        )
    )


def update_living_situation(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    case_id: uuid.UUID,
    situation: EthosCategory | None,
    hud: int | None = None,
) -> None:
    """Record where the person lives now: an ETHOS category, a HUD living-situation code, or
    both (they must agree; a HUD code alone gives its ETHOS category)."""
    case = _case(session, case_id)
    _decide(session, actor, purpose, case, "living_situation")
    _require_open(case)
    errors: dict[str, list[str]] = {}
    if hud is not None and hud not in HUD_TO_ETHOS:
        errors["hud_living_situation"] = ["use a HUD FY2024 living-situation code"]
    elif hud is not None and situation is not None and HUD_TO_ETHOS[hud] != situation:
        errors["hud_living_situation"] = ["this HUD code is another ETHOS category"]
    elif situation is None and hud is None:
        errors["living_situation"] = ["choose a living situation"]
    if errors:
        raise ValidationFailed("the living situation has invalid fields", errors)
    new = situation if situation is not None else HUD_TO_ETHOS[hud]  # type: ignore[index]
    if new == case.living_situation and hud == case.hud_living_situation:
        raise ValidationFailed(
            "nothing to change",
            {"living_situation": ["this is already the case's living situation"]},
        )
    _event(
        session,
        actor,
        case,
        CaseEventKind.LIVING_SITUATION,
        case.living_situation.value,
        new.value,
        None if hud is None else str(hud),
    )
    case.living_situation = new
    case.hud_living_situation = hud


def change_need(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    case_id: uuid.UUID,
    need_id: uuid.UUID,
    status: NeedStatus | None = None,
    severity: NeedSeverity | None = None,
    at: datetime | None = None,
) -> None:
    """Change a need's status (open, in progress, met, not met, withdrawn) or urgency, dated
    (`at`: when it happened, if recorded later); `resolved_at` is set when it ends and cleared
    when it is open again."""
    case = _case(session, case_id)
    need = session.scalar(select(Need).where(Need.id == need_id, Need.case_id == case.id))
    # Decided before "not found": whether a need exists is the case's needs to tell.
    _decide(session, actor, purpose, case, policy.need_field(need.category if need else None))
    if need is None:
        raise NotFound("no such need on this case")
    _require_open(case)
    if status in (None, need.status) and severity in (None, need.severity):
        raise ValidationFailed(
            "nothing to change", {"status": ["choose another status or urgency than the need's"]}
        )
    now = when_happened(at, need.identified_at)
    if status is not None and status != need.status:
        _event(
            session,
            actor,
            case,
            CaseEventKind.NEED_STATUS,
            need.status.value,
            status.value,
            need_id=need.id,
            at=now,
        )
        need.status = status
        need.resolved_at = now if status.is_resolved else None
    if severity is not None and severity != need.severity:
        _event(
            session,
            actor,
            case,
            CaseEventKind.NEED_SEVERITY,
            need.severity.value,
            severity.value,
            need_id=need.id,
            at=now,
        )
        need.severity = severity


def _closing(
    reason: CloseReason | str, destination: Destination | str | None
) -> tuple[CloseReason, Destination | None]:
    errors: dict[str, list[str]] = {}
    try:
        code = CloseReason(reason)
    except ValueError:
        errors["reason"] = [f"use one of: {', '.join(r.value for r in CloseReason)}"]
        raise ValidationFailed("the closing has invalid fields", errors) from None
    where: Destination | None = None
    if destination:
        try:
            where = Destination(destination)
        except ValueError:
            errors["destination"] = [f"use one of: {', '.join(d.value for d in Destination)}"]
    if code in REASONS_WITH_DESTINATION and where is None and not errors:
        errors["destination"] = ["say where the person went"]
    elif where is not None and DESTINATIONS[where].reason is not code:
        kind = DESTINATIONS[where].reason.value
        errors["destination"] = [f"this destination goes with the reason {kind}"]
    if errors:
        raise ValidationFailed("the closing has invalid fields", errors)
    return code, where


def close_case(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    case_id: uuid.UUID,
    reason: CloseReason | str,
    destination: Destination | str | None = None,
    at: datetime | None = None,
) -> None:
    """Close a case with its reason and, for housed or sheltered, the kind of accommodation the
    person went to (a destination: HUD and ETHOS codes for the statistics); `at`: when, if
    recorded later."""
    case = _case(session, case_id)
    _decide(session, actor, purpose, case, "status")
    code, where = _closing(reason, destination)
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is already closed")
    now = when_happened(at, case.opened_at)
    _event(
        session,
        actor,
        case,
        CaseEventKind.CLOSED,
        case.status.value,
        code.value,
        where.value if where else None,
        at=now,
    )
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.close_reason = code.value
    case.destination = where


def reopen_case(session: Session, actor: Actor, purpose: Purpose, case_id: uuid.UUID) -> None:
    """Open a closed case again (the person is back): its closing stays in the history."""
    case = _case(session, case_id)
    _decide(session, actor, purpose, case, "status")
    if case.status is not CaseStatus.CLOSED:
        raise Conflict("the case is open")
    _event(session, actor, case, CaseEventKind.REOPENED, case.close_reason, CaseStatus.OPEN.value)
    case.status = CaseStatus.OPEN
    case.closed_at = None
    case.close_reason = None
    case.destination = None


def _field(kind: CaseEventKind, category: NeedCategory | None) -> str:
    return EVENT_FIELDS.get(kind) or policy.need_field(category)


def history(session: Session, actor: Actor, view: CaseView) -> tuple[CaseEventView, ...]:
    """A case's changes, oldest first, as the read that made `view` released them: each change
    only where its field was released (a partner without health sees no health need's change).
    The read was decided and logged with those fields (cases.read_case)."""
    rows = session.execute(
        select(CaseEvent, Need.category)
        .outerjoin(Need, Need.id == CaseEvent.need_id)
        .where(CaseEvent.case_id == view.id)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    own = view.org_id == actor.org_id
    return tuple(
        CaseEventView(
            event.id,
            event.kind,
            event.at,
            event.from_code,
            event.to_code,
            event.detail_code,
            event.need_id,
            category,
            event.by_id if own else None,
        )
        for event, category in rows
        if _field(event.kind, category) in view.released
    )


def allowed_changes(
    session: Session, actor: Actor, purpose: Purpose, view: CaseView
) -> frozenset[str]:
    """The fields of this case the actor may change, as the owner's policy would decide now
    (not logged: it says what to offer; each change is decided and logged when made)."""
    if view.resource is None:
        return frozenset()
    try:
        decided = access.decide_many(
            session, actor, Action.UPDATE, purpose, [view.resource], fields=ACTION_FIELDS
        )
    except access.AccessRefused:  # a purpose the role may not declare: nothing to offer
        return frozenset()
    return decided[0].grant.fields


def staff_names(
    session: Session, actor: Actor, user_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """The names of the actor's own colleagues among these users (who made a change, shown to
    their organisation only): staff of other organisations are not named."""
    wanted = {u for u in user_ids if u is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name).where(
            User.id.in_(sorted(wanted)), User.org_id == actor.org_id
        )
    )
    return {user_id: name for user_id, name in rows}  # noqa: C416 - typed rows, not pairs
