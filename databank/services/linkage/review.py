"""The linkage review queue: grey-zone pairs decided by a linkage reviewer, and an org's split.

A reviewer sees, for each pair, only the evidence (per field: agrees strongly, agrees, neutral,
differs, contradicts, missing) and, for each side, whether it is their own organisation's record
(then the pages link to it, where the reviewer's other roles let them read it). Never a score,
a name, a pooled id or which other organisation holds a side. Deciding "link" merges the two
pooled persons (the older pseudonym stays); "apart" keeps them apart for good (a pair already in
one person is split: the second side leaves with a new pseudonym). Every read of the queue and
every decision is an audit entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, LinkReason, Purpose, ReviewReason, ReviewStatus
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.models import Subject
from databank.models.linkage import LinkageApart, LinkageReview
from databank.services import access, auditlog
from databank.services.access import roles
from databank.services.actors import Actor
from databank.services.linkage import clusters

Choice = Literal["link", "apart"]
CHOICES: tuple[Choice, ...] = ("link", "apart")
PAGE = 25


@dataclass(frozen=True)
class Side:
    """One side of a pair as the reviewer may see it."""

    own: bool  # the reviewer's organisation's record
    person_id: uuid.UUID | None  # its pooled person, on the reviewer's own side only
    org_id: uuid.UUID | None  # the holder, on the reviewer's own side only


@dataclass(frozen=True)
class ReviewView:
    id: uuid.UUID
    created_at: datetime
    status: ReviewStatus
    evidence: dict[str, str]
    sides: tuple[Side, Side]
    reason: ReviewReason | None
    decided_at: datetime | None


def require_reviewer(actor: Actor) -> None:
    access.require_any_role(actor, roles.LINKAGE_REVIEWERS, AuditEvent.LINKAGE_REVIEW)


def _log(
    session: Session,
    actor: Actor,
    event: AuditEvent,
    review_id: uuid.UUID | None,
    count: int | None,
    **extra: object,
) -> None:
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                event,
                RecordType.LINKAGE_REVIEW,
                review_id,
                None,
                None,
                Purpose.AUDIT.value,
                Decision.ALLOW,
                result_count=count,
                extra=dict(extra),
            )
        ],
    )


def _views(session: Session, actor: Actor, rows: list[LinkageReview]) -> list[ReviewView]:
    ids = {r.subject_a_id for r in rows} | {r.subject_b_id for r in rows}
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(list(ids))))}

    def side(subject_id: uuid.UUID) -> Side:
        subject = subjects.get(subject_id)
        if subject is None or subject.org_id != actor.org_id:
            return Side(False, None, None)
        return Side(True, subject.person_id, subject.org_id)

    return [
        ReviewView(
            r.id,
            r.created_at,
            r.status,
            dict(r.evidence),
            (side(r.subject_a_id), side(r.subject_b_id)),
            r.reason,
            r.decided_at,
        )
        for r in rows
    ]


def queue(
    session: Session, actor: Actor, status: ReviewStatus = ReviewStatus.OPEN, page: int = 1
) -> tuple[list[ReviewView], bool]:
    """A page of the queue, oldest first, and whether another follows. Logged."""
    require_reviewer(actor)
    if page < 1:
        raise ValidationFailed("invalid page", {"page": ["must be 1 or more"]})
    rows = list(
        session.scalars(
            select(LinkageReview)
            .where(LinkageReview.status == status)
            .order_by(LinkageReview.created_at, LinkageReview.id)
            .offset((page - 1) * PAGE)
            .limit(PAGE + 1)
        )
    )
    views = _views(session, actor, rows[:PAGE])
    _log(session, actor, AuditEvent.LINKAGE_REVIEW, None, len(views), status=status.value)
    return views, len(rows) > PAGE


def get(session: Session, actor: Actor, review_id: uuid.UUID) -> ReviewView:
    require_reviewer(actor)
    row = session.get(LinkageReview, review_id)
    if row is None:
        raise NotFound("no such review")
    _log(session, actor, AuditEvent.LINKAGE_REVIEW, review_id, 1)
    return _views(session, actor, [row])[0]


def decide(
    session: Session,
    actor: Actor,
    review_id: uuid.UUID,
    choice: str,
    reason: str,
) -> ReviewView:
    """Link the pair or keep it apart, for a reason (a code). Logged with both."""
    require_reviewer(actor)
    errors: dict[str, list[str]] = {}
    if choice not in CHOICES:
        errors["decision"] = [f"must be one of: {', '.join(CHOICES)}"]
    try:
        why = ReviewReason(reason)
    except ValueError:
        errors["reason"] = [f"must be one of: {', '.join(r.value for r in ReviewReason)}"]
    if errors:
        raise ValidationFailed("invalid decision", errors)
    row = session.get(LinkageReview, review_id, with_for_update=True)
    if row is None:
        raise NotFound("no such review")
    if row.status is not ReviewStatus.OPEN:
        raise Conflict("this pair was already decided")
    a = session.get(Subject, row.subject_a_id)
    b = session.get(Subject, row.subject_b_id)
    if a is None or b is None:
        raise NotFound("a side of this pair is gone")
    user = actor.user_id
    if choice == "link":
        if why in (ReviewReason.DIFFERENT_PEOPLE, ReviewReason.INSUFFICIENT_EVIDENCE):
            raise ValidationFailed("invalid decision", {"reason": ["is a reason to keep apart"]})
        if _apart(session, clusters.members(session, a.person_id), [b.id]):
            raise Conflict("a reviewer kept these records apart: they are not linked again")
        if a.person_id != b.person_id:
            clusters.merge(session, a.person_id, b.person_id, LinkReason.MANUAL_LINK, user)
        row.status = ReviewStatus.LINKED
    else:
        if why in (ReviewReason.SAME_PERSON, ReviewReason.CONFIRMED_BY_ORG):
            raise ValidationFailed("invalid decision", {"reason": ["is a reason to link"]})
        if a.person_id == b.person_id:
            clusters.split(session, [b.id], LinkReason.MANUAL_SPLIT, user)
        keep_apart(session, [a.id], [b.id], user)
        row.status = ReviewStatus.APART
    row.reason = why
    row.decided_by_id = user
    row.decided_at = datetime.now(UTC)
    _log(
        session,
        actor,
        AuditEvent.LINKAGE_DECISION,
        review_id,
        None,
        decision=choice,
        reason=why.value,
    )
    return _views(session, actor, [row])[0]


def _apart(session: Session, one: list[uuid.UUID], two: list[uuid.UUID]) -> bool:
    from databank.services.linkage.pairs import kept_apart

    return kept_apart(session, one, two)


def keep_apart(
    session: Session, one: list[uuid.UUID], two: list[uuid.UUID], user: uuid.UUID | None
) -> None:
    """Record that each of `one` is a different person from each of `two` (for good)."""
    for x in one:
        for y in two:
            first, second = (x, y) if str(x) < str(y) else (y, x)
            exists = session.scalars(
                select(LinkageApart.id).where(
                    LinkageApart.subject_a_id == first, LinkageApart.subject_b_id == second
                )
            ).first()
            if exists is None:
                session.add(
                    LinkageApart(
                        id=uuid.uuid4(),
                        subject_a_id=first,
                        subject_b_id=second,
                        decided_by_id=user,
                        created_at=datetime.now(UTC),
                    )
                )


def split_own(session: Session, actor: Actor, person_id: uuid.UUID, reason: str) -> uuid.UUID:
    """An organisation says its records of a pooled person are someone else: they leave the
    cluster with a new pseudonym, kept apart from the others for good. Returns the new person.
    Org admins (and the operator at the command line); logged."""
    access.require_any_role(actor, roles.ACCOUNT_ADMINS, AuditEvent.LINKAGE_DECISION)
    try:
        why = ReviewReason(reason)
    except ValueError:
        raise ValidationFailed(
            "invalid reason",
            {"reason": [f"must be one of: {', '.join(r.value for r in ReviewReason)}"]},
        ) from None
    if why in (ReviewReason.SAME_PERSON, ReviewReason.CONFIRMED_BY_ORG):
        raise ValidationFailed("invalid reason", {"reason": ["is a reason to link"]})
    person_id = clusters.current_person(session, person_id)
    members = clusters.members(session, person_id)
    held = _of_org(session, members, actor.org_id)
    own = [sid for sid in members if sid in held]
    if not own:
        raise NotFound("your organisation holds no record of this person")
    others = [sid for sid in members if sid not in own]
    if not others:
        raise Conflict("only your organisation's records are in this person: nothing to split")
    new = clusters.split(session, own, LinkReason.MANUAL_SPLIT, actor.user_id)
    keep_apart(session, own, others, actor.user_id)
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.LINKAGE_DECISION,
                RecordType.PERSON,
                None,
                actor.org_id,
                new,
                Purpose.CASE_MANAGEMENT.value,
                Decision.ALLOW,
                extra={"decision": "split", "reason": why.value},
            )
        ],
    )
    return new


def _of_org(session: Session, subjects: list[uuid.UUID], org_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(Subject.id).where(Subject.id.in_(subjects), Subject.org_id == org_id)
        )
    )
