"""The case lifecycle: dated case events, identity corrections, a closed case's destination.

Reviewed by hand: `case_events` holds each change of a case as coarse codes (living situation,
a need's status or urgency, closing with its reason and destination, reopening), dated and
attributed. `identity_changes` keeps an identity's previous values sealed under the subject's
key (which fields changed is a list of field names, never values). `cases.destination` is the
kind of accommodation a case closed as housed or sheltered went to. Need statuses gain
`not_met` and `withdrawn`; `declined` (the person declined the help) becomes `withdrawn`, so
the CHECK is widened, the rows moved, then narrowed. The downgrade moves `withdrawn` and
`not_met` back to `declined` (the one former end state that was not "met") and drops the rest.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEED_BEFORE = ("identified", "in_progress", "met", "declined")
NEED_AFTER = ("identified", "in_progress", "met", "not_met", "withdrawn")
EVENT_KINDS = ("living_situation", "need_status", "need_severity", "closed", "reopened")
DESTINATIONS = (
    "rental_private",
    "rental_subsidised",
    "owned",
    "family_permanent",
    "friends_permanent",
    "supported_housing",
    "hostel",
    "emergency_shelter",
    "womens_shelter",
    "family_temporary",
    "friends_temporary",
    "hotel",
    "hospital_or_treatment",
    "care_home",
    "prison",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _need_statuses(statuses: tuple[str, ...]) -> None:
    check = sa.column("status").in_(statuses)
    if not _sqlite():
        # PostgreSQL alters the CHECK in place (a table copy would trip on the foreign keys).
        op.drop_constraint(op.f("ck_needs_needstatus"), "needs", type_="check")
        op.create_check_constraint("needstatus", "needs", check)
        return
    with op.batch_alter_table("needs", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_needs_needstatus"), type_="check")
        batch_op.create_check_constraint("needstatus", check)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    _need_statuses(tuple(dict.fromkeys(NEED_BEFORE + NEED_AFTER)))
    op.execute("UPDATE needs SET status = 'withdrawn' WHERE status = 'declined'")
    _need_statuses(NEED_AFTER)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("destination", _enum(DESTINATIONS, "destination"), nullable=True)
        )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=True),
        sa.Column("kind", _enum(EVENT_KINDS, "caseeventkind"), nullable=False),
        sa.Column("from_code", sa.String(length=40), nullable=True),
        sa.Column("to_code", sa.String(length=40), nullable=True),
        sa.Column("detail_code", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_case_events_need_id_needs")
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_case_events_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index("ix_case_events_case_id_at", "case_events", ["case_id", "at"])
    op.create_table(
        "identity_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("given_name_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("family_name_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("birth_date_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("aliases_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("phone_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_changes_identity_id_identities"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_identity_changes_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_identity_changes_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_identity_changes_changed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_changes")),
    )
    op.create_index(op.f("ix_identity_changes_identity_id"), "identity_changes", ["identity_id"])


def downgrade() -> None:
    op.drop_table("identity_changes")
    op.drop_table("case_events")
    if _sqlite():
        # SQLite copies the table without the column and its CHECK.
        with op.batch_alter_table("cases", schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f("ck_cases_destination"), type_="check")
            batch_op.drop_column("destination")
    else:
        op.drop_column("cases", "destination")  # its CHECK goes with it
    _need_statuses(tuple(dict.fromkeys(NEED_BEFORE + NEED_AFTER)))
    op.execute("UPDATE needs SET status = 'declined' WHERE status IN ('withdrawn', 'not_met')")
    _need_statuses(NEED_BEFORE)
