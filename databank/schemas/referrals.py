"""API schemas for referrals: those an organisation received and sent, and the answers to them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from databank.domain.enums import Purpose, ReferralStatus
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.schemas.common import NEED_CATEGORIES, one_of

STATUSES = [s.value for s in ReferralStatus]
DECLINE_REASONS = [r.value for r in DeclineReason]
OUTCOMES = [o.value for o in ReferralOutcome]


class ReferralQueryIn(Schema):
    status = fields.String(validate=one_of(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class ReachOut(Schema):
    """How to follow the referral up: the person's phone where the referring organisation's
    policy releases their contact details to the caller (the person agreed), else the worker
    who made the referral and their organisation."""

    phone = fields.String(allow_none=True)
    referrer_name = fields.String(attribute="worker_name", allow_none=True)
    referrer_org = fields.String(attribute="org_name")


class _Answer(Schema):
    """The receiver's answer and the waiting times (sent, answered, outcome recorded)."""

    id = fields.UUID()
    purpose = fields.String(metadata={"enum": [p.value for p in Purpose]})
    status = fields.String(metadata={"enum": STATUSES})
    created_at = fields.AwareDateTime(metadata={"description": "When it was sent."})
    responded_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When it was accepted or declined."}
    )
    outcome_at = fields.AwareDateTime(allow_none=True)
    decline_reason = fields.String(allow_none=True, metadata={"enum": DECLINE_REASONS})
    outcome = fields.String(allow_none=True, metadata={"enum": OUTCOMES})


class ReferralOut(_Answer):
    """A referral to the caller's organisation. Its case, need and note (the reason the
    referrer wrote) are null when the referring organisation's policy does not release them
    for the request's purpose."""

    case_id = fields.UUID(allow_none=True)
    from_org = fields.String(metadata={"description": "The referring organisation's slug."})
    from_org_name = fields.String()
    need_category = fields.String(
        attribute="need", allow_none=True, metadata={"enum": NEED_CATEGORIES}
    )
    note = fields.String(allow_none=True)
    contact = fields.Nested(ReachOut, attribute="reach")


class ReferralListOut(Schema):
    referrals = fields.List(fields.Nested(ReferralOut))
    limit = fields.Integer()
    offset = fields.Integer()


class SentReferralOut(_Answer):
    """A referral the caller's organisation made, with the partner's answer."""

    case_id = fields.UUID()
    to_org_name = fields.String()
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    need_category = fields.String(
        attribute="need", allow_none=True, metadata={"enum": NEED_CATEGORIES}
    )


class SentReferralListOut(Schema):
    referrals = fields.List(fields.Nested(SentReferralOut))
    limit = fields.Integer()
    offset = fields.Integer()


class DeclineIn(Schema):
    reason = fields.String(
        required=True, validate=one_of(DECLINE_REASONS), metadata={"example": "no_capacity"}
    )


class OutcomeIn(Schema):
    outcome = fields.String(
        required=True, validate=one_of(OUTCOMES), metadata={"example": "housed"}
    )


class ReferralStateOut(_Answer):
    """The referral after the step: its status, answer and dates."""

    withdrawn_at = fields.AwareDateTime(allow_none=True)
