"""Closed enumerations of the data model (stored by value, so values never change once released)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class OrgKind(StrEnum):
    COUNCIL = "council"
    CHARITY = "charity"
    HOUSING_PROVIDER = "housing_provider"
    HEALTH = "health"
    OTHER = "other"


class Role(StrEnum):
    OUTREACH_WORKER = "outreach_worker"
    HOUSING_OFFICER = "housing_officer"
    AUDITOR = "auditor"
    ORG_ADMIN = "org_admin"
    BREAK_GLASS_RESPONDER = "break_glass_responder"
    # Reviews the whole platform's access log (an org's auditor sees its own org's part only).
    PLATFORM_AUDITOR = "platform_auditor"
    # Decides the linkage review queue's grey-zone pairs (evidence only, never identities).
    LINKAGE_REVIEWER = "linkage_reviewer"


class PersonStatus(StrEnum):
    ACTIVE = "active"
    ERASED = "erased"
    MERGED = "merged"  # a pooled person whose subjects linkage moved to an older one


class SubjectStatus(StrEnum):
    ACTIVE = "active"
    ERASED = "erased"
    MERGED = "merged"  # an org merged this record into its other record of the same person


class LinkReason(StrEnum):
    """Why a subject's pooled person changed (link history): codes, never free text."""

    ENROLLED = "enrolled"  # first linked, at registration
    CLUSTER_MERGE = "cluster_merge"  # two pooled persons found to be one
    CLUSTER_SPLIT = "cluster_split"  # a pooled person found to be two or more
    MANUAL_LINK = "manual_link"
    MANUAL_SPLIT = "manual_split"
    OWN_RECORDS_MERGED = "own_records_merged"  # an org merged its two records of one person
    ERASED = "erased"  # the subject left its cluster on erasure


class ReviewStatus(StrEnum):
    """A grey-zone pair of the linkage review queue."""

    OPEN = "open"
    LINKED = "linked"  # the reviewer said: one person
    APART = "apart"  # the reviewer said: two people (never joined again automatically)
    SETTLED = "settled"  # linkage joined or erasure removed a side before anyone decided


class ReviewReason(StrEnum):
    """Why a reviewer decided as they did: codes, never free text (it could name someone)."""

    SAME_PERSON = "same_person"  # the evidence is enough
    CONFIRMED_BY_ORG = "confirmed_by_org"  # a holder confirmed it from what it may see
    DIFFERENT_PEOPLE = "different_people"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"  # kept apart until more is known


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class NeedSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class NeedStatus(StrEnum):
    """open -> in progress -> met / not met / withdrawn (design section 5).

    `identified` is the stored value of "open" (kept: it was released before the lifecycle).
    The former `declined` (the person declined the help) is stored as `withdrawn` since
    migration 0017.
    """

    IDENTIFIED = "identified"  # open
    IN_PROGRESS = "in_progress"
    MET = "met"
    NOT_MET = "not_met"  # the need ended without being met (no place, no service)
    WITHDRAWN = "withdrawn"  # no longer pursued: the person declined or no longer needs it

    @property
    def is_resolved(self) -> bool:
        """Met, not met or withdrawn: the need has its `resolved_at` date."""
        return self in RESOLVED_NEED_STATUSES


RESOLVED_NEED_STATUSES = frozenset({NeedStatus.MET, NeedStatus.NOT_MET, NeedStatus.WITHDRAWN})


class CaseEventKind(StrEnum):
    """A dated change of a case kept as history (case_events): coarse codes only."""

    LIVING_SITUATION = "living_situation"  # from/to: ETHOS codes; detail: the HUD code
    NEED_STATUS = "need_status"  # from/to: NeedStatus values
    NEED_SEVERITY = "need_severity"  # from/to: NeedSeverity values
    CLOSED = "closed"  # to: the CloseReason; detail: the Destination, if any
    REOPENED = "reopened"  # from: the CloseReason it had


class ReferralStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"  # accepted, and its outcome recorded (domain/referrals.py)


class Decision(StrEnum):
    """The outcome of an access, as logged: every field released, none, or some of them."""

    ALLOW = "allow"
    DENY = "deny"
    PARTIAL = "partial"


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    SEARCH = "search"
    ERASE = "erase"
    EXPORT = "export"
    REFER = "refer"
    OVERRIDE_CONSENT = "override_consent"


class LocationLevel(IntEnum):
    """How precisely a place is known; only DISTRICT and coarser are stored in clear."""

    NONE = 0
    CITY = 1  # geohash of 4 characters, about 39 km x 20 km
    DISTRICT = 2  # geohash of 5 characters, about 5 km x 5 km
    STREET = 3  # geohash of 7 characters, about 150 m x 150 m
    EXACT = 4  # the point as recorded

    @property
    def geohash_length(self) -> int | None:
        return _GEOHASH_LENGTH[self]


_GEOHASH_LENGTH: dict[LocationLevel, int | None] = {
    LocationLevel.NONE: 0,
    LocationLevel.CITY: 4,
    LocationLevel.DISTRICT: 5,
    LocationLevel.STREET: 7,
    LocationLevel.EXACT: None,
}


class Purpose(StrEnum):
    """Declared purposes of use (aligned with HL7 purpose-of-use); every read names one."""

    OUTREACH = "outreach"
    CASE_MANAGEMENT = "case_management"
    HOUSING_ALLOCATION = "housing_allocation"
    FOOD_AID = "food_aid"
    AGGREGATE_STATISTICS = "aggregate_statistics"
    AUDIT = "audit"
    VITAL_INTEREST = "vital_interest"  # break-glass
    ENFORCEMENT = "enforcement"
    IMMIGRATION_CONTROL = "immigration_control"
    PUBLIC_ORDER = "public_order"

    @property
    def is_forbidden(self) -> bool:
        """Threat 4: enforcement uses are refused by a platform rule no org policy can override."""
        return self in FORBIDDEN_PURPOSES

    @property
    def is_consentable(self) -> bool:
        """Whether a person can be asked to agree to sharing for this purpose."""
        return self in CONSENTABLE_PURPOSES


FORBIDDEN_PURPOSES = frozenset(
    {Purpose.ENFORCEMENT, Purpose.IMMIGRATION_CONTROL, Purpose.PUBLIC_ORDER}
)
# Purposes a person can be asked to agree to, and so a referral can be made for. Break-glass
# (vital interest), audit and statistics need no consent; enforcement purposes can never be
# consented to (threat 4).
CONSENTABLE_PURPOSES = (
    Purpose.OUTREACH,
    Purpose.CASE_MANAGEMENT,
    Purpose.HOUSING_ALLOCATION,
    Purpose.FOOD_AID,
)


class AlertStatus(StrEnum):
    OPEN = "open"
    JUSTIFIED = "justified"
    ESCALATED = "escalated"
    CLOSED = "closed"
