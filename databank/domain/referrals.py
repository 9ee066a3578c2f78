"""A referral's life: the answers a receiving organisation gives, as closed vocabularies, and
the status changes allowed. Codes only, stored in clear: free text could carry a name."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from databank.domain.enums import ReferralStatus


class DeclineReason(StrEnum):
    """Why the receiving organisation declined a referral."""

    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_AREA = "out_of_area"
    PERSON_DECLINED = "person_declined"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ReferralOutcome(StrEnum):
    """What came of an accepted referral, as the receiving organisation records it."""

    PLACE_OFFERED = "place_offered"
    HOUSED = "housed"
    SHELTERED = "sheltered"
    SERVICE_PROVIDED = "service_provided"
    NO_CAPACITY = "no_capacity"
    PERSON_DECLINED = "person_declined"
    LOST_CONTACT = "lost_contact"
    OTHER = "other"


class ReferralStep(StrEnum):
    """What is done to a referral: by the receiver (accept, decline, outcome) or the referrer."""

    ACCEPT = "accept"
    DECLINE = "decline"
    OUTCOME = "outcome"
    WITHDRAW = "withdraw"


# Which status each step starts from and leads to: pending -> accepted | declined | withdrawn;
# accepted -> completed (its outcome recorded). Any other change is a conflict.
TRANSITIONS: Mapping[ReferralStep, tuple[ReferralStatus, ReferralStatus]] = MappingProxyType(
    {
        ReferralStep.ACCEPT: (ReferralStatus.PENDING, ReferralStatus.ACCEPTED),
        ReferralStep.DECLINE: (ReferralStatus.PENDING, ReferralStatus.DECLINED),
        ReferralStep.WITHDRAW: (ReferralStatus.PENDING, ReferralStatus.WITHDRAWN),
        ReferralStep.OUTCOME: (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED),
    }
)
# Steps the receiving organisation takes; the referring organisation only withdraws.
RECEIVER_STEPS = frozenset({ReferralStep.ACCEPT, ReferralStep.DECLINE, ReferralStep.OUTCOME})
