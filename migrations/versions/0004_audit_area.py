"""Audit entries name the district of a released location; the platform_auditor role.

Reviewed by hand: a district geohash (5 characters, about 5 km) is the coarsest clear location the
design allows; nothing finer is ever logged. Earlier entries keep NULL. The role CHECK constraint
gains platform_auditor (autogenerate does not see enum values: written by hand).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ROLES_BEFORE = (
    "outreach_worker",
    "housing_officer",
    "auditor",
    "org_admin",
    "break_glass_responder",
)
ROLES_AFTER = (*ROLES_BEFORE, "platform_auditor")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _roles(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("user_roles", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role"), type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(roles))


def upgrade() -> None:
    _roles(ROLES_AFTER)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Adding a column is DDL, not UPDATE: the append-only trigger does not fire.
        op.add_column("audit_entries", sa.Column("area", sa.String(length=12), nullable=True))
        op.create_index(
            "ix_audit_entries_actor_org_id_area_at", "audit_entries", ["actor_org_id", "area", "at"]
        )
        return
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area", sa.String(length=12), nullable=True))
        batch_op.create_index(
            "ix_audit_entries_actor_org_id_area_at", ["actor_org_id", "area", "at"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM user_roles WHERE role = 'platform_auditor'")
    _roles(ROLES_BEFORE)
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_actor_org_id_area_at")
        batch_op.drop_column("area")
