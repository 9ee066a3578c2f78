"""Keyed exact-match tokens of a person's names and birth date, for the linkage zone."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from databank.domain.names import birth_date_key, name_key

SECRET_LENGTH = 32
TOKEN_LENGTH = 32
_EXACT_TOKEN_INFO = b"databank linkage exact-token v1"


@dataclass(frozen=True)
class LinkageEncoding:
    """What the linkage zone keeps of one identity: encodings only, never the identifiers."""

    # Left out of repr: a token is stable per person, so one in a log line would let anyone
    # holding two logs link the same person across them.
    exact_token: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.exact_token) != TOKEN_LENGTH:
            raise ValueError(f"exact_token must be {TOKEN_LENGTH} bytes")


class LinkageEncoder:
    """Encodes identifiers with the linkage secret, which no other part of the app loads.

    Today the encoding is one HMAC-SHA256 token of the normalised given name, family name and
    birth date, so only exact matches after normalisation link. Without the secret, a stolen
    table of tokens cannot be tested against guessed names and birth dates (a dictionary attack
    that a plain hash would allow).
    """

    __slots__ = ("_token_key",)

    def __init__(self, secret: bytes) -> None:
        # The message never includes the secret or its length, which would leak into logs.
        if not isinstance(secret, bytes) or len(secret) != SECRET_LENGTH:
            raise ValueError(f"linkage secret must be {SECRET_LENGTH} bytes")
        # A derived key, not the secret itself, so later encodings (Bloom filters, phonetic
        # tokens) get independent keys from the same secret by changing `info`.
        self._token_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_EXACT_TOKEN_INFO
        ).derive(secret)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key=<hidden>)"

    def encode(self, given_name: str, family_name: str, birth_date: date) -> LinkageEncoding:
        """The encoding of one identity; ValueError naming the field if a name has no letters."""
        given = name_key(given_name)
        if not given:
            raise ValueError("given_name has no letters or digits once normalised")
        family = name_key(family_name)
        if not family:
            raise ValueError("family_name has no letters or digits once normalised")
        if not isinstance(birth_date, date):
            raise ValueError("birth_date must be a date")
        # Keys hold only [a-z0-9] and "-", so "|" cannot occur inside a part: no two different
        # triples produce the same message.
        message = f"{given}|{family}|{birth_date_key(birth_date)}".encode("ascii")
        return LinkageEncoding(exact_token=hmac.digest(self._token_key, message, "sha256"))
