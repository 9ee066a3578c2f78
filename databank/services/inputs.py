"""What callers hand to the services: plain, validated value objects (schemas build them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from databank.domain import dates
from databank.domain.enums import NeedSeverity, OrgKind, Purpose, Sex
from databank.domain.errors import ValidationFailed
from databank.domain.names import name_key
from databank.domain.vocab import EthosCategory, NeedCategory, ServiceGiven

MAX_NOTE_LENGTH = 2000
MAX_NAME_LENGTH = 100


def _check(errors: dict[str, list[str]], name: str, ok: bool, message: str) -> None:
    if not ok:
        errors.setdefault(name, []).append(message)


def _now() -> datetime:
    return datetime.now(UTC)


def _plausible(errors: dict[str, list[str]], name: str, problem: str | None) -> None:
    if problem is not None:
        errors.setdefault(name, []).append(problem)


def _raise(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        raise ValidationFailed(f"the {what} has invalid fields", errors)


@dataclass(frozen=True)
class Point:
    """A precise location as recorded on the device. Sealed at rest; only its district is clear."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        _check(errors, "lat", -90 <= self.lat <= 90, "must be between -90 and 90")
        _check(errors, "lon", -180 <= self.lon <= 180, "must be between -180 and 180")
        _raise(errors, "location")

    def __repr__(self) -> str:  # a location is personal data: keep it out of logs and tracebacks
        return "Point(<hidden>)"

    def as_text(self) -> str:
        return f"{self.lat:.6f},{self.lon:.6f}"

    @classmethod
    def from_text(cls, text: str) -> Point:
        lat, lon = text.split(",", 1)
        return cls(float(lat), float(lon))


# How a sealed location names an area picked without a point (else it is a point's text).
AREA_PREFIX = "area:"


@dataclass(frozen=True)
class IdentityIn:
    given_name: str
    family_name: str
    birth_date: date
    sex: Sex | None = None
    aliases: Sequence[str] = ()
    birth_place: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        for name in ("given_name", "family_name"):
            value = getattr(self, name).strip()
            _check(errors, name, bool(value), "is required")
            _check(
                errors,
                name,
                not value or bool(name_key(value)),
                "needs at least one letter or digit",
            )
            _check(errors, name, len(value) <= MAX_NAME_LENGTH, f"is longer than {MAX_NAME_LENGTH}")
        today = datetime.now(UTC).date()
        _check(errors, "birth_date", self.birth_date <= today, "is in the future")
        _check(errors, "birth_date", self.birth_date >= dates.EARLIEST_BIRTH, "is before 1900")
        _check(
            errors,
            "phone",
            self.phone is None or len(self.phone) <= 32,
            "is longer than 32 characters",
        )
        _raise(errors, "identity")

    def __repr__(self) -> str:
        return "IdentityIn(<hidden>)"


@dataclass(frozen=True)
class NeedIn:
    category: NeedCategory
    severity: NeedSeverity = NeedSeverity.MEDIUM


@dataclass(frozen=True)
class CaseIn:
    living_situation: EthosCategory = EthosCategory.UNKNOWN
    hud_living_situation: int | None = None
    opened_at: datetime | None = None
    is_minor: bool = False
    is_domestic_abuse_survivor: bool = False
    district: str | None = None  # a geohash of 5 characters (district) or 4 (city)
    # The deployment's area the worker picked (its code), when no point was given: sealed like a
    # point, since an area can be finer than the district cell in clear.
    area: str | None = None
    point: Point | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.opened_at is not None:
            _plausible(errors, "opened_at", dates.plausible_event(self.opened_at, _now()))
        _check_note(errors, "notes", self.notes)
        _check_district(errors, self.district)
        _check_area(errors, self.area)
        _raise(errors, "case")

    def __repr__(self) -> str:
        return "CaseIn(<hidden>)"


