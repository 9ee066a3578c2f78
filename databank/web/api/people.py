"""API operations on people: search the org's own records, register, consents."""

from __future__ import annotations

import uuid
from typing import Any

from databank.domain.enums import OrgKind, Purpose
from databank.schemas.cases import CreatedOut
from databank.schemas.consents import ConsentIn, ConsentListOut
from databank.schemas.people import PersonCreateIn, PersonCreateOut, PersonSearchIn, PersonSearchOut
from databank.services import inputs as service_inputs
from databank.services.access import directory
from databank.services.inputs import IntakeRecord
from databank.services.records import consents, people
from databank.web.api import convert
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db

_ERRORS = (400, 401, 403, 409, 410, 413, 415, 422)


@operation(
    "/people/search",
    "POST",
    summary="Find a person by family name and birth date",
    tag="people",
    scope="people:read",
    body=PersonSearchIn,
    response=PersonSearchOut,
    errors=_ERRORS,
)
def search_people(data: dict[str, Any]) -> dict[str, Any]:
    """Exact search in the caller's organisation's own records, through the blind index: the
    decrypted values confirm each candidate. POST so that no name is ever in a URL or a log
    line; the access log records that a search happened and how many it found, never the
    search string."""
    who = caller()
    found = people.find_people(
        db(), who.actor, who.purpose, data["family_name"], data["birth_date"]
    )
    return {"matches": found}


@operation(
    "/people",
    "POST",
    summary="Register a person",
    tag="people",
    scope="people:write",
    status=201,
    body=PersonCreateIn,
    response=PersonCreateOut,
    errors=_ERRORS,
)
def create_person(data: dict[str, Any]) -> people.IntakeResult:
    """Register a person for the caller's organisation (pooled with the same person known to a
    partner), optionally with a case, its needs and a first encounter, in one transaction."""
    who = caller()
    case = data.get("case")
    record = IntakeRecord(
        identity=convert.identity(data["identity"]),
        case=convert.case(case) if case else None,
        needs=convert.needs(data["needs"]),
        encounters=(convert.encounter(data["encounter"]),) if data.get("encounter") else (),
    )
    [outcome] = people.intake(db(), who.actor, who.purpose, [record])
    return outcome


@operation(
    "/people/<person:person_id>/consents",
    summary="A person's consents",
    tag="consents",
    scope="consents:read",
    response=ConsentListOut,
    errors=(400, 401, 403, 404, 410),
)
def list_consents(person_id: uuid.UUID) -> dict[str, Any]:
    """The consents the caller's organisation recorded for a person (active, expired, revoked)."""
    who = caller()
    return {"consents": consents.consents_for(db(), who.actor, who.purpose, person_id)}


@operation(
    "/people/<person:person_id>/consents",
    "POST",
    summary="Record a consent",
    tag="consents",
    scope="consents:write",
    status=201,
    body=ConsentIn,
    response=CreatedOut,
    errors=(*_ERRORS, 404),
)
def record_consent(data: dict[str, Any], person_id: uuid.UUID) -> dict[str, Any]:
    """Record what the person agreed to share, with which partners (by slug or id) or kinds of
    partner, for which purposes, until when. Enforcement purposes cannot be consented to."""
    who = caller()
    session = db()
    recipients = directory.resolve_orgs(
        session, data["recipient_orgs"], lambda n: f"recipient_orgs.{n}"
    )
    consent = service_inputs.ConsentIn(
        purposes=tuple(Purpose(p) for p in data["purposes"]),
        recipient_org_ids=recipients,
        recipient_org_kinds=tuple(OrgKind(k).value for k in data["recipient_org_kinds"]),
        expires_at=data.get("expires_at"),
    )
    consent_id = consents.record_consent(session, who.actor, who.purpose, person_id, consent)
    return {"id": consent_id}


@operation(
    "/consents/<uuid:consent_id>",
    "DELETE",
    summary="Revoke a consent",
    tag="consents",
    scope="consents:write",
    status=204,
    errors=(400, 401, 403, 404, 409),
)
def revoke_consent(consent_id: uuid.UUID) -> None:
    """Revoke a consent now: sharing that rested on it stops with the next request."""
    who = caller()
    consents.revoke_consent(db(), who.actor, who.purpose, consent_id)
