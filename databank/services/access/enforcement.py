"""The single policy enforcement point: every read and write of case data is decided and logged.

Decisions come from the organisations' Cedar policies (`databank.policy`); this module gathers the
facts they rest on (who asks, whose record, consent, referral, break-glass), asks for one decision
per field, logs the outcome in the caller's transaction, and refuses when nothing is released.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NoReturn

from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, Decision, Purpose, Role
from databank.domain.errors import BadRequest, PermissionDenied
from databank.models import Case
from databank.policy import CaseFacts, Explanation, Principal, Release, Situation
from databank.services import auditlog
from databank.services.access import roles, sharing
from databank.services.access.directory import orgs_of
from databank.services.actors import Actor
from databank.services.context import policy_of

# The field a decision is made on when an action concerns the record as a whole.
WHOLE_RECORD = "status"
# A search is a read of the identifiers searched on.
_POLICY_ACTION = {Action.SEARCH: "read"}


@dataclass(frozen=True)
class Resource:
    """What is being reached: pseudonymous ids and the coarse facts policies may use."""

    record_type: RecordType
    record_id: uuid.UUID | None
    owner_org_id: uuid.UUID
    person_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    is_minor: bool = False
    is_domestic_abuse_survivor: bool = False
    area: str | None = None  # the case's district, logged with location reads (sweep alerts)

    @classmethod
    def of_case(cls, case: Case) -> Resource:
        return cls(
            RecordType.CASE,
            case.id,
            case.org_id,
            case.person_id,
            case_id=case.id,
            is_minor=case.is_minor,
            is_domestic_abuse_survivor=case.is_domestic_abuse_survivor,
            area=case.area_geohash[:5] if case.area_geohash else None,
        )


@dataclass(frozen=True)
class Grant:
    """What one decision released: fields, the finest location level, and why."""

    release: Release
    break_glass: bool

    @property
    def fields(self) -> frozenset[str]:
        return self.release.allowed

    @property
    def location_level(self) -> int:
        return self.release.location_level

    def has(self, field: str) -> bool:
        return field in self.release.allowed


def parse_purpose(value: str | Purpose | None) -> Purpose:
    """A declared purpose from the closed vocabulary; anything else is refused, naming options."""
    if isinstance(value, Purpose):
        return value
    try:
        return Purpose(value or "")
    except ValueError:
        valid = ", ".join(p.value for p in Purpose)
        raise BadRequest("unknown purpose", {"purpose": [f"must be one of: {valid}"]}) from None


class AccessRefused(PermissionDenied):
    """A refusal whose log entries must survive the rollback of the failed request."""

    def __init__(self, entries: list[auditlog.EntryIn], actor: Actor) -> None:
        super().__init__("you are not allowed to do this with this record for this purpose")
        self.entries = entries
        self.actor = actor


def record_denial(session: Session, refusal: AccessRefused) -> None:
    """Write the entries of a refused access (called by the interface after rolling back)."""
    auditlog.append(session, refusal.actor, refusal.entries)


def principal_of(session: Session, actor: Actor) -> Principal:
    org = orgs_of(session).get(session, actor.org_id)
    return Principal(
        user_id=str(actor.user_id),
        org=org.slug,
        org_kind=org.kind.value,
        roles=frozenset(r.value for r in actor.roles),
    )


@dataclass(frozen=True)
class _Shared:
    """Sharing facts for a batch of resources, looked up with one query each (not per row)."""

    consented: frozenset[tuple[uuid.UUID, uuid.UUID]]  # (person, owner org)
    referred: frozenset[uuid.UUID]  # case ids
    break_glass: frozenset[uuid.UUID]  # person ids under an open break-glass window


def _shared(
    session: Session, actor: Actor, purpose: Purpose, resources: Sequence[Resource]
) -> _Shared:
    """Only the resources the actor does not own need facts; owners' reads cost no query."""
    foreign = [r for r in resources if r.owner_org_id != actor.org_id and r.person_id is not None]
    if not foreign:
        return _Shared(frozenset(), frozenset(), frozenset())
    people = {r.person_id for r in foreign if r.person_id is not None}
    consented = sharing.consented_pairs(session, people, actor.org_id, actor.org_kind, purpose)
    cases = {r.case_id for r in foreign if r.case_id is not None}
    referred = sharing.referred_cases(session, cases, actor.org_id, purpose)
    glass: set[uuid.UUID] = set()
    if Role.BREAK_GLASS_RESPONDER in actor.roles and purpose is Purpose.VITAL_INTEREST:
        glass = sharing.break_glass_people(session, actor.user_id, people)
    return _Shared(frozenset(consented), frozenset(referred), frozenset(glass))


