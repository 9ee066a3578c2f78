"""A housing officer's views across cases: names on the caseload, a case's referrals and
consents (the referrals an org received or sent: records/referrals.py). Each read is decided and
logged by services/access.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank import policy
from databank.crypto import SealingKey
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, Purpose, ReferralStatus, SubjectStatus
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.domain.vocab import NeedCategory
from databank.models import Case, Consent, Identity, Referral, Subject
from databank.services import access
from databank.services.access.directory import org_names
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.records import cases


def own_identities(
    session: Session, actor: Actor, purpose: Purpose, person_ids: Iterable[uuid.UUID]
) -> list[tuple[Identity, SealingKey]]:
    """The identities the actor's own org registered for these (active) people, where the policy
    releases them, each with its subject key. Each identity read is decided and logged; keys are
    unwrapped for released identities only, and an erased person (no key) is left out."""
    rows = (
        session.execute(
            select(Identity)
            .join(Subject, Subject.id == Identity.subject_id)
            .where(
                Identity.org_id == actor.org_id,
                Subject.person_id.in_(list(set(person_ids))),
                Subject.status == SubjectStatus.ACTIVE,
            )
            .order_by(Subject.created_at, Subject.id)
        )
        .scalars()
        .all()
    )
    if not rows:
        return []
    grants = access.authorize_many(
        session,
        actor,
        Action.READ,
        purpose,
        [access.Resource(RecordType.IDENTITY, r.id, r.org_id, r.person_id) for r in rows],
        fields=("identity",),
        result_count=len(rows),
        partial_ok=True,
    )
    released = [r for r, g in zip(rows, grants, strict=True) if g.has("identity")]
    keys = keyring_of(session).subject_keys(session, actor.org_id, [r.subject_id for r in released])
    return [(row, keys[row.subject_id]) for row in released if row.subject_id in keys]


def display_names(
    session: Session, actor: Actor, purpose: Purpose, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names the actor's own org registered for these people, where the policy releases them.

    Only the actor's own org's identities are opened: a partner's case is shown by a reference,
    never by the name its holder recorded.
    """
    names: dict[uuid.UUID, str] = {}
    for row, key in own_identities(session, actor, purpose, person_ids):
        if row.person_id in names:  # the org's second record of a person: its oldest's name
            continue
        unseal = RowSealer(key, row.org_id, "identities", row.id, row.binding).open
        given = unseal("given_name_ciphertext", row.given_name_ciphertext) or ""
        family = unseal("family_name_ciphertext", row.family_name_ciphertext) or ""
        names[row.person_id] = f"{given} {family}".strip()
    return names


@dataclass(frozen=True)
class CaseReferral:
    id: uuid.UUID
    from_org_name: str
    to_org_name: str
    purpose: Purpose
    status: ReferralStatus
    created_at: datetime
    need: NeedCategory | None
    # The receiver's answer (codes) and the waiting times.
    responded_at: datetime | None = None
    outcome_at: datetime | None = None
    withdrawn_at: datetime | None = None
    decline_reason: DeclineReason | None = None
    outcome: ReferralOutcome | None = None
    # The viewer's organisation made it and it is pending: it may withdraw it.
    withdrawable: bool = False

    def __repr__(self) -> str:  # a need can be health data: keep it out of logs and tracebacks
        return "CaseReferral(<hidden>)"


@dataclass(frozen=True)
class ConsentLine:
    """What a person agreed to (purposes, recipients), when; no free text is stored on it."""

    given_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    purposes: tuple[str, ...]
    recipients: tuple[str, ...]  # organisation names and kinds of organisation


@dataclass(frozen=True)
class CaseRecords:
    """A case's referrals and consents; None where the policy withheld them from the actor."""

    referrals: tuple[CaseReferral, ...] | None
    consents: tuple[ConsentLine, ...] | None


def case_records(
    session: Session, actor: Actor, purpose: Purpose, view: cases.CaseView
) -> CaseRecords:
    """The referrals and consents of a case the actor has read (`view`, from cases.read_case).

    Referrals follow that read's decision on "referrals"; consents are decided here (the case
    read does not ask for them) and logged. A need on a referral shows only if released.
    """
    referrals: tuple[CaseReferral, ...] | None = None
    if "referrals" in view.released:
        found = session.execute(
            select(Referral).where(Referral.case_id == view.id).order_by(Referral.created_at)
        ).scalars()
        rows = list(found)
        names = org_names(session, {r.from_org_id for r in rows} | {r.to_org_id for r in rows})
        referrals = tuple(
            CaseReferral(
                r.id,
                names.get(r.from_org_id, ""),
                names.get(r.to_org_id, ""),
                r.purpose,
                r.status,
                r.created_at,
                r.need_category
                if r.need_category is not None
                and policy.need_field(r.need_category) in view.released
                else None,
                r.responded_at,
                r.outcome_at,
                r.withdrawn_at,
                r.decline_reason,
                r.outcome,
                withdrawable=r.from_org_id == actor.org_id and r.status is ReferralStatus.PENDING,
            )
            for r in rows
        )
    resource = view.resource
    if resource is None:
        case = session.get(Case, view.id)
        resource = access.Resource.of_case(case) if case is not None else None
    consents: tuple[ConsentLine, ...] | None = None
    if resource is not None:
        [grant] = access.authorize_many(
            session, actor, Action.READ, purpose, [resource], fields=("consents",), partial_ok=True
        )
        if grant.has("consents"):
            consents = _consents(session, view.person_id, view.org_id)
    return CaseRecords(referrals, consents)


def _consents(session: Session, person_id: uuid.UUID, org_id: uuid.UUID) -> tuple[ConsentLine, ...]:
    rows = list(
        session.execute(
            select(Consent)
            .join(Subject, Subject.id == Consent.subject_id)
            .where(Subject.person_id == person_id, Consent.org_id == org_id)
            .order_by(Consent.given_at)
        ).scalars()
    )
    names = org_names(
        session, (uuid.UUID(org_id) for row in rows for org_id in row.recipient_org_ids)
    )
    return tuple(
        ConsentLine(
            row.given_at,
            row.expires_at,
            row.revoked_at,
            tuple(row.purposes),
            tuple(names.get(uuid.UUID(o), "") for o in row.recipient_org_ids)
            + tuple(row.recipient_org_kinds),
        )
        for row in rows
    )
