"""Every role rule that is not in Cedar, declared once: who audits and what, who administers
accounts, who must use two factors, who may be invited, and which purposes each role declares."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache

from databank.domain.enums import Purpose, Role
from databank.services.actors import Actor

# Auditors read the access log and review alerts; they never read case content.
AUDITORS = frozenset({Role.AUDITOR, Role.PLATFORM_AUDITOR})
# Staff accounts of an organisation are managed by its admins (and an operator at the CLI).
ACCOUNT_ADMINS = frozenset({Role.ORG_ADMIN})
# Platform accounts: attached to an organisation, but outside its admins' control (an org admin
# who could reset or deactivate the platform's auditors could blind them).
PLATFORM_ROLES = frozenset({Role.PLATFORM_AUDITOR, Role.LINKAGE_REVIEWER})
# They decide the linkage review queue's grey-zone pairs, from evidence only (no identities).
LINKAGE_REVIEWERS = frozenset({Role.LINKAGE_REVIEWER})
# Roles that work with people's records: their home page is the caseload. Others (auditors,
# linkage reviewers) start on their own section: the caseload would only refuse them, and each
# refusal is a logged denial at every sign-in.
CASE_WORKERS = frozenset(
    {Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN, Role.BREAK_GLASS_RESPONDER}
)
# Who may read the anonymised statistics (counts with disclosure control, never a list of people).
STATISTICS_READERS = frozenset({Role.HOUSING_OFFICER, Role.ORG_ADMIN})
# Who may read an organisation's policy text and its effect on partners.
POLICY_READERS = frozenset({Role.ORG_ADMIN, Role.AUDITOR})
# Only they may open a break-glass window (and the policy still decides what it releases).
BREAK_GLASS_RESPONDERS = frozenset({Role.BREAK_GLASS_RESPONDER})

# Roles whose holders must sign in with a second factor; outreach workers may opt in.
TWO_FACTOR_REQUIRED = frozenset(
    {
        Role.AUDITOR,
        Role.PLATFORM_AUDITOR,
        Role.HOUSING_OFFICER,
        Role.ORG_ADMIN,
        Role.LINKAGE_REVIEWER,
    }
)
# Roles an org admin may give through an invitation. A platform auditor is a platform role,
# created by an operator at the command line, never by an organisation.
INVITABLE_ROLES = (
    Role.OUTREACH_WORKER,
    Role.HOUSING_OFFICER,
    Role.AUDITOR,
    Role.ORG_ADMIN,
    Role.BREAK_GLASS_RESPONDER,
)

# The purpose preselected for a session, by role (the first role in the enum's order that has
# one); the user can switch, and every access records the purpose declared.
DEFAULT_PURPOSE = {
    Role.OUTREACH_WORKER: Purpose.OUTREACH,
    Role.HOUSING_OFFICER: Purpose.CASE_MANAGEMENT,
    Role.ORG_ADMIN: Purpose.CASE_MANAGEMENT,
    Role.AUDITOR: Purpose.AUDIT,
    Role.BREAK_GLASS_RESPONDER: Purpose.OUTREACH,
    Role.PLATFORM_AUDITOR: Purpose.AUDIT,
    Role.LINKAGE_REVIEWER: Purpose.AUDIT,
}
# Purposes a session or a token may declare at all: forbidden ones never, vital interest only
# through break-glass.
SESSION_PURPOSES = tuple(
    p for p in Purpose if not p.is_forbidden and p is not Purpose.VITAL_INTEREST
)
_CONTENT = tuple(p for p in SESSION_PURPOSES if p.is_consentable)  # work with people
# What each role may declare. Auditors audit (and never read case content); statistics are for
# those who plan (housing officers, org admins); an outreach worker cannot declare "audit" or
# "statistics" to read their own org's records under another label.
ROLE_PURPOSES: dict[Role, tuple[Purpose, ...]] = {
    Role.OUTREACH_WORKER: _CONTENT,
    Role.HOUSING_OFFICER: (*_CONTENT, Purpose.AGGREGATE_STATISTICS),
    Role.ORG_ADMIN: (*_CONTENT, Purpose.AGGREGATE_STATISTICS),
    Role.BREAK_GLASS_RESPONDER: (Purpose.OUTREACH, Purpose.CASE_MANAGEMENT),
    Role.AUDITOR: (Purpose.AUDIT,),
    Role.PLATFORM_AUDITOR: (Purpose.AUDIT,),
    # Reviewing linkage is oversight of the pool: it releases no case content.
    Role.LINKAGE_REVIEWER: (Purpose.AUDIT,),
}


def requires_two_factor(roles: Iterable[Role]) -> bool:
    """Whether a user with these roles must sign in with two factors."""
    return not TWO_FACTOR_REQUIRED.isdisjoint(roles)


def org_managed(roles: Iterable[Role]) -> bool:
    """Whether an org admin may manage an account with these roles (no platform account)."""
    return PLATFORM_ROLES.isdisjoint(roles)


def default_purpose(roles: Iterable[Role]) -> Purpose:
    """The purpose preselected for these roles."""
    held = frozenset(roles)
    for role in Role:
        if role in held:
            return DEFAULT_PURPOSE[role]
    return Purpose.CASE_MANAGEMENT


def declarable_purposes(roles: Iterable[Role]) -> tuple[Purpose, ...]:
    """The purposes a holder of these roles may declare, in the vocabulary's order."""
    return _declarable(frozenset(roles))


@lru_cache(maxsize=64)  # asked on every access; there are few sets of roles
def _declarable(held: frozenset[Role]) -> tuple[Purpose, ...]:
    allowed = {p for role in held for p in ROLE_PURPOSES.get(role, ())}
    return tuple(p for p in SESSION_PURPOSES if p in allowed)


def audit_scope(actor: Actor) -> uuid.UUID | None:
    """Whose part of the log an auditor sees: None for a platform auditor (all of it), else
    their organisation (entries about its records or by its users)."""
    return None if Role.PLATFORM_AUDITOR in actor.roles else actor.org_id
