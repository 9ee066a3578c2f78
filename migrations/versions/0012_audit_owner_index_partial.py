"""The owner-org index holds the entries another org (or no org) wrote about an org's records.

An org's auditor sees entries about its org's records and by its users. An entry an org wrote
about its own records is found through the actor-org index already (the console asks for it that
way), so the owner-org index keeps only the others: every owner's own read, most of the log, no
longer writes an entry into it (one page fewer in each logged read's commit).

Reviewed by hand: an index only. Downgrade makes it whole again.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_audit_entries_owner_org_id_at"
COLUMNS = ["owner_org_id", "at"]
# The same condition in each database's words (SQLAlchemy's is_distinct_from writes them so).
SQLITE = "owner_org_id IS NOT NULL AND owner_org_id IS NOT actor_org_id"
POSTGRESQL = "owner_org_id IS NOT NULL AND owner_org_id IS DISTINCT FROM actor_org_id"


def upgrade() -> None:
    op.drop_index(NAME, table_name="audit_entries")
    op.create_index(
        NAME,
        "audit_entries",
        COLUMNS,
        sqlite_where=sa.text(SQLITE),
        postgresql_where=sa.text(POSTGRESQL),
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="audit_entries")
    op.create_index(NAME, "audit_entries", COLUMNS)
