"""Entries name their person by the holder's handle from here on: the head says from which seq.

Reviewed by hand: one nullable column on the head's one row. Entries already written name the
pooled person id, and their bodies are hashed into the Merkle tree, so they stay as they are;
`person_handles_from` is the number of entries at the upgrade (the first seq that names a handle),
and readers turn each entry's person back by that rule (`services/oversight/access_log`).
Downgrade drops the column; entries written since still name handles, which the readers of that
version would show as unknown people (they are not pooled ids).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_handles_from", sa.BigInteger(), nullable=True))
    # seq is gapless from 0 (migration 0003), so the next seq is the number of entries.
    op.execute(
        sa.text(
            "UPDATE audit_heads SET person_handles_from = "
            "(SELECT COUNT(*) FROM audit_entries) WHERE id = 1"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.drop_column("person_handles_from")
