"""An organisation merges its own two records (subjects) of one person: duplicate registrations.

Linkage pools the two subjects under one person; the org may then keep one. The other's cases
move to the kept subject with everything in them (needs, encounters, referrals) and its consents
follow. Their ciphertexts were bound to the other subject (its key, its binding), so each is
opened with that key and sealed again under the kept subject's key and binding, in the caller's
transaction: a reader never sees a half-moved record. The emptied subject is then retired like an
erased one (keys, index value and encodings destroyed, a tombstone, out of its cluster, a
link-history row), and the merge is one audit entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.crypto import SealingKey
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, LinkReason, Purpose, SubjectStatus
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.domain.vocab import OWN_MERGE_REASONS
from databank.models import Case, Consent, Encounter, Referral, Subject
from databank.services import access, auditlog
from databank.services.actors import Actor
from databank.services.keys.erasure import retire_subjects
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import SEALED, KeyOf, RowSealer
from databank.services.records import caseload, subjects

MERGE_REASONS = OWN_MERGE_REASONS


@dataclass(frozen=True)
class OwnMerge:
    kept_subject_id: uuid.UUID
    merged_subject_id: uuid.UUID
    cases_moved: int
    fields_resealed: int
    keys_destroyed: int


def _subject_columns(table: str) -> tuple[str, ...]:
    return tuple(c.column for c in SEALED.values() if c.table == table and c.key is KeyOf.SUBJECT)


class _Resealer:
    """Opens a row's fields under the other subject's key and binding, seals them under the
    kept one's; the row id and table stay, so only the subject part of the AAD changes."""

    def __init__(
        self,
        org_id: uuid.UUID,
        old: tuple[SealingKey, uuid.UUID],
        new: tuple[SealingKey, uuid.UUID],
    ) -> None:
        self._org_id = org_id
        self._old = old
        self._new = new
        self.count = 0

    def row(self, table: str, row: Any) -> None:
        opener = RowSealer(self._old[0], self._org_id, table, row.id, self._old[1])
        sealer = RowSealer(self._new[0], self._org_id, table, row.id, self._new[1])
        for column in _subject_columns(table):
            blob = getattr(row, column)
            if blob is None:
                continue
            setattr(row, column, sealer.seal(column, opener.open(column, blob)))
            self.count += 1


@dataclass(frozen=True)
class OwnRecord:
    """One of the org's records of a person, as the org names it for a merge: its id, and the
    name and birth date it was registered under where the policy releases the identity."""

    subject_id: uuid.UUID
    status: SubjectStatus
    created_at: datetime
    cases: int
    name: str | None = None
    birth_date: date | None = None

    def __repr__(self) -> str:  # names stay out of logs and tracebacks
        return f"OwnRecord({self.subject_id}, {self.status})"


def own_duplicates(
    session: Session, actor: Actor, purpose: Purpose, limit: int = 100
) -> list[uuid.UUID]:
    """The people the actor's org holds under two or more active records (linkage pooled its
    duplicate registrations), most recently registered first: what it is offered to merge.

    Only the org's own records are counted, so the answer says nothing of other organisations.
    The list is decided (a role without case content is refused) and logged with its count.
    """
    listing = access.Resource(RecordType.DUPLICATE_RECORDS, None, actor.org_id)
    access.authorize(session, actor, Action.SEARCH, purpose, listing)
    rows = session.execute(
        select(Subject.person_id)
        .where(Subject.org_id == actor.org_id, Subject.status == SubjectStatus.ACTIVE)
        .group_by(Subject.person_id)
        .having(func.count() > 1)
        .order_by(func.max(Subject.created_at).desc(), Subject.person_id)
        .limit(limit)
    ).all()
    people = [row[0] for row in rows]
    if people:
        access.authorize_many(
            session,
            actor,
            Action.READ,
            purpose,
            [access.Resource(RecordType.PERSON, p, actor.org_id, p) for p in people],
            result_count=len(people),
        )
    return people


def own_record_count(session: Session, org_id: uuid.UUID, person_id: uuid.UUID) -> int:
    """How many active records the org holds of a person it has read (the case page's offer to
    merge: the org's own records only)."""
    found = subjects.own_subjects(session, org_id, person_id)
    return sum(1 for s in found if s.status is SubjectStatus.ACTIVE)


