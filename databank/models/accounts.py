"""Staff account extras: two-factor recovery codes and invitations. Hashes only, never a secret."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at, uuid_pk


class RecoveryCode(Base):
    """A single-use two-factor recovery code, stored as the SHA-256 of a high-entropy code."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    used_at: Mapped[datetime | None]


class Invitation(Base):
    """An org admin's invitation: the link's token is a random secret, stored as its SHA-256."""

    __tablename__ = "invitations"

    id: Mapped[uuid_pk]
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class SignInFailure(Base):
    """A failed sign-in (or invitation code) from a client address for an account, for the
    throttle shared by every process of the app (services/accounts/throttle.py). The address and
    the account are kept as keyed tags only (crypto `AddressTags`), and a row lives no longer
    than the throttle's window."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_address_tag_at", "address_tag", "at"),
        Index("ix_sign_in_failures_address_tag_account_tag_at", "address_tag", "account_tag", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_tag: Mapped[bytes] = mapped_column(LargeBinary(16))
    account_tag: Mapped[bytes] = mapped_column(LargeBinary(16))
    at: Mapped[created_at] = mapped_column(index=True)
