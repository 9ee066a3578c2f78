"""The linkage zone's tables: encodings of subjects and the history of their pooled persons.

Keyed tokens and ids only, never clear identifiers. Only the linkage zone (services/linkage/)
imports this module (an import-linter contract).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, UTCDateTime, created_at, str_enum, uuid_pk
from databank.domain.enums import LinkReason, ReviewReason, ReviewStatus


class LinkageRecord(Base):
    """A subject's encodings. Its pooled person is the subject's (subjects.person_id), never a
    copy here: a merge or split rewrites one mapping."""

    __tablename__ = "linkage_records"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    exact_token: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    # The keyed per-field encodings (Bloom filters, tokens: linkage/encoding.py), serialised by the
    # zone (services/linkage/store.py); None for a subject enrolled before them (migration 0016).
    encoding: Mapped[bytes | None] = mapped_column(LargeBinary())
    schema_version: Mapped[str | None] = mapped_column(String(32))
    # When probabilistic linkage last compared this subject with the pool (None: not yet).
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]


class LinkageModel(Base):
    """A trained matching model (Splink settings with m and u, thresholds), with its versions.
    Probabilities of agreement per field level: nothing about any person."""

    __tablename__ = "linkage_models"

    id: Mapped[uuid_pk]
    format_version: Mapped[int]
    schema_version: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(Text())
    trained_on: Mapped[int]  # how many subjects it was trained on
    created_at: Mapped[created_at]


class LinkageReview(Base):
    """A pair of subjects in the grey zone, for a linkage reviewer. The score stays here (the zone):
    a reviewer is shown the evidence only (which fields agree, how strongly)."""

    __tablename__ = "linkage_reviews"
    __table_args__ = (
        UniqueConstraint("subject_a_id", "subject_b_id"),
        Index("ix_linkage_reviews_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid_pk]
    subject_a_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    subject_b_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    match_probability: Mapped[float]
    evidence: Mapped[dict[str, str]] = mapped_column(JSON())
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[ReviewReason | None] = mapped_column(str_enum(ReviewReason))
    created_at: Mapped[created_at]


class LinkageApart(Base):
    """Two subjects a reviewer said are different people (a review kept apart, or a manual
    split): no linkage run joins them again."""

    __tablename__ = "linkage_apart"
    __table_args__ = (UniqueConstraint("subject_a_id", "subject_b_id"),)

    id: Mapped[uuid_pk]
    subject_a_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_b_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]


class LinkHistory(Base):
    """Every change of a subject's pooled person: from, to, why (a code), who, when."""

    __tablename__ = "link_history"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    from_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    to_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    reason: Mapped[LinkReason] = mapped_column(str_enum(LinkReason))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return (
            f"<LinkHistory subject={self.subject_id} {self.from_person_id} -> "
            f"{self.to_person_id} {self.reason}>"
        )
