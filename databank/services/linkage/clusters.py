"""Pooled persons as clusters of subjects: the only code that changes which person a subject is.

A merge of two pooled persons keeps the older pseudonym (the other is marked merged, pointing to
it); a split moves subjects to a new person; erasure takes a subject out of its cluster. Each
rewrites `subjects.person_id` and nothing else: no ciphertext names the pooled person, so every
record stays readable. Each change of a subject's person is one `link_history` row (ids and a
reason code, never identifiers).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from databank.domain.enums import LinkReason, PersonStatus, SubjectStatus
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.models import Person, Subject
from databank.models.linkage import LinkHistory

# For callers that insert a batch's rows in foreign-key order.
LINK_HISTORY_TABLE: Table = LinkHistory.__table__  # type: ignore[assignment]


def history_row(
    subject_id: uuid.UUID,
    from_person: uuid.UUID | None,
    to_person: uuid.UUID | None,
    reason: LinkReason,
    actor_user_id: uuid.UUID | None,
    at: datetime,
) -> dict[str, object]:
    """A link-history row, for a batch that inserts it with the subject's rows."""
    return {
        "id": uuid.uuid4(),
        "subject_id": subject_id,
        "from_person_id": from_person,
        "to_person_id": to_person,
        "reason": reason,
        "actor_user_id": actor_user_id,
        "at": at,
    }


def assign(
    session: Session,
    subject_id: uuid.UUID,
    person_id: uuid.UUID,
    reason: LinkReason,
    actor_user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Put an active subject in an active pooled person's cluster: the one write of
    `subjects.person_id`. Returns the person it left; a person left with no active subject is
    marked merged into the one it joined."""
    subject = session.get(Subject, subject_id, with_for_update=True)
    if subject is None:
        raise NotFound("no such subject")
    if subject.status is not SubjectStatus.ACTIVE:
        raise Conflict("an erased or merged subject is in no cluster")
    target = session.get(Person, person_id)
    if target is None or target.status is not PersonStatus.ACTIVE:
        raise Conflict("a subject joins an active pooled person only")
    before = subject.person_id
    if before == person_id:
        return before
    subject.person_id = person_id
    session.add(
        LinkHistory(**history_row(subject_id, before, person_id, reason, actor_user_id, _now()))
    )
    session.flush()  # the emptiness check below reads subjects
    if not members(session, before):
        person = session.get(Person, before)
        if person is not None and person.status is PersonStatus.ACTIVE:
            person.status = PersonStatus.MERGED
            person.merged_into_id = person_id
    return before


def leave(
    session: Session,
    subject_id: uuid.UUID,
    reason: LinkReason,
    actor_user_id: uuid.UUID | None = None,
) -> None:
    """An erased (or merged-away) subject leaves its cluster: its status is already set by the
    caller; its `person_id` keeps the person it left. A person with no active subject left is
    marked erased (it has no record anywhere any more)."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("no such subject")
    if subject.status is SubjectStatus.ACTIVE:
        raise Conflict("an active subject stays in its cluster")
    now = _now()
    session.add(
        LinkHistory(**history_row(subject_id, subject.person_id, None, reason, actor_user_id, now))
    )
    session.flush()  # the emptiness check below reads subjects
    if not members(session, subject.person_id):
        person = session.get(Person, subject.person_id)
        if person is not None and person.status is PersonStatus.ACTIVE:
            person.status = PersonStatus.ERASED
            person.erased_at = now


_MAX_HOPS = 32  # merges chain at most this deep (each merge points at an older person)


def current_person(session: Session, person_id: uuid.UUID) -> uuid.UUID:
    """The pooled person a (possibly merged-away) pseudonym is now."""
    for _ in range(_MAX_HOPS):
        merged_into = session.execute(
            select(Person.merged_into_id).where(
                Person.id == person_id, Person.status == PersonStatus.MERGED
            )
        ).scalar_one_or_none()
        if merged_into is None:
            return person_id
        person_id = merged_into
    return person_id


def members(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The subjects in a pooled person's cluster (its active ones), oldest first."""
    return list(
        session.scalars(
            select(Subject.id)
            .where(Subject.person_id == person_id, Subject.status == SubjectStatus.ACTIVE)
            .order_by(Subject.created_at, Subject.id)
        )
    )


def merge(
    session: Session,
    first: uuid.UUID,
    second: uuid.UUID,
    reason: LinkReason = LinkReason.CLUSTER_MERGE,
    actor_user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Two pooled persons are one: every subject of the newer joins the older, whose pseudonym
    stays (a cluster that only grows keeps its id). Returns the kept person."""
    if first == second:
        raise ValidationFailed("a person cannot be merged with itself", {"person": ["same"]})
    people = [session.get(Person, p, with_for_update=True) for p in (first, second)]
    found = [p for p in people if p is not None and p.status is PersonStatus.ACTIVE]
    if len(found) != 2:
        raise Conflict("only active pooled persons are merged")
    kept, gone = sorted(found, key=lambda p: (p.created_at, str(p.id)))
    now = _now()
    for subject in session.scalars(
        select(Subject)
        .where(Subject.person_id == gone.id, Subject.status == SubjectStatus.ACTIVE)
        .with_for_update()
    ):
        subject.person_id = kept.id
        session.add(
            LinkHistory(**history_row(subject.id, gone.id, kept.id, reason, actor_user_id, now))
        )
    gone.status = PersonStatus.MERGED
    gone.merged_into_id = kept.id
    return kept.id


def split(
    session: Session,
    subject_ids: Sequence[uuid.UUID],
    reason: LinkReason = LinkReason.CLUSTER_SPLIT,
    actor_user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Some subjects of one pooled person are someone else: they move to a new person (a new
    random pseudonym); the rest keep theirs. Returns the new person."""
    moving = list(
        session.scalars(select(Subject).where(Subject.id.in_(list(subject_ids))).with_for_update())
    )
    sources = {s.person_id for s in moving}
    active = all(s.status is SubjectStatus.ACTIVE for s in moving)
    if len(moving) != len(set(subject_ids)) or len(sources) != 1 or not active:
        raise ValidationFailed(
            "a split moves subjects of one pooled person", {"subjects": ["one person's"]}
        )
    [source] = sources
    if len(members(session, source)) == len(moving):
        raise ValidationFailed(
            "a split leaves at least one subject with the person", {"subjects": ["all of them"]}
        )
    now = _now()
    new = Person(id=uuid.uuid4(), status=PersonStatus.ACTIVE, created_at=now)
    session.add(new)
    session.flush()  # the new person's row must exist before subjects point at it
    for subject in moving:
        subject.person_id = new.id
        session.add(
            LinkHistory(**history_row(subject.id, source, new.id, reason, actor_user_id, now))
        )
    return new.id


def history(session: Session, subject_id: uuid.UUID) -> list[LinkHistory]:
    """A subject's link history, oldest first (for the zone's review and tests)."""
    return list(
        session.scalars(
            select(LinkHistory)
            .where(LinkHistory.subject_id == subject_id)
            .order_by(LinkHistory.at, LinkHistory.id)
        )
    )


def _now() -> datetime:
    return datetime.now(UTC)
