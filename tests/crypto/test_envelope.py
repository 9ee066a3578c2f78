"""Tests of the ciphertext envelope: known answers, associated data, and every tamper case."""

from __future__ import annotations

import contextlib
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from databank.crypto import envelope
from databank.crypto.envelope import (
    HEADER_LEN,
    NONCE_LEN,
    TAG_LEN,
    RowContext,
    SealingKey,
    aad,
    field_context,
    key_id_of,
)
from databank.crypto.padding import pad
from databank.domain.errors import DecryptionFailed

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NONCE = bytes(range(100, 112))
ORG = UUID("11111111-1111-4111-8111-111111111111")
ROW = UUID("22222222-2222-4222-8222-222222222222")
PERSON = UUID("33333333-3333-4333-8333-333333333333")
OTHER = UUID("44444444-4444-4444-8444-444444444444")
CONTEXT = field_context(ORG, "people", "given_name", ROW, PERSON)
PLAINTEXT = pad("Amélie".encode())
OPAQUE_MESSAGE = "the protected value could not be read"

# Computed once with AESGCM(KEY).encrypt(NONCE, PLAINTEXT, header + CONTEXT); see the cross-check.
EXPECTED_BLOB = bytes.fromhex(
    "010100000007"  # version 1, AES-256-GCM, key id 7
    "6465666768696a6b6c6d6e6f"  # nonce
    "09761dcf1580331e3e625fe8da656afd"  # ciphertext of the 16 padded bytes
    "722428c73ee4136626ddccdabdf90e12"  # tag
)

SEALING_KEY = SealingKey(KEY, 7)
BLOB = SEALING_KEY._seal_with_nonce(PLAINTEXT, CONTEXT, NONCE)


def assert_opaque(excinfo: pytest.ExceptionInfo[DecryptionFailed]) -> None:
    error = excinfo.value
    assert type(error) is DecryptionFailed
    assert str(error) == OPAQUE_MESSAGE
    assert error.__cause__ is None
    assert error.__context__ is None


def assert_open_fails(key: SealingKey, blob: bytes, context: bytes = CONTEXT) -> None:
    with pytest.raises(DecryptionFailed) as excinfo:
        key.open(blob, context)
    assert_opaque(excinfo)


def test_known_answer() -> None:
    """A fixed key, nonce, plaintext and context give the recorded ciphertext, byte for byte."""
    header = bytes.fromhex("010100000007")
    cross_check = header + NONCE + AESGCM(KEY).encrypt(NONCE, PLAINTEXT, header + CONTEXT)
    assert cross_check == EXPECTED_BLOB
    assert BLOB == EXPECTED_BLOB
    assert SEALING_KEY.open(EXPECTED_BLOB, CONTEXT) == PLAINTEXT


def test_seal_uses_a_fresh_random_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    """seal draws its nonce from os.urandom, so two seals of the same value differ."""
    monkeypatch.setattr(envelope.os, "urandom", lambda n: NONCE[:n])
    assert SEALING_KEY.seal(PLAINTEXT, CONTEXT) == EXPECTED_BLOB
    monkeypatch.undo()
    first = SEALING_KEY.seal(PLAINTEXT, CONTEXT)
    second = SEALING_KEY.seal(PLAINTEXT, CONTEXT)
    assert first != second
    assert SEALING_KEY.open(first, CONTEXT) == SEALING_KEY.open(second, CONTEXT) == PLAINTEXT


def test_blob_layout() -> None:
    """A blob is header, nonce, ciphertext and tag: as long as the plaintext plus 34 bytes."""
    assert len(BLOB) == HEADER_LEN + NONCE_LEN + len(PLAINTEXT) + TAG_LEN
    assert key_id_of(BLOB) == 7


def test_aad_vector() -> None:
    assert aad("org-key", ORG, 7) == bytes.fromhex(
        "000000076f72672d6b65790000001011111111111141118111111111111111000000080000000000000007"
    )
    assert aad(b"", -1, "é") == bytes.fromhex("0000000000000008ffffffffffffffff00000002c3a9")
    assert aad() == b""


def test_aad_is_unambiguous() -> None:
    """Length prefixes keep part boundaries: ("ab", "c") and ("a", "bc") differ."""
    assert aad("ab", "c") != aad("a", "bc")
    assert aad(b"ab") != aad("a", "b")


