"""API operations that keep records true: a case's living situation, needs, reopening and
history; a person's identity corrections and their history. Closing is in cases.py."""

from __future__ import annotations

import uuid
from typing import Any

from databank.domain.enums import CaseStatus, NeedSeverity, NeedStatus
from databank.domain.vocab import EthosCategory
from databank.schemas.lifecycle import (
    CaseHistoryOut,
    CaseReopenedOut,
    ChangedOut,
    IdentityCorrectedOut,
    IdentityCorrectionIn,
    IdentityHistoryOut,
    LivingSituationIn,
    NeedChangeIn,
)
from databank.services.records import cases, identity_changes, lifecycle
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import commit_access, db

_WRITE_ERRORS = (400, 401, 403, 404, 409, 410, 413, 415, 422)


@operation(
    "/cases/<uuid:case_id>/living-situation",
    "POST",
    summary="Record a change of living situation",
    tag="cases",
    scope="cases:write",
    body=LivingSituationIn,
    response=ChangedOut,
    errors=_WRITE_ERRORS,
)
def update_living_situation(data: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """Where the person lives now, on an open case; the previous situation stays in the
    case's history with the date and who changed it."""
    who = caller()
    situation = data.get("living_situation")
    lifecycle.update_living_situation(
        db(),
        who.actor,
        who.purpose,
        case_id,
        EthosCategory(situation) if situation else None,
        data.get("hud_living_situation"),
    )
    return {"id": case_id}


@operation(
    "/cases/<uuid:case_id>/needs/<uuid:need_id>",
    "PATCH",
    summary="Change a need's status or urgency",
    tag="cases",
    scope="cases:write",
    body=NeedChangeIn,
    response=ChangedOut,
    errors=_WRITE_ERRORS,
)
def change_need(data: dict[str, Any], case_id: uuid.UUID, need_id: uuid.UUID) -> dict[str, Any]:
    """Open (`identified`), in progress, met, not met or withdrawn, dated (`resolved_at` when
    it ends); decided on the case's `needs` field, or `health` for a health need."""
    who = caller()
    status, severity = data.get("status"), data.get("severity")
    lifecycle.change_need(
        db(),
        who.actor,
        who.purpose,
        case_id,
        need_id,
        NeedStatus(status) if status else None,
        NeedSeverity(severity) if severity else None,
    )
    return {"id": need_id}


@operation(
    "/cases/<uuid:case_id>/reopen",
    "POST",
    summary="Reopen a closed case",
    tag="cases",
    scope="cases:write",
    response=CaseReopenedOut,
    errors=_WRITE_ERRORS,
)
def reopen_case(case_id: uuid.UUID) -> dict[str, Any]:
    """Open a closed case again; its closing (reason and destination) stays in its history."""
    who = caller()
    lifecycle.reopen_case(db(), who.actor, who.purpose, case_id)
    return {"id": case_id, "status": CaseStatus.OPEN.value}


@operation(
    "/cases/<uuid:case_id>/history",
    summary="A case's changes",
    tag="cases",
    scope="cases:read",
    response=CaseHistoryOut,
    errors=(400, 401, 403, 404, 410),
)
def case_history(case_id: uuid.UUID) -> dict[str, Any]:
    """The dated changes of a case (living situation, needs, closing, reopening), each only
    where the owner's policy releases its field to the caller for the purpose (the read is
    logged like a read of the case)."""
    who = caller()
    session = db()
    view = cases.read_case(session, who.actor, who.purpose, case_id)
    events = lifecycle.history(session, who.actor, view)
    commit_access()
    return {"case_id": case_id, "events": events}


@operation(
    "/people/<person:person_id>/identity",
    "PATCH",
    summary="Correct a person's identity",
    tag="people",
    scope="people:write",
    body=IdentityCorrectionIn,
    response=IdentityCorrectedOut,
    errors=(*_WRITE_ERRORS,),
)
def correct_identity(data: dict[str, Any], person_id: uuid.UUID) -> dict[str, Any]:
    """Correct the caller's organisation's identity of a person (names, birth date, phone,
    aliases). The previous values are kept sealed; a corrected name or birth date is encoded
    and linked afresh. Another organisation's person is not found (and the attempt logged)."""
    who = caller()
    correction = identity_changes.IdentityCorrection(
        given_name=data.get("given_name"),
        family_name=data.get("family_name"),
        birth_date=data.get("birth_date"),
        phone=data.get("phone"),
        aliases=data.get("aliases"),
    )
    changed = identity_changes.correct_identity(db(), who.actor, who.purpose, person_id, correction)
    return {"person_id": person_id, "fields_changed": list(changed)}


@operation(
    "/people/<person:person_id>/identity/history",
    summary="A person's identity corrections",
    tag="people",
    scope="people:read",
    response=IdentityHistoryOut,
    errors=(400, 401, 403, 404, 410),
)
def identity_history(person_id: uuid.UUID) -> dict[str, Any]:
    """The corrections of the caller's organisation's identity of a person, newest first, with
    the values each replaced (logged as a read of the identity)."""
    who = caller()
    changes = identity_changes.identity_history(db(), who.actor, who.purpose, person_id)
    commit_access()
    return {"changes": changes}
