"""Break-glass grants: time-boxed emergency reads, with a sealed justification.

Reviewed by hand: the justification is a *_ciphertext column; only ids and times are clear.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('break_glass_grants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('justification_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_break_glass_grants_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_break_glass_grants_person_id_persons')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_grants'))
    )
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_break_glass_grants_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_user_id'))

    op.drop_table('break_glass_grants')
