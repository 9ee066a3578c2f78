"""The vocabulary of a policy question and its answer: fields, actions, facts and decisions."""

from __future__ import annotations

from dataclasses import dataclass

from databank.domain.vocab import NeedCategory

# The parts of a case a decision is about; a release is decided field by field.
FIELDS: tuple[str, ...] = (
    "identity",
    "contact",
    "status",
    "living_situation",
    "flags",
    "needs",
    "health",
    "notes",
    "encounters",
    "location",
    "referrals",
    "consents",
)
LOCATION_FIELD = "location"
# Needs in these categories are health data: released only with the "health" field, never with
# "needs" (an owner's policy can share food needs without sharing an addiction).
HEALTH_NEEDS = frozenset({NeedCategory.HEALTH, NeedCategory.MENTAL_HEALTH, NeedCategory.ADDICTION})


def need_field(category: NeedCategory | str | None) -> str:
    """The case field that releases a need of this category: "health" or "needs"."""
    return "health" if category in HEALTH_NEEDS else "needs"


# override_consent: referring a case without the person's consent to that partner and purpose.
ACTIONS: tuple[str, ...] = (
    "read",
    "create",
    "update",
    "erase",
    "export",
    "refer",
    "override_consent",
    "contribute",
)
# The location levels a release tries, finest first (LocationLevel EXACT, STREET, DISTRICT, CITY).
LOCATION_LEVELS: tuple[int, ...] = (4, 3, 2, 1)
DEFAULT_DENY = "default.deny"
# A Cedar evaluation error could hide a forbid rule that did not run: such a decision is a refusal.
ENGINE_ERROR = "engine.error"


@dataclass(frozen=True)
class Principal:
    """Who asks: the user, their organisation (and its kind) and their roles."""

    user_id: str
    org: str
    org_kind: str
    roles: frozenset[str]


# Who asks whether an organisation's cases are counted in the pooled statistics (action
# "contribute"): the statistics service itself, an organisation of no one.
STATISTICS_ORG = "statistics"


def statistics_principal() -> Principal:
    return Principal("statistics", STATISTICS_ORG, "other", frozenset())


@dataclass(frozen=True)
class CaseFacts:
    """What the policies may know of a case: its owner and its protection flags, nothing else."""

    owner: str
    owner_kind: str
    is_minor: bool = False
    is_domestic_abuse_survivor: bool = False


@dataclass(frozen=True)
class Situation:
    """Why and under what sharing facts: the declared purpose, consent, referral, break-glass."""

    purpose: str
    consent: bool = False
    referred: bool = False
    break_glass: bool = False
    justification: bool = False


@dataclass(frozen=True)
class FieldDecision:
    """One decision; `rules` are the @id values of the deciding rules ("default.deny" if none)."""

    allowed: bool
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """What may be shown of a case: the released and withheld fields and the location precision."""

    allowed: frozenset[str]
    withheld: frozenset[str]
    location_level: int
    rules: tuple[str, ...]


class PolicyError(Exception):
    """A policies directory that cannot be used; `file` is the offending file, relative to it."""

    def __init__(self, file: str | None, message: str) -> None:
        super().__init__(f"{file}: {message}" if file else message)
        self.file = file
        self.message = message
