"""The pooled pseudonym (Person) and each organisation's encrypted identifiers (Identity)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, ciphertext, created_at, optional_ciphertext, str_enum, uuid_pk
from databank.domain.enums import PersonStatus


class Person(Base):
    """A random pseudonym shared by every org that knows the same person. Nothing identifying."""

    __tablename__ = "persons"

    id: Mapped[uuid_pk]
    status: Mapped[PersonStatus] = mapped_column(
        str_enum(PersonStatus), default=PersonStatus.ACTIVE
    )
    created_at: Mapped[created_at]
    erased_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.status}>"


class Identity(Base):
    """One org's identifiers for a person, each field sealed with the person's key for that org."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("person_id", "org_id"),
        # Exact search inside an org: (org, truncated blind index of family name + birth date).
        Index("ix_identities_org_id_name_dob_bidx", "org_id", "name_dob_bidx"),
    )

    id: Mapped[uuid_pk]
    # Looked up by person through the (person_id, org_id) unique index.
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
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

    def __repr__(self) -> str:
        return f"<Identity {self.id} person={self.person_id} org={self.org_id}>"
