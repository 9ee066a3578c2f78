"""Wrapped key material, blind-index configuration and the erasure ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at, uuid_pk


class OrgKey(Base):
    """An organisation's key, wrapped by the master data key (KMS). One row per version."""

    __tablename__ = "org_keys"
    __table_args__ = (UniqueConstraint("org_id", "version"),)

    id: Mapped[uuid_pk]
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    version: Mapped[int]
    # Null once the version is retired: its material is destroyed, only the record remains.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary())
    provider: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    retired_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OrgKey org={self.org_id} v{self.version} active={self.is_active}>"


class SubjectKey(Base):
    """A random key per subject (an org's record of someone), wrapped by the org key (AAD: the
    org and the subject's binding). Deleting it erases."""

    __tablename__ = "subject_keys"
    # The unique constraint's index (subject first) also serves lookups by subject.
    __table_args__ = (UniqueConstraint("subject_id", "version"),)

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    version: Mapped[int] = mapped_column(default=1)
    # Which org key version wraps it (also in the blob's header); lets retirement check usage.
    org_key_version: Mapped[int]
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<SubjectKey subject={self.subject_id} org={self.org_id} v{self.version}>"


class BlindIndexConfig(Base):
    """Bit length of each blind index, fixed when it is created and checked at start-up."""

    __tablename__ = "blind_index_configs"
    __table_args__ = (UniqueConstraint("table_name", "column_name", "version"),)

    id: Mapped[uuid_pk]
    table_name: Mapped[str] = mapped_column(String(64))
    column_name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    bits: Mapped[int]
    planned_population: Mapped[int]
    created_at: Mapped[created_at]


class ErasureTombstone(Base):
    """The erasure ledger, one row per erased subject: replayed on every restore so an erased
    record stays erased."""

    __tablename__ = "erasure_tombstones"

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True, unique=True)
    requested_by_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime]
