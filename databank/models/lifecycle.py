"""What keeps records true over time: a case's dated changes (coarse codes) and an identity's
corrections (the previous values, sealed under the subject's key)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, optional_ciphertext, str_enum, uuid_pk
from databank.domain.enums import CaseEventKind
from databank.models.person import Subject, of_subject

# A code of one of the closed vocabularies (ETHOS, NeedStatus, NeedSeverity, CloseReason,
# Destination, a HUD code as digits): never free text, checked by the services that write it.
code = String(40)


class CaseEvent(Base):
    """One dated, attributed change of a case: its living situation, a need's status or urgency,
    its closing (reason and destination) or reopening. Coarse codes in clear, as on the case;
    statistics count them per period (needs met, outcomes)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id_at", "case_id", "at"),)

    id: Mapped[uuid_pk]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    need_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("needs.id"))
    kind: Mapped[CaseEventKind] = mapped_column(str_enum(CaseEventKind))
    from_code: Mapped[str | None] = mapped_column(code)
    to_code: Mapped[str | None] = mapped_column(code)
    detail_code: Mapped[str | None] = mapped_column(code)
    at: Mapped[datetime]
    by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<CaseEvent {self.id} case={self.case_id} {self.kind}>"


class IdentityChange(Base):
    """A correction of a subject's identity: which fields changed, when, by whom, and their
    previous values sealed under the subject's key (AAD: this row and the subject's binding),
    so erasing the subject's key shreds the history with the identity."""

    __tablename__ = "identity_changes"

    id: Mapped[uuid_pk]
    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identities.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    # The names of the fields changed (given_name, phone...): never their values.
    fields: Mapped[list[str]] = mapped_column(default=list)
    given_name_ciphertext: Mapped[optional_ciphertext]
    family_name_ciphertext: Mapped[optional_ciphertext]
    birth_date_ciphertext: Mapped[optional_ciphertext]
    aliases_ciphertext: Mapped[optional_ciphertext]
    phone_ciphertext: Mapped[optional_ciphertext]
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    binding: Mapped[uuid.UUID] = of_subject(Subject.binding, subject_id)

    def __repr__(self) -> str:
        return f"<IdentityChange {self.id} subject={self.subject_id}>"
