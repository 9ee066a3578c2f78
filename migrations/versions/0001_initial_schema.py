"""Initial schema: organisations, users, pooled persons, per-org identities, cases, needs,
encounters, referrals, consents, key tables, linkage records, erasure ledger, access log.

Reviewed by hand: every personal field is a *_ciphertext column (LargeBinary); clear columns hold
only pseudonymous ids, codes, district geohashes and times. Downgrade drops everything (the data
is not recoverable without the keys anyway).

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_org_id', sa.Uuid(), nullable=True),
    sa.Column('owner_org_id', sa.Uuid(), nullable=True),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_actor_org_id_at', ['actor_org_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_entries_person_id_at', ['person_id', 'at'], unique=False)

    op.create_table('blind_index_configs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('column_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('bits', sa.Integer(), nullable=False),
    sa.Column('planned_population', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blind_index_configs')),
    sa.UniqueConstraint('table_name', 'column_name', 'version', name=op.f('uq_blind_index_configs_table_name_column_name_version'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('council', 'charity', 'housing_provider', 'health', 'other', name='orgkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('privacy_contact', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('slug', name=op.f('uq_organisations_slug'))
    )
    op.create_table('persons',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('active', 'erased', name='personstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    op.create_table('org_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_org_keys_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_keys')),
    sa.UniqueConstraint('org_id', 'version', name=op.f('uq_org_keys_org_id_version'))
    )
    op.create_table('subject_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('org_key_version', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_subject_keys_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_subject_keys_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_keys')),
    sa.UniqueConstraint('person_id', 'org_id', 'version', name=op.f('uq_subject_keys_person_id_org_id_version'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_users_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_id'), ['org_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='casestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=32), nullable=True),
    sa.Column('living_situation', sa.Enum('ethos_1_public_space', 'ethos_2_night_shelter', 'ethos_3_homeless_hostel', 'ethos_4_womens_shelter', 'ethos_5_migrant_accommodation', 'ethos_6_due_release_institution', 'ethos_7_supported_accommodation', 'ethos_8_insecure_accommodation', 'ethos_9_eviction', 'ethos_10_violence', 'ethos_11_temporary_structures', 'ethos_12_unfit_housing', 'ethos_13_overcrowding', 'unknown', 'housed', name='ethoscategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('hud_living_situation', sa.SmallInteger(), nullable=True),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.Column('is_domestic_abuse_survivor', sa.Boolean(), nullable=False),
    sa.Column('area_geohash', sa.String(length=12), nullable=True),
    sa.Column('location_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('notes_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_cases_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_cases_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_org_id_status', ['org_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_person_id'), ['person_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('recipient_org_ids', sa.JSON(), nullable=False),
    sa.Column('recipient_org_kinds', sa.JSON(), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_consents_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_consents_person_id_persons')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_person_id'), ['person_id'], unique=False)

    op.create_table('erasure_tombstones',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_org_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_erasure_tombstones_requested_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_org_id'], ['organisations.id'], name=op.f('fk_erasure_tombstones_requested_by_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_tombstones'))
    )
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_tombstones_person_id'), ['person_id'], unique=True)

    op.create_table('identities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('given_name_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('family_name_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('birth_date_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('sex_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('aliases_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('birth_place_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('phone_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('id_numbers_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('name_dob_bidx', sa.BigInteger(), nullable=True),
    sa.Column('bidx_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_identities_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_identities_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_identities_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
    sa.UniqueConstraint('person_id', 'org_id', name=op.f('uq_identities_person_id_org_id'))
    )
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.create_index('ix_identities_org_id_name_dob_bidx', ['org_id', 'name_dob_bidx'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('outreach_worker', 'housing_officer', 'auditor', 'org_admin', 'break_glass_responder', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('encounters',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('area_geohash', sa.String(length=12), nullable=True),
    sa.Column('location_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('notes_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('services_given', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_encounters_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_encounters_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_encounters_person_id_persons')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_encounters_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounters'))
    )
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounters_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounters_person_id'), ['person_id'], unique=False)

    op.create_table('linkage_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('identity_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('exact_token', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_linkage_records_identity_id_identities')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_linkage_records_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_linkage_records_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linkage_records')),
    sa.UniqueConstraint('identity_id', name=op.f('uq_linkage_records_identity_id'))
    )
    with op.batch_alter_table('linkage_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_linkage_records_exact_token'), ['exact_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_linkage_records_person_id'), ['person_id'], unique=False)

    op.create_table('needs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.Enum('shelter', 'food', 'health', 'mental_health', 'addiction', 'benefits_and_papers', 'employment', 'family', 'legal', 'hygiene', 'clothing', 'domestic_abuse', 'social_contact', 'education_training', name='needcategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'urgent', name='needseverity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('identified', 'in_progress', 'met', 'declined', name='needstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('identified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_needs_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs'))
    )
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_needs_case_id'), ['case_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('from_org_id', sa.Uuid(), nullable=False),
    sa.Column('to_org_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.Enum('outreach', 'case_management', 'housing_allocation', 'food_aid', 'aggregate_statistics', 'audit', 'vital_interest', 'enforcement', 'immigration_control', 'public_order', name='purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'withdrawn', name='referralstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('need_category', sa.Enum('shelter', 'food', 'health', 'mental_health', 'addiction', 'benefits_and_papers', 'employment', 'family', 'legal', 'hygiene', 'clothing', 'domestic_abuse', 'social_contact', 'education_training', name='needcategory', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('note_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users')),
    sa.ForeignKeyConstraint(['from_org_id'], ['organisations.id'], name=op.f('fk_referrals_from_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons')),
    sa.ForeignKeyConstraint(['to_org_id'], ['organisations.id'], name=op.f('fk_referrals_to_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_to_org_id'), ['to_org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_to_org_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_person_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_needs_case_id'))

    op.drop_table('needs')
    with op.batch_alter_table('linkage_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_linkage_records_person_id'))
        batch_op.drop_index(batch_op.f('ix_linkage_records_exact_token'))

    op.drop_table('linkage_records')
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounters_person_id'))
        batch_op.drop_index(batch_op.f('ix_encounters_case_id'))

    op.drop_table('encounters')
    op.drop_table('user_roles')
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_index('ix_identities_org_id_name_dob_bidx')

    op.drop_table('identities')
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_tombstones_person_id'))

    op.drop_table('erasure_tombstones')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_person_id'))

    op.drop_table('consents')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_person_id'))
        batch_op.drop_index('ix_cases_org_id_status')

    op.drop_table('cases')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_id'))

    op.drop_table('users')
    op.drop_table('subject_keys')
    op.drop_table('org_keys')
    op.drop_table('persons')
    op.drop_table('organisations')
    op.drop_table('blind_index_configs')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_person_id_at')
        batch_op.drop_index('ix_audit_entries_actor_org_id_at')

    op.drop_table('audit_entries')
