"""The access log: entries, the head of the Merkle tree, signed checkpoints and alerts.

An entry is stored as the canonical JSON bytes of its body, which is what the Merkle tree hashes;
the indexed columns are copies for filtering that `audit verify` checks against the body.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base, str_enum, uuid_pk
from databank.domain.enums import AlertStatus

# The district-sweep index holds other orgs' released places only (what the rule reads), not
# every owner's read: a partial index, whose terms the sweep query repeats (migration 0011).
OTHER_ORGS_PLACES = text("area IS NOT NULL AND owner_org_id <> actor_org_id")
# The owner-org index holds the entries about an org's records that another org (or none) wrote:
# an org's own are found through the actor-org index (migration 0012;
# `services/oversight/access_log._about`).
OTHER_OWNER = {
    "sqlite": text("owner_org_id IS NOT NULL AND owner_org_id IS NOT actor_org_id"),
    "postgresql": text("owner_org_id IS NOT NULL AND owner_org_id IS DISTINCT FROM actor_org_id"),
}


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_person_id_at", "person_id", "at"),
        Index("ix_audit_entries_actor_org_id_at", "actor_org_id", "at"),
        Index(
            "ix_audit_entries_owner_org_id_at",
            "owner_org_id",
            "at",
            sqlite_where=OTHER_OWNER["sqlite"],
            postgresql_where=OTHER_OWNER["postgresql"],
        ),
        Index(
            "ix_audit_entries_actor_org_id_area_at",
            "actor_org_id",
            "area",
            "at",
            sqlite_where=OTHER_ORGS_PLACES,
            postgresql_where=OTHER_ORGS_PLACES,
        ),
        Index("ix_audit_entries_actor_user_id_at", "actor_user_id", "at"),
    )

    # Gapless from 0, assigned under the head's row lock; also the entry's leaf index.
    # INTEGER on SQLite: seq is the rowid (one b-tree, reads in seq order straight from the table).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[uuid.UUID | None]
    actor_org_id: Mapped[uuid.UUID | None]
    owner_org_id: Mapped[uuid.UUID | None]
    person_id: Mapped[uuid.UUID | None]
    purpose: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(String(8))
    # The district (geohash of 5) of a released location, for the district-sweep alert.
    area: Mapped[str | None] = mapped_column(String(12))
    body: Mapped[bytes] = mapped_column(LargeBinary())

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.event} {self.decision}>"


class AuditHead(Base):
    """The one row that every append locks: tree size and compact frontier."""

    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # None until the entries written before the Merkle log existed are adopted (migration 0003).
    size: Mapped[int | None] = mapped_column(BigInteger())
    frontier: Mapped[bytes] = mapped_column(LargeBinary())
    # The leaf hash of the last entry: the next entry's body names it ("prev"), chaining them.
    last_leaf: Mapped[bytes] = mapped_column(LargeBinary(), default=b"")
    checkpoint_size: Mapped[int] = mapped_column(BigInteger(), default=0)
    checkpoint_at: Mapped[datetime | None]
    # The first seq whose body names its person by the holder's handle, not the pooled id
    # (`audit.entries.person_scope`): the number of entries when migration 0014 ran.
    person_handles_from: Mapped[int | None] = mapped_column(BigInteger())


class AuditCheckpoint(Base):
    """A signed statement of the tree (origin, size, root), in the signed-note format."""

    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary())
    signed_note: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime]


class AuditAlert(Base):
    """Something an auditor must look at. References only: ids and entry numbers."""

    __tablename__ = "audit_alerts"
    __table_args__ = (Index("ix_audit_alerts_status_created_at", "status", "created_at"),)

    id: Mapped[uuid_pk]
    rule: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    actor_user_id: Mapped[uuid.UUID | None]
    actor_org_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    owner_org_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    person_id: Mapped[uuid.UUID | None]
    entry_seqs: Mapped[list[str]] = mapped_column(default=list)
    details: Mapped[dict[str, object]] = mapped_column(default=dict)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.OPEN)
    reviewer_id: Mapped[uuid.UUID | None]
    # The reviewer's note may name people: sealed under the reviewer org's key.
    review_note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary())
    reviewed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<AuditAlert {self.id} {self.rule} {self.status}>"
