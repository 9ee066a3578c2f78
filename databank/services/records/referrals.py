"""The referral workflow: the organisation a case was referred to answers (accept, decline with a
reason, record the outcome), the referring organisation withdraws a pending referral, and each
side lists the referrals it received or sent. Each step and each read is decided and logged by
services/access; the reason the referrer wrote and the person's contact details are opened only
where the owner's policy releases them to the receiver."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from databank import policy
from databank.crypto import SealingKey
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, Purpose, ReferralStatus
from databank.domain.errors import Conflict, NotFound
from databank.domain.referrals import (
    RECEIVER_STEPS,
    TRANSITIONS,
    DeclineReason,
    ReferralOutcome,
    ReferralStep,
)
from databank.domain.vocab import NeedCategory
from databank.models import Case, Identity, Referral, User
from databank.services import access
from databank.services.access.directory import org_names, orgs_of
from databank.services.actors import Actor
from databank.services.inputs import when_happened
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer

NO_SUCH_REFERRAL = "no such referral for your organisation"
# What a received referral asks of the referred case: the case as a whole, its need category,
# its referrals (the reason the referrer wrote) and the person's contact details.
RECEIVED_FIELDS = (access.WHOLE_RECORD, "needs", "health", "referrals", "contact")
# What a sent referral asks of the sender's own case.
SENT_FIELDS = ("referrals", "needs", "health")
# What answering or withdrawing changes: the case's referrals, nothing else of it.
ANSWER_FIELDS = ("referrals",)

_CONFLICTS = {
    ReferralStep.ACCEPT: "only a pending referral can be accepted; this one is {status}",
    ReferralStep.DECLINE: "only a pending referral can be declined; this one is {status}",
    ReferralStep.WITHDRAW: "only a pending referral can be withdrawn; this one is {status}",
    ReferralStep.OUTCOME: (
        "an outcome is recorded once, on an accepted referral; this one is {status}"
    ),
}


@dataclass(frozen=True)
class Reach:
    """How the receiver can reach the person (their phone, where the owner's policy releases
    the contact details) or else the worker who made the referral (staff, not the person)."""

    phone: str | None
    worker_name: str | None
    org_name: str

    def __repr__(self) -> str:
        return "Reach(<hidden>)"


@dataclass(frozen=True)
class ReceivedReferral:
    """A referral to the actor's org. Its case, need, note and the person's contact show only
    where the owner's policy releases them for the purpose."""

    id: uuid.UUID
    from_org: str  # the referring organisation's slug
    from_org_name: str
    purpose: Purpose
    status: ReferralStatus
    created_at: datetime
    responded_at: datetime | None
    outcome_at: datetime | None
    decline_reason: DeclineReason | None
    outcome: ReferralOutcome | None
    case_id: uuid.UUID | None  # None: the referral no longer opens the case for this purpose
    need: NeedCategory | None
    note: str | None  # the reason the referrer wrote, if released
    note_released: bool  # False: the owner's policy withholds it for the purpose
    reach: Reach

    def __repr__(self) -> str:  # a need can be health data, a note names people
        return f"ReceivedReferral(id={self.id}, <hidden>)"


@dataclass(frozen=True)
class SentReferral:
    """A referral the actor's org made, with the receiver's answer and the waiting times."""

    id: uuid.UUID
    case_id: uuid.UUID
    to_org_name: str
    purpose: Purpose
    status: ReferralStatus
    created_at: datetime
    responded_at: datetime | None
    outcome_at: datetime | None
    withdrawn_at: datetime | None
    decline_reason: DeclineReason | None
    outcome: ReferralOutcome | None
    need: NeedCategory | None

    def __repr__(self) -> str:
        return f"SentReferral(id={self.id}, <hidden>)"


def _load(session: Session, referral_id: uuid.UUID) -> tuple[Referral, Case] | None:
    """The referral and its case; the referral's row locked until the step commits (two
    answers at once: the second waits, then sees the first one's status and is a conflict)."""
    found = session.execute(
        select(Referral, Case)
        .join(Case, Case.id == Referral.case_id)
        .where(Referral.id == referral_id)
        .with_for_update(of=Referral)
    ).one_or_none()
    return (found[0], found[1]) if found is not None else None


def _resource(referral: Referral, case: Case) -> access.Resource:
    """The referral as the policy sees it: its case's owner and facts (the referred fact is the
    case's), logged under the referral's id."""
    return access.Resource(
        RecordType.REFERRAL,
        referral.id,
        case.org_id,
        case.person_id,
        case_id=case.id,
        is_minor=case.is_minor,
        is_domestic_abuse_survivor=case.is_domestic_abuse_survivor,
    )


