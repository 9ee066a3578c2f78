"""API operations on people: search the org's own records, register, consents."""

from __future__ import annotations

from typing import Any

from flask import Response

from databank.domain.enums import OrgKind, Purpose
from databank.schemas.cases import CreatedOut
from databank.schemas.consents import ConsentIn, ConsentListOut
from databank.schemas.people import PersonCreateIn, PersonCreateOut, PersonSearchIn, PersonSearchOut
from databank.services import inputs as service_inputs
from databank.services.access import directory
from databank.services.inputs import IntakeRecord
from databank.services.records import consents, people
from databank.web.api import convert, io
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.runtime import db

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
def search_people() -> dict[str, Any]:
    """Exact search in the caller's organisation's own records, through the blind index: the
    decrypted values confirm each candidate. POST so that no name is ever in a URL or a log
    line; the access log records that a search happened and how many it found, never the
    search string."""
    who = caller()
    data = io.body(io.schema(PersonSearchIn))
    found = people.find_people(
        db(), who.actor, who.purpose, data["family_name"], data["birth_date"]
    )
    result: dict[str, Any] = io.schema(PersonSearchOut).dump({"matches": found})
    return result


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
def create_person() -> tuple[Response, int]:
    """Register a person for the caller's organisation (pooled with the same person known to a
    partner), optionally with a case, its needs and a first encounter, in one transaction."""
    who = caller()
    data = io.body(io.schema(PersonCreateIn))
    case = data.get("case")
    record = IntakeRecord(
        identity=convert.identity(data["identity"]),
        case=convert.case(case) if case else None,
        needs=convert.needs(data["needs"]),
        encounters=(convert.encounter(data["encounter"]),) if data.get("encounter") else (),
    )
    [outcome] = people.intake(db(), who.actor, who.purpose, [record])
    return io.created(io.schema(PersonCreateOut).dump(outcome))


@operation(
    "/people/<person_id>/consents",
    summary="A person's consents",
    tag="consents",
    scope="consents:read",
    response=ConsentListOut,
    errors=(400, 401, 403, 404, 410),
)
def list_consents(person_id: str) -> dict[str, Any]:
    """The consents the caller's organisation recorded for a person (active, expired, revoked)."""
    io.no_query()
    who = caller()
    found = consents.consents_for(db(), who.actor, who.purpose, io.path_id(person_id, "person_id"))
    result: dict[str, Any] = io.schema(ConsentListOut).dump({"consents": found})
    return result


@operation(
    "/people/<person_id>/consents",
    "POST",
    summary="Record a consent",
    tag="consents",
    scope="consents:write",
    status=201,
    body=ConsentIn,
    response=CreatedOut,
    errors=(*_ERRORS, 404),
)
def record_consent(person_id: str) -> tuple[Response, int]:
    """Record what the person agreed to share, with which partners (by slug or id) or kinds of
    partner, for which purposes, until when. Enforcement purposes cannot be consented to."""
    who = caller()
    parsed = io.path_id(person_id, "person_id")
    data = io.body(io.schema(ConsentIn))
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
    consent_id = consents.record_consent(session, who.actor, who.purpose, parsed, consent)
    return io.created(io.schema(CreatedOut).dump({"id": consent_id}))


@operation(
    "/consents/<consent_id>",
    "DELETE",
    summary="Revoke a consent",
    tag="consents",
    scope="consents:write",
    status=204,
    errors=(400, 401, 403, 404, 409),
)
def revoke_consent(consent_id: str) -> tuple[str, int]:
    """Revoke a consent now: sharing that rested on it stops with the next request."""
    io.no_query()
    who = caller()
    consents.revoke_consent(db(), who.actor, who.purpose, io.path_id(consent_id, "consent_id"))
    return "", 204
