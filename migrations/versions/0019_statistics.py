"""The statistics' coarse facts, their change marks, the privacy budget ledger and the ad-hoc
tables released (issue 18).

Reviewed by hand: four new tables, nothing existing changed. The facts are filled by
`databank stats rebuild` (or as services write); an empty projection counts nobody.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    from databank.db import UTCDateTime

    op.create_table(
        "stat_facts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("subject_token", sa.LargeBinary(16), nullable=False),
        sa.Column("person_token", sa.LargeBinary(16), nullable=False),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("org_kind", sa.String(24), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("area", sa.String(255), nullable=False),
        sa.Column("age_band", sa.String(24), nullable=False),
        sa.Column("sex", sa.String(24), nullable=False),
        sa.Column("need", sa.String(24), nullable=False),
        sa.Column("need_status", sa.String(24), nullable=False),
        sa.Column("living", sa.String(24), nullable=False),
        sa.Column("hud_living", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("wait_band", sa.String(24), nullable=False),
        sa.Column("wait_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_facts")),
    )
    op.create_index("ix_stat_facts_subject_token", "stat_facts", ["subject_token"])
    op.create_table(
        "stat_refreshes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_refreshes")),
    )
    op.create_table(
        "stat_releases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_releases")),
    )
    op.create_index(op.f("ix_stat_releases_user_id"), "stat_releases", ["user_id"])
    op.create_table(
        "privacy_spends",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("release_id", sa.Uuid(), sa.ForeignKey("stat_releases.id"), nullable=False),
        sa.Column("spent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_spends")),
    )
    op.create_index("ix_privacy_spends_user_quarter", "privacy_spends", ["user_id", "quarter"])


def downgrade() -> None:
    op.drop_index("ix_privacy_spends_user_quarter", table_name="privacy_spends")
    op.drop_table("privacy_spends")
    op.drop_index(op.f("ix_stat_releases_user_id"), table_name="stat_releases")
    op.drop_table("stat_releases")
    op.drop_table("stat_refreshes")
    op.drop_index("ix_stat_facts_subject_token", table_name="stat_facts")
    op.drop_table("stat_facts")
