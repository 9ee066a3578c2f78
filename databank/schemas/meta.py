"""API schemas about the caller and the vocabularies: me, purposes, organisations."""

from __future__ import annotations

from marshmallow import Schema, fields

from databank.domain.enums import OrgKind, Purpose, Role
from databank.schemas.common import one_of


class MeOut(Schema):
    user_id = fields.UUID()
    username = fields.String()
    display_name = fields.String()
    org_id = fields.UUID()
    org_slug = fields.String()
    org_kind = fields.String(metadata={"enum": [k.value for k in OrgKind]})
    roles = fields.List(fields.String(metadata={"enum": [r.value for r in Role]}))
    purpose = fields.String(metadata={"enum": [p.value for p in Purpose]})
    authentication = fields.String(metadata={"enum": ["token", "session"]})
    token_scopes = fields.List(fields.String(), allow_none=True)
    token_purposes = fields.List(fields.String(), allow_none=True)


class PurposeOut(Schema):
    value = fields.String()
    en = fields.String()
    fr = fields.String()
    description_en = fields.String()
    description_fr = fields.String()
    justification = fields.Boolean()
    forbidden = fields.Boolean(metadata={"description": "Refused for every use (threat 4)."})


class PurposeListOut(Schema):
    purposes = fields.List(fields.Nested(PurposeOut))


class PurposeSwitchIn(Schema):
    purpose = fields.String(
        required=True,
        validate=one_of([p.value for p in Purpose]),
        metadata={
            "description": "A purpose the user's roles may declare: a forbidden purpose, or vital "
            "interest (declared through break-glass only), is refused with 403 and logged."
        },
    )


class PurposeSwitchOut(Schema):
    purpose = fields.String()


class OrgOut(Schema):
    id = fields.UUID()
    slug = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": [k.value for k in OrgKind]})


class OrgListOut(Schema):
    orgs = fields.List(fields.Nested(OrgOut))
