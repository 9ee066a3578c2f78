"""API operations on cases: caseload, case page, encounters, referring, closing (referrals
received and sent, and their answers: web/api/referrals.py)."""

from __future__ import annotations

import uuid
from typing import Any

from databank.domain.enums import CaseStatus, Purpose
from databank.domain.vocab import NeedCategory
from databank.schemas.cases import (
    CaseClosedOut,
    CaseCloseIn,
    CaseListOut,
    CaseOut,
    CaseQueryIn,
    CreatedOut,
    EncounterCreatedOut,
    EncounterIn,
    ReferralIn,
)
from databank.services.access import directory
from databank.services.records import case_lists, cases, lifecycle
from databank.web.api import convert
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import commit_access, db

_WRITE_ERRORS = (400, 401, 403, 404, 409, 410, 413, 415, 422)


@operation(
    "/cases",
    summary="The caseload",
    tag="cases",
    scope="cases:read",
    query=CaseQueryIn,
    response=CaseListOut,
    errors=(401, 403, 422),
)
def list_cases(q: dict[str, Any]) -> dict[str, Any]:
    """The cases the caller's organisation may see for the request's purpose: its own, and
    partners' cases shared by consent or referral (`own_only` for the organisation's own).
    Status, district, living situation, needs and last contact, as each case's policy releases
    them; never identifiers."""
    who = caller()
    status = CaseStatus(q["status"]) if "status" in q else None
    found = case_lists.case_page(
        db(), who.actor, who.purpose, status, q["limit"], q["offset"], q["own_only"]
    )
    return {
        "cases": found.lines,
        "limit": q["limit"],
        "offset": q["offset"],
        "total": found.total,
        "more": found.more,
    }


@operation(
    "/cases/<uuid:case_id>",
    summary="A case, as the policies release it",
    tag="cases",
    scope="cases:read",
    response=CaseOut,
    errors=(400, 401, 403, 404, 410),
)
def read_case(case_id: uuid.UUID) -> cases.CaseView:
    """The cross-organisation view of a case: what the owner's policy releases to the caller
    for the purpose, with the list of withheld fields. Withheld fields are never decrypted; a
    location is coarsened server-side to the released level."""
    who = caller()
    view = cases.read_case(db(), who.actor, who.purpose, case_id)
    commit_access()
    return view


@operation(
    "/cases/<uuid:case_id>/encounters",
    "POST",
    summary="Record an encounter",
    tag="cases",
    scope="cases:write",
    status=201,
    body=EncounterIn,
    response=EncounterCreatedOut,
    errors=_WRITE_ERRORS,
)
def record_encounter(data: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """An encounter on an open case: when, where (a point, sealed at rest, or a district
    geohash), the needs seen from the closed taxonomy, the services given and a note."""
    who = caller()
    encounter = convert.encounter(data)
    encounter_id = cases.record_encounter(db(), who.actor, who.purpose, case_id, encounter)
    return {"id": encounter_id, "case_id": case_id, "occurred_at": encounter.occurred_at}


@operation(
    "/cases/<uuid:case_id>/referrals",
    "POST",
    summary="Refer a case to a partner",
    tag="referrals",
    scope="referrals:write",
    status=201,
    body=ReferralIn,
    response=CreatedOut,
    errors=_WRITE_ERRORS,
)
def refer_case(data: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """Refer a case to a partner organisation for a purpose. The person must have consented
    to that sharing; otherwise only a user the policies grant the consent override may refer,
    with `consent_override`, and the override is decided and logged as its own entry."""
    who = caller()
    session = db()
    to_org = directory.resolve_org(session, data["to_org"], "to_org")
    need = data.get("need")
    referral_id = cases.refer(
        session,
        who.actor,
        who.purpose,
        case_id,
        to_org,
        Purpose(data.get("purpose") or who.purpose),
        NeedCategory(need) if need else None,
        data.get("note"),
        override=data["consent_override"],
        justification=data.get("justification"),
    )
    return {"id": referral_id}


@operation(
    "/cases/<uuid:case_id>/close",
    "POST",
    summary="Close a case",
    tag="cases",
    scope="cases:write",
    body=CaseCloseIn,
    response=CaseClosedOut,
    errors=_WRITE_ERRORS,
)
def close_case(data: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """Close an open case with a reason code (e.g. `housed`) and, for `housed` or
    `sheltered`, the destination: the kind of accommodation the person went to."""
    who = caller()
    lifecycle.close_case(
        db(), who.actor, who.purpose, case_id, data["reason"], data.get("destination")
    )
    return {"id": case_id, "status": CaseStatus.CLOSED.value}
