"""The ciphertext envelope: AES-256-GCM with a versioned header and length-prefixed AAD."""

from __future__ import annotations

import os
import struct
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from databank.domain.errors import DecryptionFailed

VERSION = 1
ALG_AES_256_GCM = 1
HEADER_LEN = 6
NONCE_LEN = 12
TAG_LEN = 16
KEY_LEN = 32

# The shortest blob seal can produce: header, nonce and the tag of an empty plaintext.
_MIN_BLOB_LEN = HEADER_LEN + NONCE_LEN + TAG_LEN
_BODY_START = HEADER_LEN + NONCE_LEN

_HEADER = struct.Struct(">BBI")
_LENGTH = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_UUID_LENGTH = _LENGTH.pack(16)


def aad(*parts: bytes | str | int | UUID) -> bytes:
    """Encode parts as associated data: each is a 4-byte big-endian length then its bytes.

    The length prefix answers a splicing threat: without it ("ab", "c") and ("a", "bc") would give
    the same associated data, so a ciphertext could be opened under another table/column pair.
    """
    chunks: list[bytes] = []
    for part in parts:
        # Most common part type first: this runs whenever a key is wrapped or an index derived.
        if isinstance(part, UUID):
            raw = part.bytes
        elif isinstance(part, str):
            raw = part.encode()
        elif isinstance(part, bytes):
            raw = part
        elif isinstance(part, int):
            try:
                raw = _INT64.pack(part)
            except struct.error:
                raise ValueError("an integer part of associated data must fit in 64 bits") from None
        else:
            raise TypeError(
                f"associated data parts must be bytes, str, int or UUID, not {type(part)}"
            )
        chunks.append(_LENGTH.pack(len(raw)))
        chunks.append(raw)
    return b"".join(chunks)


def field_context(org_id: UUID, table: str, column: str, row_id: UUID, person_id: UUID) -> bytes:
    """The associated data that binds a field ciphertext to its place.

    Equal to aad(org_id, table, column, row_id, person_id), spelled out because it runs for every
    field (about twice as fast as the general loop in aad).

    Threat: an attacker with write access to the database copies a ciphertext to another row,
    column, person or org (for example to make person A's note appear under person B). The context
    is rebuilt from where the ciphertext is read, never stored, so a moved ciphertext fails to open.
    """
    table_raw = table.encode()
    column_raw = column.encode()
    return b"".join(
        (
            _UUID_LENGTH,
            org_id.bytes,
            _LENGTH.pack(len(table_raw)),
            table_raw,
            _LENGTH.pack(len(column_raw)),
            column_raw,
            _UUID_LENGTH,
            row_id.bytes,
            _UUID_LENGTH,
            person_id.bytes,
        )
    )


class RowContext:
    """The field contexts of one row: `for_column(c)` is field_context(org, table, c, row, person).

    The parts that every column of the row shares are encoded once; sealing a row's fields then
    costs one concatenation per field.
    """

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, org_id: UUID, table: str, row_id: UUID, person_id: UUID) -> None:
        table_raw = table.encode()
        self._prefix = b"".join(
            (_UUID_LENGTH, org_id.bytes, _LENGTH.pack(len(table_raw)), table_raw)
        )
        self._suffix = b"".join((_UUID_LENGTH, row_id.bytes, _UUID_LENGTH, person_id.bytes))

    def for_column(self, column: str) -> bytes:
        column_raw = _COLUMNS.get(column)
        if column_raw is None:
            raw = column.encode()
            column_raw = _COLUMNS[column] = _LENGTH.pack(len(raw)) + raw
        return self._prefix + column_raw + self._suffix


_COLUMNS: dict[str, bytes] = {}


def key_id_of(blob: bytes) -> int:
    """The key id in a blob's header, so the caller can pick the key without trial decryption."""
    if len(blob) < _MIN_BLOB_LEN:
        raise DecryptionFailed()
    version, alg, key_id = _HEADER.unpack_from(blob)
    if version != VERSION or alg != ALG_AES_256_GCM:
        raise DecryptionFailed()
    return int(key_id)


class SealingKey:
    """One AES-256-GCM key with its key id; seals and opens blobs in the envelope format."""

    __slots__ = ("_aead", "_header", "_key_id")

    def __init__(self, key: bytes, key_id: int) -> None:
        # The messages never include the key: a ValueError can end up in a log line or a bug report.
        if not isinstance(key, bytes) or len(key) != KEY_LEN:
            raise ValueError(f"a sealing key must be {KEY_LEN} bytes")
        if not 0 <= key_id < 2**32:
            raise ValueError("a key id must be in [0, 2**32)")
        # Building AESGCM expands the key schedule; done once here rather than per field.
        self._aead = AESGCM(key)
        self._key_id = key_id
        self._header = _HEADER.pack(VERSION, ALG_AES_256_GCM, key_id)

    @property
    def key_id(self) -> int:
        return self._key_id

    def __repr__(self) -> str:
        return f"SealingKey(key_id={self._key_id})"

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt plaintext bound to context; returns header | nonce | ciphertext | tag."""
        # Random 96-bit nonces: the threat is nonce reuse under one key, which breaks GCM entirely.
        # The busiest key here (an org key, wrapping one subject key per person) seals a few hundred
        # thousand values, far below NIST's limit of 2**32 messages per key with random nonces.
        return self._seal_with_nonce(plaintext, context, os.urandom(NONCE_LEN))

    def _seal_with_nonce(self, plaintext: bytes, context: bytes, nonce: bytes) -> bytes:
        """Seal with a given nonce; only for known-answer tests, never reuse a nonce."""
        header = self._header
        # The header is authenticated too, so a changed version, algorithm or key id fails to open.
        return header + nonce + self._aead.encrypt(nonce, plaintext, header + context)

    def open(self, blob: bytes, context: bytes) -> bytes:
        """Decrypt a blob sealed by this key under the same context, or raise DecryptionFailed.

        Every cause (short blob, other version, algorithm or key id, bad tag) raises the same error
        with no chained cause, so an attacker probing with forged blobs learns nothing about which
        check failed.
        """
        header = self._header
        if len(blob) < _MIN_BLOB_LEN or blob[:HEADER_LEN] != header:
            raise DecryptionFailed()
        try:
            return self._aead.decrypt(
                blob[HEADER_LEN:_BODY_START], blob[_BODY_START:], header + context
            )
        except InvalidTag:
            pass
        # Raised outside the except block so that not even __context__ refers to the InvalidTag.
        raise DecryptionFailed()
