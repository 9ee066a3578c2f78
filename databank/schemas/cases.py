"""API schemas for cases: caseload query, case page, encounters, referrals, closing."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from databank.domain.enums import CaseStatus, Purpose
from databank.domain.vocab import CloseReason, Destination, EthosCategory, ServiceGiven
from databank.schemas.common import (
    MAX_NEEDS,
    MAX_NOTE_LENGTH,
    NEED_CATEGORIES,
    NeedIn,
    NeedOut,
    PastInstant,
    PlaceOut,
    PointIn,
    area_field,
    note_field,
    one_of,
)
from databank.schemas.handles import PersonHandle

MAX_LIMIT = 200
MAX_OFFSET = 100_000
CASE_STATUSES = [s.value for s in CaseStatus]


class EncounterIn(Schema):
    """An encounter on an open case. Needs use the closed taxonomy; place is a point or a
    district geohash (only the district is stored in clear; the point is sealed)."""

    occurred_at = PastInstant(required=True, metadata={"example": "2026-11-21T22:00:00Z"})
    district = area_field()
    point = fields.Nested(PointIn, allow_none=True)
    needs = fields.List(
        fields.Nested(NeedIn), validate=validate.Length(max=MAX_NEEDS), load_default=list
    )
    services_given = fields.List(
        fields.String(validate=one_of([s.value for s in ServiceGiven])),
        validate=validate.Length(max=20),
        load_default=list,
        metadata={"example": ["meal"]},
    )
    notes = note_field()


class EncounterCreatedOut(Schema):
    id = fields.UUID()
    case_id = fields.UUID()
    occurred_at = fields.AwareDateTime()


class CaseQueryIn(Schema):
    status = fields.String(validate=one_of(CASE_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))
    own_only = fields.Boolean(load_default=False)


class CaseSummaryOut(Schema):
    """One line of a caseload: what the policy releases of the case, never identifiers."""

    id = fields.UUID()
    person_id = PersonHandle()
    org_id = fields.UUID()
    owner = fields.String(metadata={"description": "The owning organisation's slug."})
    owner_name = fields.String(metadata={"description": "The owning organisation's name."})
    status = fields.String(allow_none=True, metadata={"enum": CASE_STATUSES})
    opened_at = fields.AwareDateTime(allow_none=True)
    place = fields.Nested(PlaceOut, allow_none=True)
    living_situation = fields.String(
        allow_none=True, metadata={"description": "ETHOS category; null if withheld."}
    )
    needs = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "Unresolved need categories as released; null if withheld."},
    )
    last_contact = fields.AwareDateTime(
        allow_none=True, metadata={"description": "The latest encounter; null if withheld."}
    )


class CaseListOut(Schema):
    cases = fields.List(fields.Nested(CaseSummaryOut))
    limit = fields.Integer()
    offset = fields.Integer()
    total = fields.Integer(
        metadata={"description": "How many cases the caller is shown on all pages."}
    )
    more = fields.Boolean(
        metadata={
            "description": "Whether another page follows (at offset + limit). Limit and offset "
            "count the cases the caller is shown, so pages are full but the last."
        }
    )


class EncounterOut(Schema):
    id = fields.UUID()
    occurred_at = fields.AwareDateTime()
    place = fields.Nested(PlaceOut, allow_none=True)
    notes = fields.String(allow_none=True)
    services_given = fields.List(fields.String())
    worker_id = fields.UUID(allow_none=True)


class CaseOut(Schema):
    """A case as the caller may see it: withheld fields are null and named in `withheld`."""

    id = fields.UUID()
    person_id = PersonHandle()
    org_id = fields.UUID()
    status = fields.String(allow_none=True, metadata={"enum": CASE_STATUSES})
    opened_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    close_reason = fields.String(allow_none=True, metadata={"enum": [r.value for r in CloseReason]})
    destination = fields.String(
        allow_none=True,
        metadata={
            "enum": [d.value for d in Destination],
            "description": "Where a case closed as housed or sheltered went (released with "
            "the status).",
        },
    )
    living_situation = fields.String(
        allow_none=True, metadata={"enum": [c.value for c in EthosCategory]}
    )
    hud_living_situation = fields.Integer(allow_none=True)
    is_minor = fields.Boolean(allow_none=True)
    is_domestic_abuse_survivor = fields.Boolean(allow_none=True)
    place = fields.Nested(PlaceOut, allow_none=True)
    notes = fields.String(allow_none=True)
    needs = fields.List(fields.Nested(NeedOut))
    encounters = fields.List(fields.Nested(EncounterOut))
    released = fields.Function(
        lambda case: sorted(case.released), metadata={"type": "array", "items": {"type": "string"}}
    )
    withheld = fields.Function(
        lambda case: sorted(case.withheld), metadata={"type": "array", "items": {"type": "string"}}
    )
    break_glass = fields.Boolean()


class ReferralIn(Schema):
    """A referral to a partner for a purpose; without the person's consent, only a user the
    policies grant the consent override may refer, with `consent_override` set and a
    `justification` saying why the person's consent is not asked for."""

    to_org = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The partner organisation's slug or id."},
    )
    purpose = fields.String(
        validate=one_of([p.value for p in Purpose]),
        metadata={
            "description": "What the partner will use the case for (default: the "
            "request's purpose). Enforcement purposes are refused and logged."
        },
    )
    need = fields.String(allow_none=True, validate=one_of(NEED_CATEGORIES))
    note = note_field()
    consent_override = fields.Boolean(load_default=False)
    justification = fields.String(
        allow_none=True,
        validate=validate.Length(max=MAX_NOTE_LENGTH),
        metadata={
            "description": "Required with `consent_override`: why the person's consent is not "
            "asked for. Kept with the referral, sealed like its note."
        },
    )


class CreatedOut(Schema):
    id = fields.UUID()


class CaseCloseIn(Schema):
    """Why the case closed and, for `housed` or `sheltered`, the kind of accommodation the
    person went to (required with them; each destination goes with one of the two)."""

    reason = fields.String(
        required=True,
        validate=one_of([r.value for r in CloseReason]),
        metadata={"example": "housed"},
    )
    destination = fields.String(
        allow_none=True,
        validate=one_of([d.value for d in Destination]),
        metadata={"example": "rental_subsidised"},
    )


class CaseClosedOut(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": CASE_STATUSES})
