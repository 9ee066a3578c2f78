"""Truncated-HMAC blind indexes for exact search inside one org, sized so each value is shared."""

from __future__ import annotations

import hmac
import math
import struct
from uuid import UUID

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from databank.crypto.envelope import KEY_LEN, aad
from databank.domain.errors import ConfigurationError

# Threat: a database thief holding the index column. A full-length HMAC gives every person a unique
# value, which works as a pseudonym (frequency analysis, joining tables, spotting one person across
# visits). Truncating so that each value covers 16-64 rows keeps every value k-anonymous; the lower
# bound is that privacy floor, the upper bound caps how many candidate rows a search must decrypt.
MIN_ROWS_PER_VALUE = 16
MAX_ROWS_PER_VALUE = 64

_MAX_BITS = 63
_UINT64 = struct.Struct(">Q")


def plan_bits(planned_rows: int) -> int:
    """The index width for a planned population: max(1, round(log2(planned_rows)) - 5)."""
    if planned_rows < 1:
        raise ValueError("planned_rows must be at least 1")
    # round(log2 n) - 5 leaves n / 2**bits between 2**4.5 and 2**5.5 (about 23-45 rows per value).
    return min(_MAX_BITS, max(1, round(math.log2(planned_rows)) - 5))


def check_plan(bits: int, planned_rows: int, name: str) -> None:
    """Raise ConfigurationError unless planned_rows / 2**bits lies in [16, 64]."""
    if planned_rows < 1:
        raise ValueError("planned_rows must be at least 1")
    rows_per_value = planned_rows / 2**bits if 1 <= bits <= _MAX_BITS else 0.0
    if not MIN_ROWS_PER_VALUE <= rows_per_value <= MAX_ROWS_PER_VALUE:
        raise ConfigurationError(
            f"blind index {name}: {bits} bits for {planned_rows} planned rows gives "
            f"{rows_per_value:.1f} rows per value, outside "
            f"{MIN_ROWS_PER_VALUE}-{MAX_ROWS_PER_VALUE}; use {plan_bits(planned_rows)} bits"
        )


class BlindIndex:
    """The blind index of one (table, column, scope, version): HMAC-SHA256 truncated to bits."""

    __slots__ = ("_bits", "_key", "_name", "_shift")

    def __init__(
        self, index_root: bytes, table: str, column: str, scope: UUID, version: int, bits: int
    ) -> None:
        if not isinstance(index_root, bytes) or len(index_root) != KEY_LEN:
            raise ValueError(f"the index root key must be {KEY_LEN} bytes")
        if not 1 <= bits <= _MAX_BITS:
            raise ValueError(f"bits must be in [1, {_MAX_BITS}]")
        self._bits = bits
        self._name = f"table={table!r}, column={column!r}, scope={scope}, version={version}"
        # One key per (table, column, scope, version). Threat: with a shared key, equal values in
        # two orgs (or two columns) would give equal index values, letting a thief join people
        # across orgs. A scope-specific key makes them unrelated; a new version re-keys.
        self._key = HKDF(
            algorithm=SHA256(),
            length=32,
            salt=None,
            info=aad("blind-index", table, column, scope, version),
        ).derive(index_root)
        self._shift = 64 - bits

    @property
    def bits(self) -> int:
        return self._bits

    def __repr__(self) -> str:
        return f"BlindIndex({self._name}, bits={self._bits})"

    def compute(self, value: str) -> int:
        """The index value of an already normalised value, in [0, 2**bits)."""
        # hmac.digest is the one-shot OpenSSL path and avoids building an HMAC object per call.
        digest = hmac.digest(self._key, value.encode(), "sha256")
        top: int = _UINT64.unpack_from(digest)[0]
        return top >> self._shift


class AddressTags:
    """Client network addresses, and the accounts attempts named, as the sign-in throttle counts
    them: HMAC-SHA256 under a key derived for this use alone, cut to 16 bytes.

    Threat: a database thief reading the throttle's rows. IPv4 addresses are few enough to hash
    them all, so a plain hash would name each address; without the index root, a tag names none.
    The rows live for the throttle's window only.
    """

    __slots__ = ("_key",)

    def __init__(self, index_root: bytes) -> None:
        if not isinstance(index_root, bytes) or len(index_root) != KEY_LEN:
            raise ValueError(f"the index root key must be {KEY_LEN} bytes")
        self._key = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=aad("sign-in-throttle", 1)
        ).derive(index_root)

    def __repr__(self) -> str:
        return "AddressTags()"

    def tag(self, address: str) -> bytes:
        return hmac.digest(self._key, address.encode(), "sha256")[:16]

    def account_tag(self, account: str) -> bytes:
        """The tag of the account an attempt named (a username as typed, case folded), so that
        failures are counted per (account, address) without keeping usernames beside addresses.
        A prefix keeps it apart from every address's tag."""
        return hmac.digest(self._key, aad("account", account.casefold()), "sha256")[:16]


class StatTokens:
    """How the statistics' facts name an organisation's record of a person and the pooled
    person: HMAC-SHA256 under a key derived for the statistics alone, cut to 16 bytes.

    Threat: a database thief joining the coarse facts (area, age band, sex, needs by month) back
    to cases. Without the index root key, a token names no subject and no person; with the
    database alone, the facts are a table of tokens and codes.
    """

    __slots__ = ("_key",)

    def __init__(self, index_root: bytes) -> None:
        if not isinstance(index_root, bytes) or len(index_root) != KEY_LEN:
            raise ValueError(f"the index root key must be {KEY_LEN} bytes")
        self._key = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=aad("statistics-tokens", 1)
        ).derive(index_root)

    def __repr__(self) -> str:
        return "StatTokens()"

    def subject(self, subject_id: UUID) -> bytes:
        return hmac.digest(self._key, aad("subject", subject_id.bytes), "sha256")[:16]

    def person(self, person_id: UUID) -> bytes:
        return hmac.digest(self._key, aad("person", person_id.bytes), "sha256")[:16]
