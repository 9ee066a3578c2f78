"""The linkage zone's tables: encodings of subjects and the history of their pooled persons.

Keyed tokens and ids only, never clear identifiers. Only the linkage zone (services/linkage/)
imports this module (an import-linter contract).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, UTCDateTime, created_at, str_enum, uuid_pk
from databank.domain.enums import LinkReason


class LinkageRecord(Base):
    """A subject's encodings. Its pooled person is the subject's (subjects.person_id), never a
    copy here: a merge or split rewrites one mapping."""

    __tablename__ = "linkage_records"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    exact_token: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
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
