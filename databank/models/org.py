"""Organisations and their staff accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from databank.db import Base, created_at, str_enum, uuid_pk
from databank.domain.enums import OrgKind, Role


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid_pk]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind))
    privacy_contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Organisation {self.slug} {self.kind}>"


class User(Base):
    """A member of staff. Staff identities are not data subjects of the databank's cases."""

    __tablename__ = "users"

    id: Mapped[uuid_pk]
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    # Two-factor: the TOTP secret sealed under the org's key (AAD names the user and the column),
    # set at enrolment and enabled once a first code is confirmed; the last accepted time step, so
    # a code is never accepted twice.
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary())
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Carried by every signed-in session; bumped at sign-out, deactivation and 2FA reset, so every
    # session cookie issued before no longer signs anyone in (cookie sessions cannot be revoked).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    org: Mapped[Organisation] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def __repr__(self) -> str:
        return f"<User {self.id} org={self.org_id}>"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role), primary_key=True)
