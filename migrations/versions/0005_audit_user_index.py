"""Index audit entries by acting user and time (bulk-read and denial-burst alerts, console filter).

Reviewed by hand: an index only. Downgrade drops it.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_actor_user_id_at", "audit_entries", ["actor_user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_actor_user_id_at", table_name="audit_entries")