def _situation(
    actor: Actor, purpose: Purpose, resource: Resource, justification: bool, shared: _Shared
) -> tuple[Situation, bool]:
    """The sharing facts of one request; only the non-owner ones come from the shared facts."""
    if resource.owner_org_id == actor.org_id or resource.person_id is None:
        return Situation(purpose.value, justification=justification), False
    break_glass = resource.person_id in shared.break_glass
    situation = Situation(
        purpose.value,
        consent=(resource.person_id, resource.owner_org_id) in shared.consented,
        referred=resource.case_id in shared.referred,
        break_glass=break_glass,
        justification=justification or break_glass,
    )
    return situation, break_glass


def _facts(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    resource: Resource,
    justification: bool,
    shared: _Shared,
) -> tuple[CaseFacts, Situation, bool]:
    owner = orgs_of(session).get(session, resource.owner_org_id)
    case = CaseFacts(
        owner=owner.slug,
        owner_kind=owner.kind.value,
        is_minor=resource.is_minor,
        is_domestic_abuse_survivor=resource.is_domestic_abuse_survivor,
    )
    situation, break_glass = _situation(actor, purpose, resource, justification, shared)
    return case, situation, break_glass


def explain(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resource: Resource,
    field: str,
    location_level: int = 0,
) -> Explanation:
    """The decision and the rules behind it, from the same facts a real access would use."""
    shared = _shared(session, actor, purpose, [resource])
    case, situation, _ = _facts(session, actor, purpose, resource, False, shared)
    return policy_of(session).explain(
        principal_of(session, actor),
        _POLICY_ACTION.get(action, action.value),
        case,
        situation,
        field,
        location_level,
    )


def authorize(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resource: Resource,
    fields: Sequence[str] = (WHOLE_RECORD,),
    result_count: int | None = None,
) -> Grant:
    """Decide each field, log the outcome in the same transaction, raise if nothing is released."""
    return authorize_many(session, actor, action, purpose, [resource], fields, result_count)[0]


def authorize_many(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resources: Sequence[Resource],
    fields: Sequence[str] = (WHOLE_RECORD,),
    result_count: int | None = None,
    justification: bool = False,
    partial_ok: bool = False,
    listing: bool = False,
) -> list[Grant]:
    """One decision and one log entry per resource; raises AccessRefused if any is refused.

    With `partial_ok` (a page's sections), refused resources are logged as omitted and left out
    by the caller instead; with `listing` (the lines of a list), the same, and the lines shown
    are logged as list lines (`AuditEvent.ACCESS_LIST`).

    Denials are logged too: the refusal carries its entries, and the interface writes them after
    rolling the failed request back (Runtime.transaction, the web layer).
    """
    grants, entries = _decide(
        session, actor, action, purpose, resources, fields, justification, result_count
    )
    if not (partial_ok or listing) and any(not g.release.allowed for g in grants):
        raise AccessRefused(entries, actor)
    if listing:
        entries = [_as_line(e) for e in entries]
    elif partial_ok:  # the caller leaves refused resources out of its section
        entries = [_omitted(e) for e in entries]
    auditlog.append(session, actor, entries)
    return grants


@dataclass(frozen=True)
class Decided:
    """A decision not yet logged, with the entry that will record it (see `decide_many`)."""

    grant: Grant
    entry: auditlog.EntryIn


def decide_many(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resources: Sequence[Resource],
    fields: Sequence[str] = (WHOLE_RECORD,),
) -> list[Decided]:
    """The decisions `authorize_many` would make, not logged yet: nothing is released.

    For choosing which rows of a list the caller may be shown (a filter or a page may only depend
    on what the policy releases); the decisions of the rows read are then logged with `record`,
    before anything of them is returned.
    """
    grants, entries = _decide(session, actor, action, purpose, resources, fields, False, None)
    return [Decided(g, e) for g, e in zip(grants, entries, strict=True)]


def record(
    session: Session, actor: Actor, decided: Sequence[Decided], result_count: int | None
) -> None:
    """Log decisions made by `decide_many` for the lines of a list (no log, no data): a line
    shown as a list line, a refused one as omitted from the list."""
    entries = [_as_line(replace(d.entry, result_count=result_count)) for d in decided]
    auditlog.append(session, actor, entries)


def _as_line(entry: auditlog.EntryIn) -> auditlog.EntryIn:
    """A read decision on a list's line: shown (`ACCESS_LIST`) or left out (`ACCESS_OMITTED`)."""
    if entry.event is AuditEvent.ACCESS_READ and entry.decision is not Decision.DENY:
        return replace(entry, event=AuditEvent.ACCESS_LIST)
    return _omitted(entry)


def _omitted(entry: auditlog.EntryIn) -> auditlog.EntryIn:
    """A refused decision of a list's row or a page's section: the record was left out, not
    asked for (`AuditEvent.ACCESS_OMITTED`); allowed and partial ones stay as they are."""
    if entry.decision is Decision.DENY and entry.event is AuditEvent.ACCESS_READ:
        return replace(entry, event=AuditEvent.ACCESS_OMITTED)
    return entry


