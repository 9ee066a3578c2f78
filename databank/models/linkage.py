"""Linkage-zone encodings of an identity: keyed tokens only, never clear identifiers."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at, uuid_pk


class LinkageRecord(Base):
    __tablename__ = "linkage_records"

    id: Mapped[uuid_pk]
    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identities.id"), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    exact_token: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    created_at: Mapped[created_at]
