"""Key wrapping: the KMS interface, the in-memory provider, and org and subject key wrapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol
from uuid import UUID

from databank.crypto.envelope import KEY_LEN, SealingKey, aad, key_id_of
from databank.domain.errors import ConfigurationError, DecryptionFailed


def new_key() -> bytes:
    """A fresh random 256-bit key (org keys and subject keys are random, never derived)."""
    return os.urandom(KEY_LEN)


class KeyProvider(Protocol):
    """A key management service that wraps and unwraps keys; the master key never leaves it."""

    @property
    def name(self) -> str:
        """A short label for logs and audit events, e.g. "local"."""
        ...

    def wrap(self, key: bytes, context: bytes) -> bytes:
        """Encrypt key bound to context under the active master key."""
        ...

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        """Decrypt a wrapped key; any failure raises DecryptionFailed."""
        ...


class LocalKeyProvider:
    """A KeyProvider holding master keys in process memory (dev, demo, single-host deployments)."""

    __slots__ = ("_active", "_keys")

    name = "local"

    def __init__(self, master_keys: Mapping[int, bytes], active_version: int) -> None:
        if active_version not in master_keys:
            raise ConfigurationError(f"the active master key version {active_version} has no key")
        # Old versions stay loaded so blobs wrapped before a rotation still unwrap; key_id in each
        # blob's header names its version, so no trial decryption is needed.
        self._keys = {version: SealingKey(key, version) for version, key in master_keys.items()}
        self._active = self._keys[active_version]

    def __repr__(self) -> str:
        return f"LocalKeyProvider(versions={sorted(self._keys)}, active={self._active.key_id})"

    @property
    def active_version(self) -> int:
        return self._active.key_id

    def wrap(self, key: bytes, context: bytes) -> bytes:
        return self._active.seal(key, context)

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        master = self._keys.get(key_id_of(blob))
        if master is None:
            raise DecryptionFailed()
        return master.open(blob, context)


def _check_key(key: bytes, what: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_LEN:
        raise ValueError(f"{what} must be {KEY_LEN} bytes")


def _org_key_context(org_id: UUID, version: int) -> bytes:
    # Threat: a wrapped org key copied onto another org or version row. Binding both means the
    # blob opens only where it was written. The "org-key" label keeps it apart from other contexts.
    return aad("org-key", org_id, version)


def _subject_key_context(org_id: UUID, person_id: UUID) -> bytes:
    # Threat: a wrapped subject key copied to another person, which would let that person's record
    # show another's fields, or survive the crypto-shredding of the original person.
    return aad("subject-key", org_id, person_id)


def wrap_org_key(provider: KeyProvider, org_key: bytes, org_id: UUID, version: int) -> bytes:
    """Wrap an org key under the provider's master key, bound to (org, version)."""
    _check_key(org_key, "an org key")
    return provider.wrap(org_key, _org_key_context(org_id, version))


def unwrap_org_key(provider: KeyProvider, blob: bytes, org_id: UUID, version: int) -> bytes:
    """Unwrap an org key wrapped for (org, version); anything else raises DecryptionFailed."""
    return provider.unwrap(blob, _org_key_context(org_id, version))


def wrap_subject_key(
    org_key: SealingKey, subject_key: bytes, org_id: UUID, person_id: UUID
) -> bytes:
    """Wrap a subject key under an org key, bound to (org, person).

    The org key version travels as the blob's key id, so org key rotation re-wraps subject keys
    without trial decryption and without touching the field ciphertexts.
    """
    _check_key(subject_key, "a subject key")
    return org_key.seal(subject_key, _subject_key_context(org_id, person_id))


def unwrap_subject_key(org_key: SealingKey, blob: bytes, org_id: UUID, person_id: UUID) -> bytes:
    """Unwrap a subject key wrapped for (org, person); anything else raises DecryptionFailed."""
    return org_key.open(blob, _subject_key_context(org_id, person_id))
