"""A statistics change mark names the records whose facts it rebuilt, so a process's cached
frame of the facts can take in those records only instead of reading every fact again.

Reviewed by hand: one nullable column added. Marks written before it name nothing (NULL), which
the frame reads as "everything changed" (a full load), as it does a rebuild's mark.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stat_refreshes") as batch:
        batch.add_column(sa.Column("subject_tokens", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stat_refreshes") as batch:
        batch.drop_column("subject_tokens")
