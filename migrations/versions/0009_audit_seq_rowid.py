"""Audit entries: on SQLite, seq is the table's rowid (declared INTEGER, not BIGINT).

A primary key declared BIGINT leaves SQLite a hidden rowid plus an autoindex on seq: reads in seq
order (`audit verify`) went through the autoindex and then the table, and every append wrote one
more b-tree. As INTEGER PRIMARY KEY, seq is the rowid: one b-tree, read in order from the table.
SQLite's INTEGER is 64-bit, so the range is unchanged; seq is always given by the app (no
AUTOINCREMENT).

Reviewed by hand: on SQLite the table is rebuilt (batch, recreate="always") with every row, every
column, the five indexes and pk_audit_entries; on PostgreSQL nothing changes (seq stays BIGINT).
Downgrade rebuilds it on SQLite with seq BIGINT again (rowid and autoindex apart, as before).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seq(existing_type: sa.types.TypeEngine[int], type_: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("audit_entries", schema=None, recreate="always") as batch_op:
        batch_op.alter_column(
            "seq", existing_type=existing_type, type_=type_, existing_nullable=False
        )


def upgrade() -> None:
    _seq(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _seq(sa.Integer(), sa.BigInteger())
