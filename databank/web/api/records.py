"""API operations on an organisation's own records of a person: its duplicates and their merge."""

from __future__ import annotations

import uuid
from typing import Any

from databank.schemas.own_records import DuplicatesOut, OwnMergeIn, OwnMergeOut, OwnRecordsOut
from databank.services.records import own_merge
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db


@operation(
    "/people/duplicates",
    summary="People this organisation holds under several records",
    tag="people",
    scope="people:read",
    response=DuplicatesOut,
    errors=(401, 403),
)
def list_duplicates() -> dict[str, Any]:
    """People the organisation registered more than once (linkage pooled the records): what it
    may merge. Only its own records count: nothing is said of other organisations."""
    who = caller()
    found = own_merge.own_duplicates(db(), who.actor, who.purpose)
    return {"people": [{"person_id": p, "org_id": who.actor.org_id} for p in found]}


@operation(
    "/people/<person:person_id>/records",
    summary="This organisation's records of a person",
    tag="people",
    scope="people:read",
    response=OwnRecordsOut,
    errors=(400, 401, 403, 404),
)
def list_records(person_id: uuid.UUID) -> dict[str, Any]:
    """The organisation's records of a person, oldest first, with the name and birth date each
    was registered under where the policy releases the identity."""
    who = caller()
    return {"records": own_merge.own_records(db(), who.actor, who.purpose, person_id)}


@operation(
    "/people/<person:person_id>/records/merge",
    "POST",
    summary="Merge two of this organisation's records of a person",
    tag="people",
    scope="people:write",
    body=OwnMergeIn,
    response=OwnMergeOut,
    errors=(400, 401, 403, 404, 409, 422),
)
def merge_records(data: dict[str, Any], person_id: uuid.UUID) -> own_merge.OwnMerge:
    """Move the other record's cases, needs, encounters, referrals and consents to the kept one
    (sealed anew under its key), then destroy the other record's keys. Both must be this
    organisation's records of this person."""
    who = caller()
    return own_merge.merge_person_records(
        db(), who.actor, who.purpose, person_id, data["keep"], data["other"], data["reason"]
    )
