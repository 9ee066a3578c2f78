"""The pooled person (a linkage cluster), each organisation's subject (its record of someone)
and that subject's encrypted identifiers (Identity)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from databank.db import Base, ciphertext, created_at, optional_ciphertext, str_enum, uuid_pk
from databank.domain.enums import PersonStatus, SubjectStatus


class Person(Base):
    """A pooled pseudonym: the cluster linkage assigns subjects to. Nothing identifying.

    Linkage may merge two persons (the older pseudonym stays, the other is marked merged) or
    split one (some subjects move to a new person); neither touches a ciphertext, since no
    ciphertext is bound to the pooled person.
    """

    __tablename__ = "persons"

    id: Mapped[uuid_pk]
    status: Mapped[PersonStatus] = mapped_column(
        str_enum(PersonStatus), default=PersonStatus.ACTIVE
    )
    created_at: Mapped[created_at]
    erased_at: Mapped[datetime | None]
    # Set when a cluster merge folded this person into an older one.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.status}>"


class Subject(Base):
    """One organisation's record of someone: its keys, identity, cases and consents hang here.

    `binding` is what every ciphertext of the subject binds in its associated data and never
    changes (the subject's own id; for subjects made from the data before subjects existed, the
    person id their ciphertexts were sealed with). `person_id` is the pooled person linkage
    assigns it to: the only mutable link, rewritten by the linkage zone alone
    (services/linkage/clusters.py). A cluster is its *active* subjects: an erased (or merged)
    subject has left it, and keeps here the person it left, so that a request about that
    person is answered "erased" rather than "not found".
    """

    __tablename__ = "subjects"
    __table_args__ = (Index("ix_subjects_person_id_org_id", "person_id", "org_id"),)

    id: Mapped[uuid_pk]
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    binding: Mapped[uuid.UUID]
    status: Mapped[SubjectStatus] = mapped_column(
        str_enum(SubjectStatus), default=SubjectStatus.ACTIVE
    )
    created_at: Mapped[created_at]
    erased_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Subject {self.id} org={self.org_id} person={self.person_id} {self.status}>"


def of_subject(column: Any, subject_id: Any) -> Any:
    """A row's attribute read through its subject, never stored on the row (a correlated
    subquery): its pooled person, which only linkage rewrites, or its AAD binding."""
    return column_property(
        select(column).where(Subject.id == subject_id).correlate_except(Subject).scalar_subquery()
    )


class Identity(Base):
    """One subject's identifiers, each field sealed with the subject's key (AAD: its binding)."""

    __tablename__ = "identities"
    __table_args__ = (
        # Exact search inside an org: (org, truncated blind index of family name + birth date).
        Index("ix_identities_org_id_name_dob_bidx", "org_id", "name_dob_bidx"),
    )

    id: Mapped[uuid_pk]
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    given_name_ciphertext: Mapped[ciphertext]
    family_name_ciphertext: Mapped[ciphertext]
    birth_date_ciphertext: Mapped[ciphertext]
    sex_ciphertext: Mapped[optional_ciphertext]
    aliases_ciphertext: Mapped[optional_ciphertext]
    birth_place_ciphertext: Mapped[optional_ciphertext]
    phone_ciphertext: Mapped[optional_ciphertext]
    id_numbers_ciphertext: Mapped[optional_ciphertext]
    # Nullable because erasure deletes it along with the keys.
    name_dob_bidx: Mapped[int | None] = mapped_column(BigInteger())
    bidx_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    # Read through the subject, never stored here: linkage rewrites only subjects.person_id.
    person_id: Mapped[uuid.UUID] = of_subject(Subject.person_id, subject_id)
    binding: Mapped[uuid.UUID] = of_subject(Subject.binding, subject_id)

    def __repr__(self) -> str:
        return f"<Identity {self.id} subject={self.subject_id} org={self.org_id}>"
