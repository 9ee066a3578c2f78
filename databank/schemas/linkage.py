"""Load and dump schemas of the linkage review queue, for reviewers: a page of grey-zone pairs, one
pair, a decision, the pool's counts.

What a reviewer may see is decided in `services.linkage.review`: per field, how strongly the two
records agree (words), and for each side whether it is the reviewer's own organisation's record
(then its person, as the organisation's handle). These schemas dump exactly that: no score, no
pooled id, no other organisation. Loads return plain dicts; the service checks the decision and
the reason again (its rule, not only the schema's).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from databank.domain.enums import ReviewReason, ReviewStatus
from databank.schemas.common import one_of
from databank.schemas.handles import PersonHandle

# The reviewer's two answers (services/linkage/review.py CHOICES says it again).
DECISIONS = ("link", "apart")
REASONS = tuple(r.value for r in ReviewReason)
STATUSES = tuple(s.value for s in ReviewStatus)
# How strongly a field agrees, strongest first (services/linkage/runs.py `evidence`).
EVIDENCE_LEVELS = ("agrees_strongly", "agrees", "neutral", "differs", "contradicts", "missing")
MAX_PAGE = 100_000  # far beyond any queue (25 pairs a page); keeps the offset an integer


class LinkageQueryIn(Schema):
    """Which part of the queue: its status (open by default) and the page."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default=ReviewStatus.OPEN.value, validate=one_of(list(STATUSES)))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))


class LinkageDecisionIn(Schema):
    """A reviewer's decision on a pair, with a reason code (never free text: it could name
    someone). `link` takes `same_person` or `confirmed_by_org`; `apart` takes
    `different_people` or `insufficient_evidence`."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=one_of(list(DECISIONS)))
    reason = fields.String(required=True, validate=one_of(list(REASONS)))


class LinkageSideOut(Schema):
    """One record of a pair, as the reviewer may see it."""

    own = fields.Boolean(
        required=True,
        metadata={"description": "Whether this is your organisation's record."},
    )
    # The holder (the `org_id` of the side, the reviewer's own organisation) picks the handle.
    person_id = PersonHandle(
        allow_none=True,
        metadata={
            "description": "On your organisation's record only: the person as your "
            "organisation sees them (a handle). Null on another organisation's record, which "
            "is never named."
        },
    )


class LinkageReviewOut(Schema):
    id = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    evidence = fields.Dict(
        keys=fields.String(),
        values=fields.String(metadata={"enum": list(EVIDENCE_LEVELS)}),
        required=True,
        metadata={
            "description": "Per compared field (given, family, birth_date, sex, birth_place, "
            "area...), how strongly the two records agree, in words: "
            + ", ".join(EVIDENCE_LEVELS)
            + ". Never a score."
        },
    )
    sides = fields.List(fields.Nested(LinkageSideOut), required=True)
    reason = fields.String(allow_none=True, metadata={"enum": list(REASONS)})
    decided_at = fields.DateTime(allow_none=True)


class LinkageReviewPageOut(Schema):
    reviews = fields.List(fields.Nested(LinkageReviewOut), required=True)
    page = fields.Integer(required=True)
    more = fields.Boolean(required=True, metadata={"description": "Whether a next page follows."})


class LinkageStatusOut(Schema):
    """The pool's counts: no score, no cluster."""

    records = fields.Integer(required=True, metadata={"description": "Active records of people."})
    encoded = fields.Integer(required=True)
    waiting = fields.Integer(
        required=True, metadata={"description": "Encoded records not yet compared."}
    )
    persons = fields.Integer(required=True, metadata={"description": "Active pooled persons."})
    reviews_open = fields.Integer(required=True, metadata={"description": "Pairs to decide."})
