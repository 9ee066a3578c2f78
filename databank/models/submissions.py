"""Forms already saved, by their client submission id: a resent form is saved once."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at


class FormSubmission(Base):
    """Written in the same transaction as what the form saved, so both commit or neither.

    `key` is SHA-256 of the user's id and the submission id (never form data); `target` is where
    the form led once saved (a path of ids only).
    """

    __tablename__ = "form_submissions"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    target: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[created_at] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<FormSubmission {self.key.hex()[:12]}>"