def _step(session: Session, actor: Actor, referral_id: uuid.UUID, step: ReferralStep) -> Referral:
    """Find the referral, check the step is the actor's side's and allowed from its status,
    then decide (and log) the update of the case's referrals for the referral's purpose.

    A referral the actor's organisation is not on the right side of is answered as not found,
    the attempt logged (threat: a partner probing ids). Its status is checked before the
    decision: it is the receiver's (or sender's) own record, and a closed referral no longer
    opens the case, so the decision would refuse what is in fact a wrong step (409).
    """
    found = _load(session, referral_id)
    if found is None:
        raise NotFound(NO_SUCH_REFERRAL)
    referral, case = found
    side = referral.to_org_id if step in RECEIVER_STEPS else referral.from_org_id
    if side != actor.org_id:
        access.refuse_unheld(
            actor, Action.UPDATE, referral.purpose, [_resource(referral, case)], NO_SUCH_REFERRAL
        )
    start, _end = TRANSITIONS[step]
    if referral.status is not start:
        raise Conflict(_CONFLICTS[step].format(status=referral.status.value))
    access.authorize(
        session, actor, Action.UPDATE, referral.purpose, _resource(referral, case), ANSWER_FIELDS
    )
    referral.status = TRANSITIONS[step][1]
    return referral


def accept(
    session: Session, actor: Actor, referral_id: uuid.UUID, at: datetime | None = None
) -> Referral:
    """The receiving organisation takes the referral up (pending -> accepted); `at`: when, if
    recorded later."""
    referral = _step(session, actor, referral_id, ReferralStep.ACCEPT)
    referral.responded_at = when_happened(at, referral.created_at)
    return referral


def decline(
    session: Session,
    actor: Actor,
    referral_id: uuid.UUID,
    reason: DeclineReason,
    at: datetime | None = None,
) -> Referral:
    """The receiving organisation declines the referral, saying why (pending -> declined)."""
    referral = _step(session, actor, referral_id, ReferralStep.DECLINE)
    referral.responded_at = when_happened(at, referral.created_at)
    referral.decline_reason = reason
    return referral


def record_outcome(
    session: Session, actor: Actor, referral_id: uuid.UUID, outcome: ReferralOutcome
) -> Referral:
    """What came of an accepted referral (accepted -> completed). The referral is then closed:
    it no longer opens the case to the receiver."""
    referral = _step(session, actor, referral_id, ReferralStep.OUTCOME)
    referral.outcome_at = datetime.now(UTC)
    referral.outcome = outcome
    return referral


def withdraw(session: Session, actor: Actor, referral_id: uuid.UUID) -> Referral:
    """The referring organisation withdraws a referral not answered yet (pending ->
    withdrawn): the case is no longer open to the partner through it."""
    referral = _step(session, actor, referral_id, ReferralStep.WITHDRAW)
    referral.withdrawn_at = datetime.now(UTC)
    return referral


def received(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    status: ReferralStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReceivedReferral]:
    """Referrals other orgs sent to the actor's org, newest first.

    The list is decided first (a role without case content is refused here, and logged); then
    each referred case is decided for this purpose and logged. A referral whose case the policy
    no longer releases (withdrawn, answered, or made for another purpose) is listed without its
    case link, need, note or contact: that it arrived is the recipient's own record, what it was
    about is the holder's. The referring worker is always named (staff, not the person).
    """
    where = (Referral.to_org_id == actor.org_id, Referral.from_org_id != actor.org_id)
    found, grants = _listed(
        session, actor, purpose, where, RECEIVED_FIELDS, status, (limit, offset)
    )
    if not found:
        return []
    keys = _keys(session, [case for (_r, case), g in zip(found, grants, strict=True) if _opens(g)])
    phones = _phones(
        session,
        keys,
        [case for (_r, case), g in zip(found, grants, strict=True) if g.has("contact")],
    )
    names = org_names(session, (referral.from_org_id for referral, _case in found))
    workers = _worker_names(session, [referral.created_by_id for referral, _case in found])
    orgs = orgs_of(session)
    out = []
    for (referral, case), grant in zip(found, grants, strict=True):
        opens = bool(grant.fields)
        need = referral.need_category
        key = keys.get(case.subject_id)
        note = None
        note_released = key is not None and grant.has("referrals")  # no key: erased
        if key is not None and note_released:
            note = RowSealer(key, case.org_id, "referrals", referral.id, case.binding).open(
                "note_ciphertext", referral.note_ciphertext
            )
        phone = phones.get(case.subject_id) if grant.has("contact") else None
        out.append(
            ReceivedReferral(
                id=referral.id,
                from_org=orgs.get(session, referral.from_org_id).slug,
                from_org_name=names.get(referral.from_org_id, ""),
                purpose=referral.purpose,
                status=referral.status,
                created_at=referral.created_at,
                responded_at=referral.responded_at,
                outcome_at=referral.outcome_at,
                decline_reason=referral.decline_reason,
                outcome=referral.outcome,
                case_id=referral.case_id if opens else None,
                need=need
                if opens and need is not None and grant.has(policy.need_field(need))
                else None,
                note=note,
                note_released=note_released,
                reach=Reach(
                    phone,
                    None if phone else workers.get(referral.created_by_id),
                    names.get(referral.from_org_id, ""),
                ),
            )
        )
    return out


