"""A referral's answers and waiting times: the receiver's decline reason and outcome (closed
codes), when the outcome was recorded and when the referrer withdrew it; a new status,
`completed` (accepted, outcome recorded).

Reviewed by hand: four nullable columns on `referrals` (no data written) and the status CHECK
widened. SQLite cannot alter a CHECK in place, so the table is rebuilt (nothing references
`referrals`); PostgreSQL alters it in place. Downgrade drops the columns and narrows the CHECK
back, turning `completed` referrals back into `accepted` ones first (their outcome is lost).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_BEFORE = ("pending", "accepted", "declined", "withdrawn")
STATUS_AFTER = (*STATUS_BEFORE, "completed")
DECLINE_REASONS = (
    "no_capacity",
    "not_eligible",
    "out_of_area",
    "person_declined",
    "duplicate",
    "other",
)
OUTCOMES = (
    "place_offered",
    "housed",
    "sheltered",
    "service_provided",
    "no_capacity",
    "person_declined",
    "lost_contact",
    "other",
)


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _status(values: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "referrals", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_referrals_referralstatus"), type_="check")
        batch_op.create_check_constraint("referralstatus", sa.column("status").in_(values))


def upgrade() -> None:
    _status(STATUS_AFTER)
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decline_reason", _enum("declinereason", DECLINE_REASONS), nullable=True)
        )
        batch_op.add_column(
            sa.Column("outcome", _enum("referraloutcome", OUTCOMES), nullable=True)
        )
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    referrals = sa.table("referrals", sa.column("status", sa.String()))
    op.execute(
        referrals.update().where(referrals.c.status == "completed").values(status="accepted")
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "referrals", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_referrals_referraloutcome"), type_="check")
        batch_op.drop_constraint(op.f("ck_referrals_declinereason"), type_="check")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("decline_reason")
    _status(STATUS_BEFORE)