def test_aad_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        aad(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64 bits"):
        aad(2**63)


@given(table=st.text(), column=st.text(), ids=st.lists(st.uuids(), min_size=3, max_size=3))
def test_field_context_equals_aad(table: str, column: str, ids: list[UUID]) -> None:
    org, row, person = ids
    assert field_context(org, table, column, row, person) == aad(org, table, column, row, person)


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_flipped_byte_fails(mask: int) -> None:
    """Changing any byte of a blob (header, nonce, ciphertext or tag) makes it fail to open."""
    for position in range(len(BLOB)):
        tampered = bytearray(BLOB)
        tampered[position] ^= mask
        assert_open_fails(SEALING_KEY, bytes(tampered))


def test_every_truncation_fails() -> None:
    """A blob cut short at any length, down to empty, fails to open."""
    for length in range(len(BLOB)):
        assert_open_fails(SEALING_KEY, BLOB[:length])


def test_empty_blob_fails() -> None:
    """An empty blob fails to open and has no key id."""
    assert_open_fails(SEALING_KEY, b"")
    with pytest.raises(DecryptionFailed) as excinfo:
        key_id_of(b"")
    assert_opaque(excinfo)


def test_wrong_key_fails() -> None:
    """A blob fails to open under another key that claims the same key id."""
    assert_open_fails(SealingKey(OTHER_KEY, 7), BLOB)


def test_wrong_key_id_fails() -> None:
    """The key id is authenticated: neither another key id nor an edited header opens the blob."""
    assert_open_fails(SealingKey(KEY, 8), BLOB)
    relabelled = BLOB[:2] + (8).to_bytes(4, "big") + BLOB[HEADER_LEN:]
    assert key_id_of(relabelled) == 8
    assert_open_fails(SealingKey(KEY, 8), relabelled)


@pytest.mark.parametrize(("position", "value"), [(0, 0), (0, 2), (1, 0), (1, 2)])
def test_unknown_version_or_algorithm_fails(position: int, value: int) -> None:
    """A blob with an unknown format version or algorithm neither opens nor yields a key id."""
    changed = bytearray(BLOB)
    changed[position] = value
    assert_open_fails(SEALING_KEY, bytes(changed))
    with pytest.raises(DecryptionFailed) as excinfo:
        key_id_of(bytes(changed))
    assert_opaque(excinfo)


@pytest.mark.parametrize(
    "moved_to",
    [
        pytest.param(field_context(OTHER, "people", "given_name", ROW, PERSON), id="org"),
        pytest.param(field_context(ORG, "encounters", "given_name", ROW, PERSON), id="table"),
        pytest.param(field_context(ORG, "people", "family_name", ROW, PERSON), id="column"),
        pytest.param(field_context(ORG, "people", "given_name", OTHER, PERSON), id="row"),
        pytest.param(field_context(ORG, "people", "given_name", ROW, OTHER), id="person"),
        pytest.param(b"", id="no-context"),
    ],
)
def test_moved_ciphertext_fails(moved_to: bytes) -> None:
    """A field ciphertext copied to another org, table, column, row or person fails to open."""
    assert_open_fails(SEALING_KEY, BLOB, moved_to)


@given(plaintext=st.binary(max_size=300), context=st.binary(max_size=100))
def test_round_trip(plaintext: bytes, context: bytes) -> None:
    assert SEALING_KEY.open(SEALING_KEY.seal(plaintext, context), context) == plaintext


@given(blob=st.binary(max_size=80))
def test_arbitrary_bytes_only_raise_the_opaque_error(blob: bytes) -> None:
    """Any forged blob fails with DecryptionFailed and nothing else (no parser error leaks)."""
    with pytest.raises(DecryptionFailed):
        SEALING_KEY.open(blob, CONTEXT)
    with contextlib.suppress(DecryptionFailed):
        key_id_of(blob)


@pytest.mark.parametrize("bad_key", [b"", bytes(16), bytes(31), bytes(33), "k" * 32])
def test_sealing_key_rejects_bad_keys_without_echoing_them(bad_key: bytes) -> None:
    """A bad key is refused with a message that contains no key material."""
    with pytest.raises(ValueError, match="32 bytes") as excinfo:
        SealingKey(bad_key, 1)
    assert repr(bad_key) not in str(excinfo.value)


@pytest.mark.parametrize("key_id", [-1, 2**32])
def test_sealing_key_rejects_key_ids_out_of_range(key_id: int) -> None:
    with pytest.raises(ValueError, match="key id"):
        SealingKey(KEY, key_id)


@pytest.mark.parametrize("key_id", [0, 1, 65, 2**32 - 1])
def test_sealing_key_takes_every_key_id_of_the_header(key_id: int) -> None:
    """Every key id the 4-byte header can carry is a valid one, and it travels in the blob."""
    blob = SealingKey(KEY, key_id).seal(PLAINTEXT, CONTEXT)
    assert key_id_of(blob) == key_id


def test_repr_hides_the_key() -> None:
    """repr of a SealingKey shows its key id and never the key bytes."""
    text = repr(SEALING_KEY)
    assert text == "SealingKey(key_id=7)"
    assert KEY.hex() not in text
    assert SEALING_KEY.key_id == 7


@given(st.uuids(), st.text(max_size=40), st.text(max_size=40), st.uuids(), st.uuids())
def test_row_context_equals_field_context(
    org: UUID, table: str, column: str, row: UUID, person: UUID
) -> None:
    """The per-row shortcut binds exactly the same associated data as field_context."""
    assert RowContext(org, table, row, person).for_column(column) == field_context(
        org, table, column, row, person
    )