def _listed(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    where: tuple[ColumnElement[bool], ...],
    fields: tuple[str, ...],
    status: ReferralStatus | None,
    window: tuple[int, int],
) -> tuple[list[tuple[Referral, Case]], list[access.Grant]]:
    """A page of one side's referrals, newest first: the list decided first (a role without
    case content is refused, logged), then each referred case for this purpose, logged as list
    lines. `window` is the limit and the offset."""
    access.authorize(
        session,
        actor,
        Action.SEARCH,
        purpose,
        access.Resource(RecordType.REFERRAL_LIST, None, actor.org_id),
    )
    query = select(Referral, Case).join(Case, Case.id == Referral.case_id).where(*where)
    if status is not None:
        query = query.where(Referral.status == status)
    limit, offset = window
    rows = session.execute(
        query.order_by(Referral.created_at.desc(), Referral.id).limit(limit).offset(offset)
    ).all()
    found = [(referral, case) for referral, case in rows]
    if not found:
        return [], []
    grants = access.authorize_many(
        session,
        actor,
        Action.READ,
        purpose,
        [access.Resource.of_case(case) for _referral, case in found],
        fields=fields,
        result_count=len(found),
        listing=True,
    )
    return found, grants


def _opens(grant: access.Grant) -> bool:
    """A decision that releases something sealed a received referral shows."""
    return grant.has("referrals") or grant.has("contact")


def _keys(session: Session, cases: Sequence[Case]) -> dict[uuid.UUID, SealingKey]:
    """The subject keys of these cases (one query per holding organisation); erased absent."""
    keys: dict[uuid.UUID, SealingKey] = {}
    keyring = keyring_of(session)
    for org_id in {case.org_id for case in cases}:
        held = [case.subject_id for case in cases if case.org_id == org_id]
        keys.update(keyring.subject_keys(session, org_id, held))
    return keys


def _phones(
    session: Session, keys: dict[uuid.UUID, SealingKey], cases: Sequence[Case]
) -> dict[uuid.UUID, str]:
    """The phone each case's holder recorded for the person, by subject (decided by the caller:
    only cases whose contact the owner's policy released are passed)."""
    subject_ids = [case.subject_id for case in cases if case.subject_id in keys]
    if not subject_ids:
        return {}
    rows = session.scalars(select(Identity).where(Identity.subject_id.in_(subject_ids))).all()
    phones: dict[uuid.UUID, str] = {}
    for row in rows:
        unseal = RowSealer(keys[row.subject_id], row.org_id, "identities", row.id, row.binding)
        phone = unseal.open("phone_ciphertext", row.phone_ciphertext)
        if phone:
            phones[row.subject_id] = phone
    return phones


def _worker_names(
    session: Session, user_ids: Sequence[uuid.UUID | None]
) -> dict[uuid.UUID | None, str]:
    """Staff display names (kept in clear: staff are not the databank's data subjects)."""
    wanted = {u for u in user_ids if u is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    return {row.id: row.display_name for row in rows}


def sent(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    status: ReferralStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SentReferral]:
    """Referrals the actor's org made, newest first, with each receiver's answer and the dates.

    Decided like the received list: the list first, then each of the org's own cases (its
    referrals, and the need as released), logged; a case the actor may not read is left out.
    """
    where = (Referral.from_org_id == actor.org_id, Case.org_id == actor.org_id)
    found, grants = _listed(session, actor, purpose, where, SENT_FIELDS, status, (limit, offset))
    if not found:
        return []
    names = org_names(session, (referral.to_org_id for referral, _case in found))
    out = []
    for (referral, _case), grant in zip(found, grants, strict=True):
        if not grant.has("referrals"):
            continue
        need = referral.need_category
        out.append(
            SentReferral(
                id=referral.id,
                case_id=referral.case_id,
                to_org_name=names.get(referral.to_org_id, ""),
                purpose=referral.purpose,
                status=referral.status,
                created_at=referral.created_at,
                responded_at=referral.responded_at,
                outcome_at=referral.outcome_at,
                withdrawn_at=referral.withdrawn_at,
                decline_reason=referral.decline_reason,
                outcome=referral.outcome,
                need=need if need is not None and grant.has(policy.need_field(need)) else None,
            )
        )
    return out
