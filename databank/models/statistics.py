"""The statistics' own coarse facts, their version marks, the privacy budget and the ad-hoc
tables released (issue 18; design.md section 9).

A fact row is one month of one organisation's record of a person, with coarse attributes only
(area, age band, sex, need, living situation, outcome...). It names the record and the pooled
person by tokens (HMAC under a key derived for the statistics alone): without the index root key
nothing here joins back to a subject, a case or a person.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at, uuid_pk

code = String(24)
token = LargeBinary(16)


class StatFact(Base):
    __tablename__ = "stat_facts"
    __table_args__ = (Index("ix_stat_facts_subject_token", "subject_token"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    subject_token: Mapped[bytes] = mapped_column(token)
    person_token: Mapped[bytes] = mapped_column(token)
    # Which organisation contributed it: its policy decides, at each query, whether it counts.
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    org_kind: Mapped[str] = mapped_column(code)
    month: Mapped[date] = mapped_column(Date())
    # A group of the deployment's area codes (those sharing a district cell), joined.
    area: Mapped[str] = mapped_column(String(255))
    age_band: Mapped[str] = mapped_column(code)
    sex: Mapped[str] = mapped_column(code)
    need: Mapped[str] = mapped_column(code)
    need_status: Mapped[str] = mapped_column(code)
    living: Mapped[str] = mapped_column(code)
    hud_living: Mapped[str] = mapped_column(code)
    outcome: Mapped[str] = mapped_column(code)
    wait_band: Mapped[str] = mapped_column(code)
    # Days from a referral's sending to its answer, on the month it was answered (medians).
    wait_days: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<StatFact {self.id} {self.month}>"


class StatRefresh(Base):
    """One row per transaction that changed the facts: a process's cached frame of the facts is
    current while the newest id here is the one it loaded with (an erasure deletes facts without
    writing any: its mark is what tells)."""

    __tablename__ = "stat_refreshes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[created_at]
    subjects: Mapped[int]
    # The 16-byte tokens of the records whose facts it rebuilt (or deleted), end to end; NULL:
    # every record (a rebuild, or a mark older than this column). A cached frame takes in just
    # these records (services/statistics/snapshot.py).
    subject_tokens: Mapped[bytes | None] = mapped_column(LargeBinary())


class PrivacySpend(Base):
    """Epsilon charged to a user's budget for a quarter by one ad-hoc table."""

    __tablename__ = "privacy_spends"
    __table_args__ = (Index("ix_privacy_spends_user_quarter", "user_id", "quarter"),)

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    quarter: Mapped[str] = mapped_column(String(7))  # "2026-Q4"
    epsilon: Mapped[float] = mapped_column(Float())
    release_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stat_releases.id"))
    spent_at: Mapped[created_at]


class StatRelease(Base):
    """An ad-hoc table as it was released (released numbers only, never a true count), kept so
    that its exports show the same numbers without running, and paying for, the query again."""

    __tablename__ = "stat_releases"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON())
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<StatRelease {self.id}>"
