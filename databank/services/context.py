"""What a session carries from the runtime: each capability reads its own holder through `carried`.

The holders (keyring, policy engine, org directory, linkage zone, audit signer, person handles)
are put in `session.info` by the runtime; each capability declares its own accessor beside the
holder, so this module imports none of them and sits below every capability. The person handles
are the keyring's, carried on their own so the log writer, below the keys, can name people."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from databank.crypto.handles import PersonHandles
from databank.domain.errors import ConfigurationError
from databank.policy import PolicyEngine

T = TypeVar("T")


def carried(session: Session, key: str, kind: type[T]) -> T:
    value = session.info.get(key)
    if not isinstance(value, kind):
        raise ConfigurationError("this session was not opened by the databank runtime")
    return value


def policy_of(session: Session) -> PolicyEngine:
    return carried(session, "policy", PolicyEngine)


def handles_of(session: Session) -> PersonHandles:
    """The per-organisation person handles (the keyring's): the access log names people by them."""
    return carried(session, "person_handles", PersonHandles)
