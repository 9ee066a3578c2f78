"""Failed sign-ins are counted per (account, address): each row also holds the account's tag.

Reviewed by hand: one column and one index. The account an attempt named (a username as typed,
case folded; or the invitation codes) is kept as a 16-byte keyed tag, like the address, never
in clear. Rows already there name no account: they are deleted (they are short-lived counts,
and a throttle that starts again from nothing refuses no one). Downgrade drops the column and
the index; the rows left then count per address as before.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_sign_in_failures_address_tag_account_tag_at"


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM sign_in_failures"))
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_tag", sa.LargeBinary(length=16), nullable=False))
        batch_op.create_index(INDEX, ["address_tag", "account_tag", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("account_tag")
