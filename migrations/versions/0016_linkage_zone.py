"""The linkage zone's encodings, models, review queue and kept-apart pairs; the reviewer role.

Reviewed by hand: `linkage_records` gains the keyed per-field encodings (nullable: subjects
enrolled before hold their exact token only, and the zone cannot read identities to encode them;
`databank linkage run` reports how many wait), the schema version and when each was last linked.
New tables hold trained models (m and u per field level: nothing about a person), the grey-zone
pairs for reviewers and the pairs a reviewer kept apart. The role CHECK constraint gains
linkage_reviewer (autogenerate does not see enum values). Downgrade drops them all.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = (
    "outreach_worker",
    "housing_officer",
    "auditor",
    "org_admin",
    "break_glass_responder",
    "platform_auditor",
)
ROLES_AFTER = (*ROLES_BEFORE, "linkage_reviewer")
REVIEW_STATUS = ("open", "linked", "apart", "settled")
REVIEW_REASON = ("same_person", "confirmed_by_org", "different_people", "insufficient_evidence")


def _roles(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("user_roles", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role"), type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(roles))


def upgrade() -> None:
    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encoding", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("schema_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "linkage_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_models")),
    )
    op.create_table(
        "linkage_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_a_id", sa.Uuid(), nullable=False),
        sa.Column("subject_b_id", sa.Uuid(), nullable=False),
        sa.Column("match_probability", sa.Double(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *REVIEW_STATUS,
                name="reviewstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                *REVIEW_REASON,
                name="reviewreason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_a_id"], ["subjects.id"], name=op.f("fk_linkage_reviews_subject_a_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["subject_b_id"], ["subjects.id"], name=op.f("fk_linkage_reviews_subject_b_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_linkage_reviews_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_reviews")),
        sa.UniqueConstraint(
            "subject_a_id", "subject_b_id", name=op.f("uq_linkage_reviews_subject_a_id_subject_b_id")
        ),
    )
    op.create_index(
        "ix_linkage_reviews_status_created_at", "linkage_reviews", ["status", "created_at"]
    )
    op.create_index(op.f("ix_linkage_reviews_subject_b_id"), "linkage_reviews", ["subject_b_id"])
    op.create_table(
        "linkage_apart",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_a_id", sa.Uuid(), nullable=False),
        sa.Column("subject_b_id", sa.Uuid(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_a_id"], ["subjects.id"], name=op.f("fk_linkage_apart_subject_a_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["subject_b_id"], ["subjects.id"], name=op.f("fk_linkage_apart_subject_b_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_linkage_apart_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_apart")),
        sa.UniqueConstraint(
            "subject_a_id", "subject_b_id", name=op.f("uq_linkage_apart_subject_a_id_subject_b_id")
        ),
    )
    op.create_index(op.f("ix_linkage_apart_subject_a_id"), "linkage_apart", ["subject_a_id"])
    op.create_index(op.f("ix_linkage_apart_subject_b_id"), "linkage_apart", ["subject_b_id"])
    _roles(ROLES_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM user_roles WHERE role = 'linkage_reviewer'")
    _roles(ROLES_BEFORE)
    op.drop_table("linkage_apart")
    op.drop_table("linkage_reviews")
    op.drop_table("linkage_models")
    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.drop_column("linked_at")
        batch_op.drop_column("schema_version")
        batch_op.drop_column("encoding")
