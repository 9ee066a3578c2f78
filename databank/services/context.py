"""What a session carries from the runtime (keyring, linkage zone, policy engine, org directory)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from databank.domain.errors import ConfigurationError
from databank.policy import PolicyEngine
from databank.services.audit_signer import AuditSigner
from databank.services.keyring import Keyring
from databank.services.linkage import LinkageZone
from databank.services.orgdir import OrgDirectory

T = TypeVar("T")


def _carried(session: Session, key: str, kind: type[T]) -> T:
    value = session.info.get(key)
    if not isinstance(value, kind):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return value


def keyring_of(session: Session) -> Keyring:
    return _carried(session, "keyring", Keyring)


def policy_of(session: Session) -> PolicyEngine:
    return _carried(session, "policy", PolicyEngine)


def orgs_of(session: Session) -> OrgDirectory:
    return _carried(session, "orgs", OrgDirectory)


def linkage_of(session: Session) -> LinkageZone:
    return _carried(session, "linkage", LinkageZone)


def signer_of(session: Session) -> AuditSigner:
    return _carried(session, "audit_signer", AuditSigner)
