"""API schemas for keeping records true: living situation, needs, reopening, a case's history,
identity corrections and their history."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from databank.domain.enums import CaseEventKind, CaseStatus, NeedSeverity, NeedStatus
from databank.domain.vocab import HUD_LIVING_SITUATIONS, EthosCategory
from databank.schemas.common import NEED_CATEGORIES, one_of
from databank.schemas.handles import PersonHandle
from databank.schemas.people import MAX_NAME_LENGTH, BirthDate

MAX_ALIASES = 10


class LivingSituationIn(Schema):
    """Where the person lives now: an ETHOS category, a HUD FY2024 living-situation code, or
    both (they must agree; a HUD code alone gives its ETHOS category)."""

    living_situation = fields.String(
        allow_none=True,
        validate=one_of([c.value for c in EthosCategory]),
        metadata={"example": "ethos_8_insecure_accommodation"},
    )
    hud_living_situation = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.OneOf(sorted(HUD_LIVING_SITUATIONS), error="Not a HUD FY2024 code."),
        metadata={"example": 312},
    )

    @validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("living_situation") is None and data.get("hud_living_situation") is None:
            raise ValidationError("Give a living situation.", "living_situation")


class NeedChangeIn(Schema):
    """A need's new status (`identified` is open) or urgency, or both."""

    status = fields.String(
        validate=one_of([s.value for s in NeedStatus]), metadata={"example": "met"}
    )
    severity = fields.String(validate=one_of([s.value for s in NeedSeverity]))

    @validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "status" not in data and "severity" not in data:
            raise ValidationError("Give a status or an urgency.", "status")


class ChangedOut(Schema):
    id = fields.UUID()


class CaseReopenedOut(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": [s.value for s in CaseStatus]})


class CaseEventOut(Schema):
    """One dated change of a case, in codes: living situations as ETHOS codes (detail: the HUD
    code), needs' statuses and urgencies, closing (to: the reason; detail: the destination)."""

    id = fields.UUID()
    kind = fields.String(metadata={"enum": [k.value for k in CaseEventKind]})
    at = fields.AwareDateTime()
    from_code = fields.String(allow_none=True)
    to_code = fields.String(allow_none=True)
    detail_code = fields.String(allow_none=True)
    need_id = fields.UUID(allow_none=True)
    need_category = fields.String(allow_none=True, metadata={"enum": NEED_CATEGORIES})
    by_id = fields.UUID(
        allow_none=True,
        metadata={"description": "Who made the change: shown to the owner's staff only."},
    )


class CaseHistoryOut(Schema):
    case_id = fields.UUID()
    events = fields.List(fields.Nested(CaseEventOut))


def _name() -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH))


class IdentityCorrectionIn(Schema):
    """The corrected values; a field left out is unchanged (`phone: ""` removes the phone).
    The previous values are kept, sealed, in the identity's history."""

    given_name = _name()
    family_name = _name()
    birth_date = BirthDate(metadata={"example": "1980-04-02"})
    phone = fields.String(validate=validate.Length(max=32))
    aliases = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH)),
        validate=validate.Length(max=MAX_ALIASES),
    )

    @validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give a field to correct.", "identity")


class IdentityCorrectedOut(Schema):
    person_id = PersonHandle()
    fields_changed = fields.List(fields.String())


class IdentityChangeOut(Schema):
    id = fields.UUID()
    changed_at = fields.AwareDateTime()
    changed_by_id = fields.UUID(allow_none=True)
    fields_changed = fields.List(fields.String(), attribute="fields")
    previous = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        metadata={"description": "The values the change replaced (the phone only with contact)."},
    )


class IdentityHistoryOut(Schema):
    changes = fields.List(fields.Nested(IdentityChangeOut))
