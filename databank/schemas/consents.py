"""API schemas for consents: record, list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from databank.domain.enums import OrgKind, Purpose
from databank.schemas.common import one_of
from databank.schemas.handles import PersonHandle

PURPOSES = [p.value for p in Purpose]
ORG_KINDS = [k.value for k in OrgKind]


class ConsentIn(Schema):
    """What the person agreed to share, with whom (organisations or kinds), for which purposes."""

    purposes = fields.List(
        fields.String(validate=one_of(PURPOSES)),
        required=True,
        validate=validate.Length(min=1, max=len(PURPOSES)),
    )
    recipient_orgs = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "Partner organisations, by slug or id."},
    )
    recipient_org_kinds = fields.List(
        fields.String(validate=one_of(ORG_KINDS)),
        load_default=list,
        validate=validate.Length(max=len(ORG_KINDS)),
    )
    expires_at = fields.AwareDateTime(allow_none=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("recipient_orgs") and not data.get("recipient_org_kinds"):
            raise ValidationError(
                "Name at least one recipient organisation or kind.", "recipient_orgs"
            )
        forbidden = [p for p in data.get("purposes", []) if Purpose(p).is_forbidden]
        if forbidden:
            raise ValidationError("Enforcement purposes cannot be consented to.", "purposes")
        unasked = [p for p in data.get("purposes", []) if not Purpose(p).is_consentable]
        if unasked:
            raise ValidationError(
                f"These purposes need no consent: {', '.join(unasked)}.", "purposes"
            )
        expires = data.get("expires_at")
        if expires is not None and expires <= datetime.now(UTC):
            raise ValidationError("Must be in the future.", "expires_at")


class ConsentOut(Schema):
    id = fields.UUID()
    person_id = PersonHandle()
    org_id = fields.UUID()
    purposes = fields.List(fields.String(metadata={"enum": PURPOSES}))
    recipient_org_ids = fields.List(fields.UUID())
    recipient_org_kinds = fields.List(fields.String(metadata={"enum": ORG_KINDS}))
    given_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class ConsentListOut(Schema):
    consents = fields.List(fields.Nested(ConsentOut))
