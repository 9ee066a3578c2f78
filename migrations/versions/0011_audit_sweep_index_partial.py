"""The district-sweep index holds only what the sweep rule reads: other orgs' released places.

The rule counts a non-owner org's reads of locations in one district (actor org, area, time, the
owner another org). Entries with no area, and an org's reads of its own records, never enter it,
and they are most of the log: every one of them cost a write to this index (one more page in the
write-ahead log) in every owner's read. The sweep query names the same terms, so it still reads
through the index.

Reviewed by hand: an index only. Downgrade makes it whole again.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_audit_entries_actor_org_id_area_at"
COLUMNS = ["actor_org_id", "area", "at"]
OTHER_ORGS_PLACES = "area IS NOT NULL AND owner_org_id <> actor_org_id"


def upgrade() -> None:
    op.drop_index(NAME, table_name="audit_entries")
    where = sa.text(OTHER_ORGS_PLACES)
    op.create_index(NAME, "audit_entries", COLUMNS, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index(NAME, table_name="audit_entries")
    op.create_index(NAME, "audit_entries", COLUMNS)
