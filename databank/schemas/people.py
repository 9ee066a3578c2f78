"""API schemas for people: search by family name and birth date, and registration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from databank.domain.dates import EARLIEST_BIRTH, iso_day
from databank.domain.enums import Sex
from databank.domain.vocab import EthosCategory
from databank.schemas.cases import EncounterIn
from databank.schemas.common import MAX_NEEDS, NeedIn, PointIn, area_field, note_field, one_of
from databank.schemas.handles import PersonHandle

MAX_NAME_LENGTH = 100


def _name(required: bool = True) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))


class BirthDate(fields.Date):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        # YYYY-MM-DD only: the ISO parser also takes week dates (2026-W49-6) no client means.
        parsed = iso_day(value) if isinstance(value, str) else None
        if parsed is None:
            raise self.make_error("invalid")
        if parsed > datetime.now(UTC).date():
            raise ValidationError("Must not be in the future.")
        if parsed < EARLIEST_BIRTH:
            raise ValidationError("Must not be before 1900.")
        return parsed


class PersonSearchIn(Schema):
    """Exact search in the organisation's own records (sent in a body: never in a URL)."""

    family_name = _name()
    birth_date = BirthDate(required=True, metadata={"example": "1980-04-02"})

    @validates("family_name")
    def _letters(self, value: str, **_kwargs: Any) -> None:
        if not any(c.isalnum() for c in value):
            raise ValidationError("Needs at least one letter or digit.")


class IdentityOut(Schema):
    person_id = PersonHandle()
    identity_id = fields.UUID()
    given_name = fields.String()
    family_name = fields.String()
    birth_date = fields.Date()
    sex = fields.String(allow_none=True, metadata={"enum": [s.value for s in Sex]})
    aliases = fields.List(fields.String())
    birth_place = fields.String(allow_none=True)
    phone = fields.String(
        allow_none=True,
        metadata={"description": "Withheld (null) unless the policy releases contact details."},
    )


class PersonSearchOut(Schema):
    matches = fields.List(fields.Nested(IdentityOut))


class IdentityIn(Schema):
    given_name = _name()
    family_name = _name()
    birth_date = BirthDate(required=True)
    sex = fields.String(allow_none=True, validate=one_of([s.value for s in Sex]))
    aliases = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH)),
        validate=validate.Length(max=10),
        load_default=list,
    )
    birth_place = fields.String(allow_none=True, validate=validate.Length(max=MAX_NAME_LENGTH))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))

    @validates_schema
    def _letters(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors = {
            name: ["Needs at least one letter or digit."]
            for name in ("given_name", "family_name")
            if name in data and not any(c.isalnum() for c in data[name])
        }
        if errors:
            raise ValidationError(errors)


class CaseIn(Schema):
    living_situation = fields.String(
        load_default=EthosCategory.UNKNOWN.value, validate=one_of([c.value for c in EthosCategory])
    )
    is_minor = fields.Boolean(load_default=False)
    is_domestic_abuse_survivor = fields.Boolean(load_default=False)
    district = area_field()
    point = fields.Nested(PointIn, allow_none=True)
    notes = note_field()


class PersonCreateIn(Schema):
    """A registration: identity, optionally a case with needs and a first encounter."""

    identity = fields.Nested(IdentityIn, required=True)
    case = fields.Nested(CaseIn, allow_none=True)
    needs = fields.List(
        fields.Nested(NeedIn), validate=validate.Length(max=MAX_NEEDS), load_default=list
    )
    encounter = fields.Nested(EncounterIn, allow_none=True)

    @validates_schema
    def _case_first(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("needs") or data.get("encounter")) and not data.get("case"):
            raise ValidationError("Needs and encounters are recorded on a case: add one.", "case")


class PersonCreateOut(Schema):
    person_id = PersonHandle()
    identity_id = fields.UUID(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    outcome = fields.String(
        metadata={
            "enum": ["created", "existing"],
            "description": "created: new to this organisation's records (whether other "
            "organisations know the person is never said); existing: already in them.",
        }
    )
    case_outcome = fields.String(
        allow_none=True,
        metadata={
            "enum": ["opened", "existing", None],
            "description": "opened: case_id is a new case; existing: the person already had an "
            "open case in this organisation's records, and case_id is that case (the needs and "
            "the encounter were added to it, a need already open updated, not repeated); null: "
            "no case was asked for.",
        },
    )
