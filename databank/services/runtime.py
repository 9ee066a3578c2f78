"""The running databank: settings, engine, sessions and the key holders, built once per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from databank.config import Settings
from databank.crypto import KeyMaterial, load_keys, load_linkage_secret
from databank.db import create_engine, session_factory
from databank.domain.audit_vocab import AuditEvent
from databank.models import AuditEntry
from databank.policy import PolicyEngine, load_bundle
from databank.services import auditlog
from databank.services.access import AccessRefused, record_denial
from databank.services.access.directory import OrgDirectory
from databank.services.auditlog.signer import AuditSigner
from databank.services.keys.keyring import Keyring
from databank.services.linkage.zone import LinkageZone
from databank.services.statistics import facts as statistics_facts
from databank.services.statistics.labels import use_areas


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    linkage: LinkageZone
    policy: PolicyEngine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error.

        A refused access is rolled back like any failure, then its log entries are written and
        committed on their own: a denied attempt always leaves a trace.
        """
        session = self.sessions()
        try:
            yield session
            session.commit()
        except AccessRefused as refusal:
            session.rollback()
            record_denial(session, refusal)
            session.commit()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def check(self) -> None:
        """Start-up checks that need the database: blind indexes sized for the plan; and a policy
        version different from the last one in force is logged as a policy change."""
        with self.transaction() as session:
            self.keyring.check_blind_indexes(session)
            record_policy_version(session, self.policy.version)

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    material: KeyMaterial | None = None,
    linkage_secret: bytes | None = None,
    engine: Engine | None = None,
) -> Runtime:
    """Load keys (refusing to start without them) and wire the process."""
    keys_dir = settings.resolved_keys_dir
    if material is None:
        material = load_keys(keys_dir, settings.environ)
    if linkage_secret is None:
        linkage_secret = load_linkage_secret(keys_dir, settings.environ)
    # Policies are parsed and validated once, at start-up: a broken policy stops the start.
    policy = PolicyEngine(load_bundle(settings.policies_dir))
    engine = engine or create_engine(settings.database_url)
    keyring = Keyring(material, settings.planned_population)
    linkage = LinkageZone(linkage_secret)
    signer = AuditSigner(material.audit_signing_key, settings.audit_origin)
    info = {
        "keyring": keyring,
        "linkage": linkage,
        "policy": policy,
        "orgs": OrgDirectory(),
        "audit_signer": signer,
        "person_handles": keyring.person_handles,
        # The statistics' facts name each record's area (services/statistics/facts.py).
        "areas": settings.areas,
        statistics_facts.KEEP: True,
    }
    use_areas(settings.areas)
    sessions = session_factory(engine, info)
    return Runtime(settings, engine, sessions, keyring, linkage, policy)


def record_policy_version(session: Session, version: str) -> bool:
    """Log `policy.changed` when the policies in force differ from the last recorded ones."""
    last = session.execute(
        select(AuditEntry.body)
        .where(AuditEntry.event == AuditEvent.POLICY_CHANGED)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is not None and f'"policy_version":"{version}"'.encode() in last:
        return False
    auditlog.append(
        session, None, [auditlog.EntryIn(AuditEvent.POLICY_CHANGED, extra={"now": version})]
    )
    return True