def _decide(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    resources: Sequence[Resource],
    fields: Sequence[str],
    justification: bool,
    result_count: int | None,
) -> tuple[list[Grant], list[auditlog.EntryIn]]:
    """One decision per resource, with the log entry that records it."""
    if not isinstance(purpose, Purpose):
        # Purposes are parsed at the edge (web, API, CLI): a raw string here is a caller's bug.
        raise TypeError("authorize takes a Purpose, parsed at the edge")
    _require_purpose_of_role(actor, action, purpose, resources)
    engine = policy_of(session)
    principal = principal_of(session, actor)
    grants: list[Grant] = []
    entries: list[auditlog.EntryIn] = []
    shared = _shared(session, actor, purpose, resources)
    for resource in resources:
        case, situation, break_glass = _facts(
            session, actor, purpose, resource, justification, shared
        )
        release = engine.release(
            principal, _POLICY_ACTION.get(action, action.value), case, situation, fields
        )
        grants.append(Grant(release, break_glass))
        if not release.allowed:
            decision = Decision.DENY
        elif release.withheld:
            decision = Decision.PARTIAL
        else:
            decision = Decision.ALLOW
        entries.append(
            auditlog.EntryIn(
                event=AuditEvent.access(action),
                record_type=resource.record_type,
                record_id=resource.record_id,
                owner_org_id=resource.owner_org_id,
                person_id=resource.person_id,
                purpose=purpose.value,
                decision=decision,
                rule=",".join(release.rules),
                fields_released=sorted(release.allowed),
                fields_withheld=sorted(release.withheld),
                result_count=result_count,
                location_level=release.location_level if "location" in fields else None,
                area=resource.area if release.location_level else None,
                break_glass=break_glass,
            )
        )
    return grants, entries


def _require_purpose_of_role(
    actor: Actor, action: Action, purpose: Purpose, resources: Sequence[Resource]
) -> None:
    """Each role reads only for the purposes it may declare (roles.ROLE_PURPOSES): an outreach
    worker's "audit" or "statistics" is refused, once, logged. Forbidden purposes and vital
    interest go on to the policy, which refuses or permits them with their own rules (and
    alerts)."""
    if purpose.is_forbidden or purpose is Purpose.VITAL_INTEREST:
        return
    if purpose in roles.declarable_purposes(actor.roles):
        return
    owners = {r.owner_org_id for r in resources}
    entry = auditlog.EntryIn(
        event=AuditEvent.access(action),
        record_type=resources[0].record_type if len(resources) == 1 else None,
        record_id=resources[0].record_id if len(resources) == 1 else None,
        owner_org_id=owners.pop() if len(owners) == 1 else None,
        person_id=resources[0].person_id if len(resources) == 1 else None,
        purpose=purpose.value,
        decision=Decision.DENY,
        rule="platform.purpose_not_for_role",
        result_count=len(resources),
    )
    raise AccessRefused([entry], actor)


def _refuse(
    actor: Actor, event: AuditEvent, owner: uuid.UUID | None, rule: str, purpose: str | None = None
) -> NoReturn:
    """Refuse a gate's request; the refusal's entry is written after the rollback."""
    entry = auditlog.EntryIn(
        event=event, owner_org_id=owner, purpose=purpose, decision=Decision.DENY, rule=rule
    )
    raise AccessRefused([entry], actor)


def check_break_glass_responder(actor: Actor) -> None:
    """Only a break-glass responder may open a break-glass window (a refusal is logged)."""
    if actor.roles.isdisjoint(roles.BREAK_GLASS_RESPONDERS):
        _refuse(
            actor,
            AuditEvent.BREAK_GLASS_START,
            actor.org_id,
            "platform.break_glass_role",
            Purpose.VITAL_INTEREST.value,
        )


def require_any_role(actor: Actor, allowed: Iterable[Role], event: AuditEvent) -> None:
    """For pages that show no case data (policy text, later the audit console): role-gated here."""
    if actor.roles.isdisjoint(allowed):
        _refuse(actor, event, actor.org_id, "platform.role_not_permitted")


def require_account_admin(
    session: Session, actor: Actor, org_id: uuid.UUID, event: AuditEvent
) -> None:
    """Staff accounts are managed by an org admin, of their own organisation only (refusals logged).

    Invitations, deactivation, two-factor resets and the staff list all ask here.
    """
    require_any_role(actor, roles.ACCOUNT_ADMINS, event)
    if org_id != actor.org_id:
        _refuse(actor, event, org_id, "platform.accounts_of_other_org")


def require_account_manager(
    session: Session,
    actor: Actor,
    target_org_id: uuid.UUID,
    target_roles: Iterable[Role],
    event: AuditEvent,
) -> None:
    """An org admin manages a staff account of their own organisation, never a platform
    account attached to it (refusals logged)."""
    require_account_admin(session, actor, target_org_id, event)
    if not roles.org_managed(target_roles):
        _refuse(actor, event, target_org_id, "platform.platform_account")
