"""What an org admin sees of their org's policy: its text, and its effect on partners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import Action, LocationLevel, Purpose, Role
from databank.domain.errors import NotFound
from databank.models import Case
from databank.policy import CaseFacts, Explanation, OrgMeta, Principal, Situation
from databank.services import access
from databank.services.access import roles
from databank.services.access.directory import orgs_of
from databank.services.accounts import staff
from databank.services.actors import Actor
from databank.services.context import policy_of
from databank.services.records.cases import CASE_FIELDS

# A partner's staff as the sample principal: the content roles a partner's case worker has.
SAMPLE_ROLES = frozenset({Role.OUTREACH_WORKER.value, Role.HOUSING_OFFICER.value})


@dataclass(frozen=True)
class PartnerRow:
    partner: str
    consent: bool
    fields: frozenset[str]
    location: str


@dataclass(frozen=True)
class PolicySummary:
    org_name: str
    meta: OrgMeta | None
    policy_version: str
    purpose: str
    source: str
    rows: tuple[PartnerRow, ...]


def org_policy(session: Session, actor: Actor, purpose: Purpose) -> PolicySummary:
    """Read-only; for the org's admins and auditors. Shows decisions, never case data."""
    access.require_any_role(actor, roles.POLICY_READERS, AuditEvent.POLICY_VIEW)
    engine = policy_of(session)
    own = orgs_of(session).get(session, actor.org_id)
    case = CaseFacts(owner=own.slug, owner_kind=own.kind.value)
    rows = []
    for slug, meta in sorted(engine.bundle.orgs.items()):
        if slug == own.slug:
            continue
        partner = Principal("sample", slug, meta.kind, SAMPLE_ROLES)
        for consent in (False, True):
            release = engine.release(
                partner, "read", case, Situation(purpose.value, consent=consent), CASE_FIELDS
            )
            level = LocationLevel(release.location_level)
            rows.append(PartnerRow(slug, consent, release.allowed, level.name.lower()))
    own_meta = engine.bundle.orgs.get(own.slug)
    return PolicySummary(
        org_name=own_meta.name if own_meta else own.slug,
        meta=own_meta,
        policy_version=engine.version,
        purpose=purpose.value,
        source=engine.bundle.source_of(own.slug),
        rows=tuple(rows),
    )


def explain_for(
    session: Session,
    username: str,
    case_id: uuid.UUID,
    action: Action,
    purpose: Purpose,
    field: str,
    location_level: int = 0,
) -> Explanation:
    """An operator's question: what would this user get of this case field, and by which rules.
    Decided from the same facts a real access would use; nothing is released or logged."""
    user = staff.user_by_username(session, username)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    resource = access.Resource.of_case(case)
    actor = Actor.for_user(user, "cli")
    return access.explain(session, actor, action, purpose, resource, field, location_level)
