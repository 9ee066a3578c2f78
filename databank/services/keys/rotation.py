"""Key operations an operator runs: blind-index set-up, org key rotation and retirement."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.models import Organisation, OrgKey
from databank.services import auditlog
from databank.services.access.directory import get_organisation
from databank.services.keys.keyring import keyring_of


def ensure_schema_keys(session: Session) -> None:
    """Blind-index configs sized by the planner; org keys for any org that lacks one."""
    keyring = keyring_of(session)
    keyring.ensure_blind_index_configs(session)
    with_keys = set(session.execute(select(OrgKey.org_id)).scalars())
    for org in session.execute(select(Organisation)).scalars():
        if org.id not in with_keys:
            keyring.create_org_key(session, org.id)


def rotate_org_key(session: Session, slug: str) -> tuple[int, int]:
    """New org key version, subject keys re-wrapped (no data rewritten). Logged."""
    org = get_organisation(session, slug)
    version, count = keyring_of(session).rotate_org_key(session, org.id)
    auditlog.append(
        session,
        None,
        [
            auditlog.EntryIn(
                AuditEvent.KEY_ROTATED,
                RecordType.ORG_KEY,
                None,
                org.id,
                result_count=count,
                extra={"version": version},
            )
        ],
    )
    return version, count


def retire_org_key(session: Session, slug: str, version: int) -> None:
    """Destroy an old org key version once nothing is wrapped under it. Logged."""
    org = get_organisation(session, slug)
    keyring_of(session).retire_org_key(session, org.id, version)
    auditlog.append(
        session,
        None,
        [
            auditlog.EntryIn(
                AuditEvent.KEY_RETIRED, RecordType.ORG_KEY, None, org.id, extra={"version": version}
            )
        ],
    )


def org_key_versions(session: Session, slug: str) -> list[tuple[int, bool, bool]]:
    """(version, is_active, is_destroyed) of an org's keys."""
    org = get_organisation(session, slug)
    return [
        (v, active, wrapped is None)
        for v, active, wrapped in session.execute(
            select(OrgKey.version, OrgKey.is_active, OrgKey.wrapped_key)
            .where(OrgKey.org_id == org.id)
            .order_by(OrgKey.version)
        )
    ]
