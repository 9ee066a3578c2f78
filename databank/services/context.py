"""What a session carries from the runtime (keyring, linkage zone, policy engine, org directory)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from databank.domain.errors import ConfigurationError
from databank.policy import PolicyEngine
from databank.services.audit_signer import AuditSigner
from databank.services.keyring import Keyring
from databank.services.linkage import LinkageZone
from databank.services.orgdir import OrgDirectory


def keyring_of(session: Session) -> Keyring:
    keyring = session.info.get("keyring")
    if not isinstance(keyring, Keyring):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return keyring


def policy_of(session: Session) -> PolicyEngine:
    engine = session.info.get("policy")
    if not isinstance(engine, PolicyEngine):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return engine


def orgs_of(session: Session) -> OrgDirectory:
    directory = session.info.get("orgs")
    if not isinstance(directory, OrgDirectory):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return directory


def linkage_of(session: Session) -> LinkageZone:
    zone = session.info.get("linkage")
    if not isinstance(zone, LinkageZone):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return zone


def signer_of(session: Session) -> AuditSigner:
    signer = session.info.get("audit_signer")
    if not isinstance(signer, AuditSigner):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return signer
