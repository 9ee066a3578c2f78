"""Tests of the local key provider and of org and subject key wrapping."""

from __future__ import annotations

from uuid import UUID

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from databank.crypto.envelope import SealingKey, aad, key_id_of
from databank.crypto.keys import (
    LocalKeyProvider,
    new_key,
    unwrap_org_key,
    unwrap_subject_key,
    wrap_org_key,
    wrap_subject_key,
)
from databank.domain.errors import ConfigurationError, DecryptionFailed

MASTER_V1 = bytes(range(32))
MASTER_V2 = bytes(range(32, 64))
ORG_KEY = bytes(range(64, 96))
SUBJECT_KEY = bytes(range(96, 128))
ORG = UUID("11111111-1111-4111-8111-111111111111")
PERSON = UUID("33333333-3333-4333-8333-333333333333")
OTHER = UUID("44444444-4444-4444-8444-444444444444")


def test_new_key_is_random_and_32_bytes() -> None:
    assert len(new_key()) == 32
    assert new_key() != new_key()


def test_org_key_round_trip() -> None:
    provider = LocalKeyProvider({1: MASTER_V1}, 1)
    blob = wrap_org_key(provider, ORG_KEY, ORG, 3)
    assert unwrap_org_key(provider, blob, ORG, 3) == ORG_KEY


@pytest.mark.parametrize(("org", "version"), [(OTHER, 3), (ORG, 4), (ORG, 2)])
def test_org_key_bound_to_org_and_version(org: UUID, version: int) -> None:
    """A wrapped org key opens only for the org and version it was wrapped for."""
    provider = LocalKeyProvider({1: MASTER_V1}, 1)
    blob = wrap_org_key(provider, ORG_KEY, ORG, 3)
    with pytest.raises(DecryptionFailed):
        unwrap_org_key(provider, blob, org, version)


def test_org_key_needs_the_right_master_key() -> None:
    """A wrapped org key does not open under another master key of the same version."""
    blob = wrap_org_key(LocalKeyProvider({1: MASTER_V1}, 1), ORG_KEY, ORG, 3)
    with pytest.raises(DecryptionFailed):
        unwrap_org_key(LocalKeyProvider({1: MASTER_V2}, 1), blob, ORG, 3)


def test_subject_key_round_trip() -> None:
    org_key = SealingKey(ORG_KEY, 3)
    blob = wrap_subject_key(org_key, SUBJECT_KEY, ORG, PERSON)
    assert key_id_of(blob) == 3
    assert unwrap_subject_key(org_key, blob, ORG, PERSON) == SUBJECT_KEY


@pytest.mark.parametrize(
    ("org_key", "org", "person"),
    [
        pytest.param(SealingKey(ORG_KEY, 3), OTHER, PERSON, id="other-org"),
        pytest.param(SealingKey(ORG_KEY, 3), ORG, OTHER, id="other-person"),
        pytest.param(SealingKey(ORG_KEY, 4), ORG, PERSON, id="other-org-key-version"),
        pytest.param(SealingKey(MASTER_V1, 3), ORG, PERSON, id="other-org-key"),
    ],
)
def test_subject_key_bound_to_org_person_and_org_key(
    org_key: SealingKey, org: UUID, person: UUID
) -> None:
    """A wrapped subject key opens only under its org key, for its org and person."""
    blob = wrap_subject_key(SealingKey(ORG_KEY, 3), SUBJECT_KEY, ORG, PERSON)
    with pytest.raises(DecryptionFailed):
        unwrap_subject_key(org_key, blob, org, person)


def test_wrapping_refuses_keys_of_the_wrong_length() -> None:
    provider = LocalKeyProvider({1: MASTER_V1}, 1)
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_org_key(provider, bytes(16), ORG, 1)
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_subject_key(SealingKey(ORG_KEY, 1), bytes(31), ORG, PERSON)


def test_master_key_rotation_keeps_old_blobs_readable() -> None:
    """After the active master version changes, blobs wrapped under the old version still open."""
    old_blob = wrap_org_key(LocalKeyProvider({1: MASTER_V1}, 1), ORG_KEY, ORG, 1)
    rotated = LocalKeyProvider({1: MASTER_V1, 2: MASTER_V2}, 2)
    assert unwrap_org_key(rotated, old_blob, ORG, 1) == ORG_KEY
    new_blob = wrap_org_key(rotated, ORG_KEY, ORG, 1)
    assert key_id_of(new_blob) == 2
    assert unwrap_org_key(rotated, new_blob, ORG, 1) == ORG_KEY
    # Once version 1 is retired, its blobs no longer open.
    retired = LocalKeyProvider({2: MASTER_V2}, 2)
    with pytest.raises(DecryptionFailed):
        unwrap_org_key(retired, old_blob, ORG, 1)


def test_provider_rejects_an_unknown_key_id_opaquely() -> None:
    """A blob naming a master version the provider lacks fails with the opaque error."""
    provider = LocalKeyProvider({1: MASTER_V1}, 1)
    with pytest.raises(DecryptionFailed) as excinfo:
        provider.unwrap(SealingKey(MASTER_V1, 9).seal(ORG_KEY, b""), b"")
    assert excinfo.value.__context__ is None


def test_provider_needs_its_active_version() -> None:
    with pytest.raises(ConfigurationError, match="active master key version 2"):
        LocalKeyProvider({1: MASTER_V1}, 2)


def test_provider_repr_shows_no_keys() -> None:
    provider = LocalKeyProvider({1: MASTER_V1, 2: MASTER_V2}, 2)
    assert repr(provider) == "LocalKeyProvider(versions=[1, 2], active=2)"
    assert provider.name == "local"
    assert provider.active_version == 2


# Wrapped keys recorded once (fixed nonce 0x64..0x6f) with the wrapping contexts of today:
# header | nonce | ciphertext of the 32-byte key | tag.
NONCE = bytes(range(100, 112))
WRAPPED_ORG_KEY = bytes.fromhex(
    "010100000001"  # version 1, AES-256-GCM, master key version 1
    "6465666768696a6b6c6d6e6f"
    "085a9c253dac10d9762b15a3962824b212935459df39a525ff88f613a7fefb17"
    "88b2a85df4b06a9c594f7126c5164275"
)
WRAPPED_SUBJECT_KEY = bytes.fromhex(
    "010100000003"  # version 1, AES-256-GCM, org key version 3
    "6465666768696a6b6c6d6e6f"
    "911f640731f7a0d5a50bf9eb3595f3893c2ffeb9e5f9cbb164f8b5973e3cc245"
    "3b031bfd98226c0e25d36e3bb9a0c981"
)


def test_wrapped_keys_of_today_open_tomorrow() -> None:
    """The wrapping contexts are a stored format: a key wrapped for (org, version) or for
    (org, person), under its label ("org-key", "subject-key"), opens with the recorded bytes.
    A change to a label or to what is bound would leave every stored key unreadable."""
    provider = LocalKeyProvider({1: MASTER_V1}, 1)
    assert unwrap_org_key(provider, WRAPPED_ORG_KEY, ORG, 3) == ORG_KEY
    org_key = SealingKey(ORG_KEY, 3)
    assert unwrap_subject_key(org_key, WRAPPED_SUBJECT_KEY, ORG, PERSON) == SUBJECT_KEY
    # Cross-check of the recorded bytes, from the envelope's own primitives.
    header = WRAPPED_SUBJECT_KEY[:6]
    sealed = AESGCM(ORG_KEY).encrypt(NONCE, SUBJECT_KEY, header + aad("subject-key", ORG, PERSON))
    assert header + NONCE + sealed == WRAPPED_SUBJECT_KEY
