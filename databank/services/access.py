"""The single policy enforcement point: every read and write of case data is decided and logged.

Today's rule is a placeholder (an organisation reaches its own records only, enforcement purposes
are always refused); the policy issue replaces `decide` with Cedar policies, callers unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from databank.domain.enums import Action, Decision, Purpose, Role
from databank.domain.errors import PermissionDenied, ValidationFailed
from databank.services import audit_log
from databank.services.actors import Actor

# Which roles may attempt each action at all. Auditors never read case content (design section 1).
_ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN}),
    Action.SEARCH: frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN}),
    Action.CREATE: frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN}),
    Action.UPDATE: frozenset({Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN}),
    Action.ERASE: frozenset({Role.ORG_ADMIN}),
    Action.EXPORT: frozenset({Role.ORG_ADMIN}),
}


@dataclass(frozen=True)
class Resource:
    """What is being reached: pseudonymous ids only."""

    record_type: str
    record_id: uuid.UUID | None
    owner_org_id: uuid.UUID
    person_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    rule: str
    fields: tuple[str, ...] = ()


def parse_purpose(value: str | Purpose | None) -> Purpose:
    """A declared purpose from the closed vocabulary; anything else is refused, naming options."""
    if isinstance(value, Purpose):
        return value
    try:
        return Purpose(value or "")
    except ValueError:
        valid = ", ".join(p.value for p in Purpose)
        raise ValidationFailed(
            "unknown purpose", {"purpose": [f"must be one of: {valid}"]}
        ) from None


def decide(actor: Actor, action: Action, purpose: Purpose, resource: Resource) -> AccessDecision:
    """The placeholder policy. Pure: no session, no side effect."""
    if purpose.is_forbidden:
        # Threat 4: no organisation, not even the owner, may use the data for enforcement.
        return AccessDecision(False, "platform.forbidden_purpose")
    if actor.roles.isdisjoint(_ACTION_ROLES[action]):
        return AccessDecision(False, "platform.role_not_permitted")
    if resource.owner_org_id != actor.org_id:
        return AccessDecision(False, "placeholder.not_owner")
    return AccessDecision(True, "placeholder.owner")


def authorize(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resource: Resource,
    fields: Sequence[str] = (),
    result_count: int | None = None,
) -> AccessDecision:
    """Decide, log the decision in the same transaction, and raise if it was a refusal."""
    return authorize_many(session, actor, action, purpose, [resource], fields, result_count)[0]


def authorize_many(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resources: Sequence[Resource],
    fields: Sequence[str] = (),
    result_count: int | None = None,
) -> list[AccessDecision]:
    """One decision and one log entry per resource; raises PermissionDenied if any is refused.

    Denials are logged too, and the log entries are committed by the caller even when the
    request fails, so that a refused attempt leaves its trace (see `record_denials`).
    """
    decisions = [decide(actor, action, purpose, r) for r in resources]
    entries = [
        audit_log.EntryIn(
            event=f"access.{action.value}",
            record_type=r.record_type,
            record_id=r.record_id,
            owner_org_id=r.owner_org_id,
            person_id=r.person_id,
            purpose=purpose.value,
            decision=(Decision.ALLOW if d.allowed else Decision.DENY).value,
            rule=d.rule,
            fields_released=tuple(fields) if d.allowed else (),
            fields_withheld=() if d.allowed else tuple(fields),
            result_count=result_count,
        )
        for r, d in zip(resources, decisions, strict=True)
    ]
    denied = [d for d in decisions if not d.allowed]
    if denied:
        raise AccessRefused(entries, actor)
    audit_log.append(session, actor, entries)
    return decisions


class AccessRefused(PermissionDenied):
    """A refusal whose log entries must survive the rollback of the failed request."""

    def __init__(self, entries: list[audit_log.EntryIn], actor: Actor) -> None:
        super().__init__("you are not allowed to do this with this record for this purpose")
        self.entries = entries
        self.actor = actor


def record_denial(session: Session, refusal: AccessRefused) -> None:
    """Write the entries of a refused access (called by the interface after rolling back)."""
    audit_log.append(session, refusal.actor, refusal.entries)
