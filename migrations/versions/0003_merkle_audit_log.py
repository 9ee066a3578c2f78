"""Merkle audit log: gapless seq from 0, tree head, signed checkpoints, alerts, append-only trigger.

Reviewed by hand. Entries written before this revision are renumbered 0..n-1 in their order and
adopted into the tree on the first append (the head's size starts as NULL). On PostgreSQL a trigger
refuses UPDATE and DELETE on audit_entries and audit_checkpoints: rewriting history needs a
superuser to disable it first, and `databank audit verify` then names the altered entry.
Downgrade drops the new tables, index and trigger; the renumbering is kept (it is harmless).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OFFSET = 1 << 40  # renumbering goes through a free range so no two rows ever share a seq
_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION databank_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.create_table(
        "audit_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_org_id", sa.Uuid(), nullable=True),
        sa.Column("owner_org_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("entry_seqs", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "justified", "escalated", "closed", name="alertstatus",
                    native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("review_note_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_alerts")),
    )
    with op.batch_alter_table("audit_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_alerts_actor_org_id"), ["actor_org_id"])
        batch_op.create_index(batch_op.f("ix_audit_alerts_owner_org_id"), ["owner_org_id"])
        batch_op.create_index("ix_audit_alerts_status_created_at", ["status", "created_at"])

    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("signed_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    heads = op.create_table(
        "audit_heads",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("last_leaf", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_heads")),
    )
    op.bulk_insert(heads, [{"id": 1, "size": None, "frontier": b"", "last_leaf": b"", "checkpoint_size": 0}])

    if postgres:
        op.execute("ALTER TABLE audit_entries ALTER COLUMN seq DROP IDENTITY IF EXISTS")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "seq", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.create_index("ix_audit_entries_owner_org_id_at", ["owner_org_id", "at"])
    # Renumber earlier entries 0..n-1 in their order (identity columns may have left gaps).
    op.execute(
        f"UPDATE audit_entries SET seq = seq + {_OFFSET}"  # noqa: S608 - constants only
    )
    op.execute(
        "UPDATE audit_entries SET seq = (SELECT COUNT(*) FROM audit_entries AS earlier "
        "WHERE earlier.seq < audit_entries.seq)"
    )

    if postgres:
        op.execute(_APPEND_ONLY)
        for table in ("audit_entries", "audit_checkpoints"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION databank_audit_append_only()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_entries", "audit_checkpoints"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS databank_audit_append_only()")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_owner_org_id_at")
    op.drop_table("audit_heads")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_alerts_status_created_at")
        batch_op.drop_index(batch_op.f("ix_audit_alerts_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_audit_alerts_actor_org_id"))
    op.drop_table("audit_alerts")
