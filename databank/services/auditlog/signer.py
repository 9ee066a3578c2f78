"""Who signs checkpoints: the audit signing key (apart from every data key) and the log's name."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from databank.services.context import carried

KEY_NAME = "databank-audit"


@dataclass(frozen=True)
class AuditSigner:
    key: Ed25519PrivateKey
    origin: str
    key_name: str = KEY_NAME

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def __repr__(self) -> str:
        return f"AuditSigner(origin={self.origin!r}, <key hidden>)"


def signer_of(session: Session) -> AuditSigner:
    """The process's audit signer, carried by the session."""
    return carried(session, "audit_signer", AuditSigner)
