"""API operations on referrals: those received and sent, and the steps of the workflow (accept,
decline with a reason, record the outcome, withdraw). Each step is decided for the referral's
purpose and logged; a wrong step for the referral's status is a 409."""

from __future__ import annotations

import uuid
from typing import Any

from databank.domain.enums import ReferralStatus
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.models import Referral
from databank.schemas.referrals import (
    DeclineIn,
    OutcomeIn,
    ReferralListOut,
    ReferralQueryIn,
    ReferralStateOut,
    SentReferralListOut,
)
from databank.services.records import referrals
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db

_STEP_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


@operation(
    "/referrals/received",
    summary="Referrals received",
    tag="referrals",
    scope="referrals:read",
    query=ReferralQueryIn,
    response=ReferralListOut,
    errors=(401, 403, 422),
)
def referrals_received(q: dict[str, Any]) -> dict[str, Any]:
    """Referrals partners sent to the caller's organisation, newest first, with the answer
    given and the waiting times; the case, the need, the reason the referrer wrote and the
    person's contact details as the referring organisation's policy releases them for the
    request's purpose (else the referring worker to contact). The same list as the web page."""
    who = caller()
    status = ReferralStatus(q["status"]) if "status" in q else None
    found = referrals.received(db(), who.actor, who.purpose, status, q["limit"], q["offset"])
    return {"referrals": found, "limit": q["limit"], "offset": q["offset"]}


@operation(
    "/referrals/sent",
    summary="Referrals sent",
    tag="referrals",
    scope="referrals:read",
    query=ReferralQueryIn,
    response=SentReferralListOut,
    errors=(401, 403, 422),
)
def referrals_sent(q: dict[str, Any]) -> dict[str, Any]:
    """Referrals the caller's organisation made, newest first, with each partner's answer
    (status, decline reason, outcome) and the waiting times."""
    who = caller()
    status = ReferralStatus(q["status"]) if "status" in q else None
    found = referrals.sent(db(), who.actor, who.purpose, status, q["limit"], q["offset"])
    return {"referrals": found, "limit": q["limit"], "offset": q["offset"]}


@operation(
    "/referrals/<uuid:referral_id>/accept",
    "POST",
    summary="Accept a referral received",
    tag="referrals",
    scope="referrals:write",
    response=ReferralStateOut,
    errors=_STEP_ERRORS,
)
def accept_referral(referral_id: uuid.UUID) -> Referral:
    """Take up a pending referral made to the caller's organisation (decided for the
    referral's purpose, whatever the request declared)."""
    who = caller()
    return referrals.accept(db(), who.actor, referral_id)


@operation(
    "/referrals/<uuid:referral_id>/decline",
    "POST",
    summary="Decline a referral received",
    tag="referrals",
    scope="referrals:write",
    body=DeclineIn,
    response=ReferralStateOut,
    errors=_STEP_ERRORS,
)
def decline_referral(data: dict[str, Any], referral_id: uuid.UUID) -> Referral:
    """Decline a pending referral made to the caller's organisation, with a reason code."""
    who = caller()
    return referrals.decline(db(), who.actor, referral_id, DeclineReason(data["reason"]))


@operation(
    "/referrals/<uuid:referral_id>/outcome",
    "POST",
    summary="Record the outcome of a referral",
    tag="referrals",
    scope="referrals:write",
    body=OutcomeIn,
    response=ReferralStateOut,
    errors=_STEP_ERRORS,
)
def referral_outcome(data: dict[str, Any], referral_id: uuid.UUID) -> Referral:
    """Record what came of an accepted referral (once); the referral is then completed and no
    longer opens the case to the caller's organisation."""
    who = caller()
    return referrals.record_outcome(db(), who.actor, referral_id, ReferralOutcome(data["outcome"]))


@operation(
    "/referrals/<uuid:referral_id>/withdraw",
    "POST",
    summary="Withdraw a referral sent",
    tag="referrals",
    scope="referrals:write",
    response=ReferralStateOut,
    errors=_STEP_ERRORS,
)
def withdraw_referral(referral_id: uuid.UUID) -> Referral:
    """Withdraw a pending referral the caller's organisation made: the case is no longer open
    to the partner through it."""
    who = caller()
    return referrals.withdraw(db(), who.actor, referral_id)