def own_records(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID
) -> list[OwnRecord]:
    """The actor's org's records (subjects) of a person, oldest first: the references its merge
    takes. Another org's person is not found, the attempt logged."""
    subjects.own_subject(session, actor, Action.READ, purpose, person_id, RecordType.SUBJECT)
    held = sorted(
        subjects.own_subjects(session, actor.org_id, person_id),
        key=lambda s: (s.created_at, str(s.id)),
    )
    access.authorize_many(
        session,
        actor,
        Action.READ,
        purpose,
        [access.Resource(RecordType.SUBJECT, s.id, actor.org_id, s.person_id) for s in held],
        result_count=len(held),
    )
    counts: dict[uuid.UUID, int] = {}
    for subject_id, count in session.execute(
        select(Case.subject_id, func.count())
        .where(Case.subject_id.in_([s.id for s in held]))
        .group_by(Case.subject_id)
    ):
        counts[subject_id] = count
    named: dict[uuid.UUID, tuple[str, date]] = {}
    for row, key in caseload.own_identities(session, actor, purpose, [person_id]):
        unseal = RowSealer(key, row.org_id, "identities", row.id, row.binding).open
        given = unseal("given_name_ciphertext", row.given_name_ciphertext) or ""
        family = unseal("family_name_ciphertext", row.family_name_ciphertext) or ""
        born = date.fromisoformat(unseal("birth_date_ciphertext", row.birth_date_ciphertext) or "")
        named[row.subject_id] = (f"{given} {family}".strip(), born)
    return [
        OwnRecord(
            s.id,
            s.status,
            s.created_at,
            counts.get(s.id, 0),
            *named.get(s.id, (None, None)),
        )
        for s in held
    ]


def merge_own_records(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    keep_subject_id: uuid.UUID,
    other_subject_id: uuid.UUID,
    reason: str = "duplicate_registration",
) -> OwnMerge:
    """Merge the actor's org's record `other` into its record `keep` of the same person."""
    if reason not in MERGE_REASONS:
        raise ValidationFailed(
            "unknown merge reason", {"reason": [f"must be one of: {', '.join(MERGE_REASONS)}"]}
        )
    if keep_subject_id == other_subject_id:
        raise ValidationFailed("a record cannot be merged with itself", {"other": ["same record"]})
    keep = session.get(Subject, keep_subject_id, with_for_update=True)
    other = session.get(Subject, other_subject_id, with_for_update=True)
    if keep is None or other is None or {keep.org_id, other.org_id} != {actor.org_id}:
        raise NotFound(access.NO_SUCH_PERSON)  # another org's record is not the asker's to know
    access.authorize_many(
        session,
        actor,
        Action.UPDATE,
        purpose,
        [
            access.Resource(RecordType.SUBJECT, s.id, actor.org_id, s.person_id)
            for s in (keep, other)
        ],
    )
    if keep.status is not SubjectStatus.ACTIVE or other.status is not SubjectStatus.ACTIVE:
        raise Conflict("an erased or merged record cannot be merged")
    if keep.person_id != other.person_id:
        raise ValidationFailed(
            "only records the pool holds as one person are merged",
            {"other": ["not the same pooled person"]},
        )
    keyring = keyring_of(session)
    resealer = _Resealer(
        actor.org_id,
        (keyring.subject_key_for(session, actor.org_id, other.id), other.binding),
        (keyring.subject_key_for(session, actor.org_id, keep.id), keep.binding),
    )
    moved = list(session.scalars(select(Case).where(Case.subject_id == other.id)))
    case_ids = [c.id for c in moved]
    for case in moved:
        resealer.row("cases", case)
        case.subject_id = keep.id
    if case_ids:
        for encounter in session.scalars(select(Encounter).where(Encounter.case_id.in_(case_ids))):
            resealer.row("encounters", encounter)
        for referral in session.scalars(select(Referral).where(Referral.case_id.in_(case_ids))):
            resealer.row("referrals", referral)
    for consent in session.scalars(select(Consent).where(Consent.subject_id == other.id)):
        consent.subject_id = keep.id
    session.flush()  # the moved rows are written before the other subject's keys go
    destroyed = retire_subjects(
        session,
        actor,
        [other.id],
        SubjectStatus.MERGED,
        "duplicate_record",
        LinkReason.OWN_RECORDS_MERGED,
    )
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.RECORDS_MERGED,
                RecordType.SUBJECT,
                keep.id,
                actor.org_id,
                keep.person_id,
                purpose.value,
                result_count=len(moved),
                extra={"reason": reason, "merged_subject": str(other.id)},
            )
        ],
    )
    for case in moved:  # their person and binding are read through the subject: reload
        session.expire(case, ["person_id", "binding"])
    return OwnMerge(keep.id, other.id, len(moved), resealer.count, destroyed)


def merge_person_records(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    person_id: uuid.UUID,
    keep_subject_id: uuid.UUID,
    other_subject_id: uuid.UUID,
    reason: str = "duplicate_registration",
) -> OwnMerge:
    """Merge two of the actor's org's records of the person a page or a document names: each
    must be one of its records of that person (another org's person is not found, logged)."""
    subjects.own_subject(session, actor, Action.UPDATE, purpose, person_id, RecordType.SUBJECT)
    held = {s.id for s in subjects.own_subjects(session, actor.org_id, person_id)}
    wrong = {
        name: ["not one of your organisation's records of this person"]
        for name, chosen in (("keep", keep_subject_id), ("other", other_subject_id))
        if chosen not in held
    }
    if wrong:
        raise ValidationFailed("the records to merge are not this person's", wrong)
    return merge_own_records(session, actor, purpose, keep_subject_id, other_subject_id, reason)
