"""API operations of the linkage review queue, for linkage reviewers: the queue, one pair, a
decision, the pool's counts. Who may see what is decided in `services.linkage.review`; a caller
without the reviewer role is refused (and logged) before anything is said about their input."""

from __future__ import annotations

import uuid
from typing import Any

from databank.domain.enums import ReviewStatus
from databank.schemas.linkage import (
    LinkageDecisionIn,
    LinkageQueryIn,
    LinkageReviewOut,
    LinkageReviewPageOut,
    LinkageStatusOut,
)
from databank.services.linkage import review, status
from databank.web.api.auth import caller
from databank.web.api.registry import operation
from databank.web.unit_of_work import db


def reviewers_only() -> None:
    """The operations' guard: the role gate, before any input is read (a 403, logged)."""
    review.require_reviewer(caller().actor)


def pool_counts() -> dict[str, int]:
    """The pool's counts a reviewer is shown (the model's provenance and scores stay inside)."""
    state = status.pool_status(db())
    return {
        "records": state.subjects,
        "encoded": state.encoded,
        "waiting": state.unlinked,
        "persons": state.persons,
        "reviews_open": state.reviews_open,
    }


@operation(
    "/linkage/reviews",
    summary="The linkage review queue",
    tag="linkage",
    scope="linkage:read",
    query=LinkageQueryIn,
    response=LinkageReviewPageOut,
    errors=(401, 403, 422),
    guard=reviewers_only,
)
def list_reviews(query: dict[str, Any]) -> dict[str, Any]:
    """Grey-zone pairs, oldest first, 25 a page: per field how strongly the two records agree,
    and for each side whether it is your organisation's record. Never a score, a name, a pooled
    id or which other organisation holds a side. Each read is logged."""
    views, more = review.queue(db(), caller().actor, ReviewStatus(query["status"]), query["page"])
    return {"reviews": views, "page": query["page"], "more": more}


@operation(
    "/linkage/reviews/<uuid:review_id>",
    summary="One pair of the review queue",
    tag="linkage",
    scope="linkage:read",
    response=LinkageReviewOut,
    errors=(400, 401, 403, 404, 422),
    guard=reviewers_only,
)
def get_review(review_id: uuid.UUID) -> review.ReviewView:
    """One pair and its evidence (logged)."""
    return review.get(db(), caller().actor, review_id)


@operation(
    "/linkage/reviews/<uuid:review_id>/decision",
    "POST",
    summary="Decide a pair: the same person, or different people",
    tag="linkage",
    scope="linkage:review",
    body=LinkageDecisionIn,
    response=LinkageReviewOut,
    errors=(400, 401, 403, 404, 409, 413, 415, 422),
    guard=reviewers_only,
)
def decide_review(data: dict[str, Any], review_id: uuid.UUID) -> review.ReviewView:
    """`link` merges the two records' pooled persons (the older pseudonym stays); `apart` keeps
    them apart for good (never joined again automatically). A pair already decided is a 409; a
    reason that does not fit the decision a 422 naming `reason`. The decision is an audit
    entry."""
    return review.decide(db(), caller().actor, review_id, data["decision"], data["reason"])


@operation(
    "/linkage/status",
    summary="The pool's counts",
    tag="linkage",
    scope="linkage:read",
    response=LinkageStatusOut,
    errors=(401, 403, 422),
    guard=reviewers_only,
)
def pool_status() -> dict[str, int]:
    """Records of people, encoded and waiting ones, pooled persons, pairs waiting for a
    reviewer: counts only."""
    return pool_counts()
