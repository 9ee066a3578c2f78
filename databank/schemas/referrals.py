"""API schemas for the referrals an organisation received."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from databank.domain.enums import Purpose, ReferralStatus
from databank.schemas.common import NEED_CATEGORIES, one_of

STATUSES = [s.value for s in ReferralStatus]


class ReferralQueryIn(Schema):
    status = fields.String(validate=one_of(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class ReferralOut(Schema):
    """A referral to the caller's organisation. Its case and need are null when the referring
    organisation's policy does not release them for the request's purpose."""

    id = fields.UUID()
    case_id = fields.UUID(allow_none=True)
    from_org = fields.String(metadata={"description": "The referring organisation's slug."})
    from_org_name = fields.String()
    purpose = fields.String(metadata={"enum": [p.value for p in Purpose]})
    status = fields.String(metadata={"enum": STATUSES})
    need_category = fields.String(
        attribute="need", allow_none=True, metadata={"enum": NEED_CATEGORIES}
    )
    created_at = fields.AwareDateTime()


class ReferralListOut(Schema):
    referrals = fields.List(fields.Nested(ReferralOut))
    limit = fields.Integer()
    offset = fields.Integer()
