"""Episodes of support and what happens in them: cases, needs, encounters, referrals, consents.

Only coarse attributes are stored in clear (status, ETHOS category, district geohash, need
category); precise locations and free text are sealed per field (design section 5).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, created_at, optional_ciphertext, str_enum, uuid_pk
from databank.domain.enums import CaseStatus, NeedSeverity, NeedStatus, Purpose, ReferralStatus
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.domain.vocab import Destination, EthosCategory, NeedCategory
from databank.models.person import Subject, of_subject

district = String(12)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_org_id_status", "org_id", "status"),)

    id: Mapped[uuid_pk]
    # The org's record of the person the case is about; an org's merge of its own two records
    # moves a case to the kept subject (re-sealed under its key and binding).
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(32))
    # Where the person went, for a case closed as housed or sheltered (vocab.Destination).
    destination: Mapped[Destination | None] = mapped_column(str_enum(Destination))
    living_situation: Mapped[EthosCategory] = mapped_column(str_enum(EthosCategory))
    hud_living_situation: Mapped[int | None] = mapped_column(SmallInteger())
    is_minor: Mapped[bool] = mapped_column(default=False)
    is_domestic_abuse_survivor: Mapped[bool] = mapped_column(default=False)
    area_geohash: Mapped[str | None] = mapped_column(district)  # district level (5) or coarser
    location_ciphertext: Mapped[optional_ciphertext]
    notes_ciphertext: Mapped[optional_ciphertext]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    # Read through the subject, never stored here: the pooled person (linkage may change it)
    # and the binding every ciphertext of the case, its encounters and referrals names.
    person_id: Mapped[uuid.UUID] = of_subject(Subject.person_id, subject_id)
    binding: Mapped[uuid.UUID] = of_subject(Subject.binding, subject_id)

    def __repr__(self) -> str:
        return f"<Case {self.id} org={self.org_id} {self.status}>"


class Need(Base):
    __tablename__ = "needs"

    id: Mapped[uuid_pk]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    category: Mapped[NeedCategory] = mapped_column(str_enum(NeedCategory))
    severity: Mapped[NeedSeverity] = mapped_column(str_enum(NeedSeverity))
    status: Mapped[NeedStatus] = mapped_column(str_enum(NeedStatus), default=NeedStatus.IDENTIFIED)
    identified_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Need {self.id} case={self.case_id} {self.category}>"


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[uuid_pk]
    # Its person is its case's subject: the sealed fields bind that subject's binding.
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
    area_geohash: Mapped[str | None] = mapped_column(district)
    location_ciphertext: Mapped[optional_ciphertext]
    notes_ciphertext: Mapped[optional_ciphertext]
    services_given: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Encounter {self.id} case={self.case_id}>"


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[uuid_pk]
    # Its person is its case's subject: the sealed note binds that subject's binding.
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    from_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    to_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    status: Mapped[ReferralStatus] = mapped_column(
        str_enum(ReferralStatus), default=ReferralStatus.PENDING
    )
    need_category: Mapped[NeedCategory | None] = mapped_column(str_enum(NeedCategory))
    note_ciphertext: Mapped[optional_ciphertext]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The waiting times, for statistics: sent (created_at), answered (accepted or declined),
    # outcome recorded, or withdrawn by the referrer. Answers are codes, never free text.
    created_at: Mapped[created_at]
    responded_at: Mapped[datetime | None]
    decline_reason: Mapped[DeclineReason | None] = mapped_column(str_enum(DeclineReason))
    outcome: Mapped[ReferralOutcome | None] = mapped_column(str_enum(ReferralOutcome))
    outcome_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.status}>"


class Consent(Base):
    """What a person agreed to share, with whom, for which purposes, until when."""

    __tablename__ = "consents"

    id: Mapped[uuid_pk]
    # Recorded on the org's record of the person; it covers that org's records of the pooled
    # person (services/access/sharing.py).
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recipient_org_ids: Mapped[list[str]] = mapped_column(default=list)
    recipient_org_kinds: Mapped[list[str]] = mapped_column(default=list)
    purposes: Mapped[list[str]] = mapped_column(default=list)
    given_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[created_at]

    person_id: Mapped[uuid.UUID] = of_subject(Subject.person_id, subject_id)

    def __repr__(self) -> str:
        return f"<Consent {self.id} subject={self.subject_id}>"


class BreakGlassGrant(Base):
    """A time-boxed emergency read of one person's records, with its sealed justification."""

    __tablename__ = "break_glass_grants"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    # The pooled person the window was opened on: it opens every holder's records of that
    # person (or of the person it was merged into). Written once; the justification's AAD
    # names it, under the responder org's key, so a later merge or split changes nothing here.
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    # Free text can name people: sealed under the responder org's key (AAD names the grant).
    justification_ciphertext: Mapped[bytes] = mapped_column(LargeBinary())
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<BreakGlassGrant {self.id} person={self.person_id}>"
