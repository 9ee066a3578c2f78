"""Pairs of subjects outside the clusters: the review queue's grey-zone pairs with their evidence
in words, the pairs reviewers linked, and the pairs they kept apart for good."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from databank.domain.enums import ReviewStatus
from databank.models import Subject
from databank.models.linkage import LinkageApart, LinkageReview


def _now() -> datetime:
    return datetime.now(UTC)


# --- evidence: what a reviewer is shown of a pair --------------------------------------------


def evidence(row: dict[str, Any]) -> dict[str, str]:
    """Per comparison, how its agreement weighs (words, not the score): from the match weights."""
    out: dict[str, str] = {}
    for column, value in row.items():
        if not column.startswith("mw_"):
            continue
        name = column.removeprefix("mw_")
        if value is None or value != value:  # NaN: a side has no value
            out[name] = "missing"
        elif value >= 3:
            out[name] = "agrees_strongly"
        elif value >= 0.5:
            out[name] = "agrees"
        elif value > -0.5:
            out[name] = "neutral"
        elif value > -3:
            out[name] = "differs"
        else:
            out[name] = "contradicts"
    return out


# --- constraints from reviewers ---------------------------------------------------------------


def _ordered(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


def apart_pairs(session: Session) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = session.execute(select(LinkageApart.subject_a_id, LinkageApart.subject_b_id))
    return [(a, b) for a, b in rows]


def linked_pairs(session: Session) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = session.execute(
        select(LinkageReview.subject_a_id, LinkageReview.subject_b_id).where(
            LinkageReview.status == ReviewStatus.LINKED
        )
    )
    return [(a, b) for a, b in rows]


def kept_apart(
    session: Session, subjects: Iterable[uuid.UUID], others: Iterable[uuid.UUID]
) -> bool:
    """Whether a reviewer kept any of `subjects` apart from any of `others`."""
    one, two = list(subjects), list(others)
    found = session.scalars(
        select(LinkageApart.id)
        .where(
            or_(
                LinkageApart.subject_a_id.in_(one) & LinkageApart.subject_b_id.in_(two),
                LinkageApart.subject_a_id.in_(two) & LinkageApart.subject_b_id.in_(one),
            )
        )
        .limit(1)
    ).first()
    return found is not None


def open_review(
    session: Session, a: uuid.UUID, b: uuid.UUID, probability: float, shown: dict[str, str]
) -> bool:
    """A grey-zone pair for the queue, unless that pair was already queued or decided."""
    first, second = _ordered(a, b)
    exists = session.scalars(
        select(LinkageReview.id).where(
            LinkageReview.subject_a_id == first, LinkageReview.subject_b_id == second
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        LinkageReview(
            id=uuid.uuid4(),
            subject_a_id=first,
            subject_b_id=second,
            match_probability=float(probability),
            evidence=shown,
            status=ReviewStatus.OPEN,
            created_at=_now(),
        )
    )
    return True


def settle_reviews(session: Session) -> None:
    """Open pairs whose two subjects are now one person (linked meanwhile) need no decision."""
    a, b = Subject.__table__.alias("a"), Subject.__table__.alias("b")
    same = (
        select(LinkageReview.id)
        .join(a, a.c.id == LinkageReview.subject_a_id)
        .join(b, b.c.id == LinkageReview.subject_b_id)
        .where(LinkageReview.status == ReviewStatus.OPEN, a.c.person_id == b.c.person_id)
    )
    session.execute(
        update(LinkageReview)
        .where(LinkageReview.id.in_(same))
        .values(status=ReviewStatus.SETTLED, decided_at=_now())
    )