@dataclass(frozen=True)
class EncounterIn:
    occurred_at: datetime
    needs: Sequence[NeedIn] = ()
    services_given: Sequence[str] = ()
    district: str | None = None
    point: Point | None = None
    notes: str | None = None
    area: str | None = None  # as CaseIn.area

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        _plausible(errors, "occurred_at", dates.plausible_event(self.occurred_at, _now()))
        _check_note(errors, "notes", self.notes)
        _check_district(errors, self.district)
        _check_area(errors, self.area)
        # Stored in clear, so a closed list: free text here could carry a name.
        known = {s.value for s in ServiceGiven}
        _check(
            errors,
            "services_given",
            all(s in known for s in self.services_given),
            f"use the closed list: {', '.join(sorted(known))}",
        )
        _raise(errors, "encounter")

    def __repr__(self) -> str:
        return "EncounterIn(<hidden>)"


@dataclass(frozen=True)
class ConsentIn:
    purposes: Sequence[Purpose]
    recipient_org_ids: Sequence[uuid.UUID] = ()
    recipient_org_kinds: Sequence[str] = ()
    expires_at: datetime | None = None
    given_at: datetime | None = None

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        _check(errors, "purposes", bool(self.purposes), "name at least one purpose")
        forbidden = [p.value for p in self.purposes if p.is_forbidden]
        _check(errors, "purposes", not forbidden, "enforcement purposes cannot be consented to")
        unasked = [p.value for p in self.purposes if not p.is_forbidden and not p.is_consentable]
        _check(errors, "purposes", not unasked, f"need no consent: {', '.join(unasked)}")
        _check(
            errors,
            "recipients",
            bool(self.recipient_org_ids or self.recipient_org_kinds),
            "name at least one recipient organisation or kind",
        )
        kinds = {k.value for k in OrgKind}
        unknown = sorted(set(self.recipient_org_kinds) - kinds)
        _check(
            errors,
            "recipient_org_kinds",
            not unknown,
            f"unknown organisation kind; use one of: {', '.join(sorted(kinds))}",
        )
        if self.expires_at is not None:
            _plausible(errors, "expires_at", dates.plausible_expiry(self.expires_at, _now()))
        if self.given_at is not None:
            _plausible(errors, "given_at", dates.plausible_event(self.given_at, _now()))
        _raise(errors, "consent")


@dataclass(frozen=True)
class IntakeRecord:
    """A person as one org registers them, optionally with a case, needs and encounters."""

    identity: IdentityIn
    case: CaseIn | None = None
    needs: Sequence[NeedIn] = ()
    encounters: Sequence[EncounterIn] = field(default_factory=tuple)


def _check_note(errors: dict[str, list[str]], name: str, value: str | None) -> None:
    _check(
        errors,
        name,
        value is None or len(value) <= MAX_NOTE_LENGTH,
        f"is longer than {MAX_NOTE_LENGTH} characters",
    )


_GEOHASH = set("0123456789bcdefghjkmnpqrstuvwxyz")


def _check_district(errors: dict[str, list[str]], value: str | None) -> None:
    _check(
        errors,
        "district",
        value is None or (len(value) in (4, 5) and set(value) <= _GEOHASH),
        "must be a district or city geohash (4 or 5 characters)",
    )


# An area code is an areas file's short identifier (areas_file.py), never free text.
_AREA_CODE = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _check_area(errors: dict[str, list[str]], value: str | None) -> None:
    _check(
        errors,
        "area",
        value is None or (0 < len(value) <= 40 and set(value) <= _AREA_CODE),
        "must be the code of one of the deployment's areas",
    )


# A change recorded later than it happened (a worker back at the office, an import, the demo's
# history) may say when it happened; a little clock skew between a phone and the server is let be.
_SKEW_SECONDS = 300


def when_happened(at: datetime | None, not_before: datetime, field: str = "at") -> datetime:
    """The time a change happened: now when not given; else given with its time zone, not in the
    future and not before `not_before` (the case's opening, the referral's sending)."""
    now = _now()
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationFailed("the time has no time zone", {field: ["give a time zone"]})
    if (at - now).total_seconds() > _SKEW_SECONDS:
        raise ValidationFailed("the time is in the future", {field: ["cannot be in the future"]})
    if at < not_before:
        raise ValidationFailed(
            "the time is too early", {field: ["cannot be before the case opened or was sent"]}
        )
    return at
