"""Tests of the linkage zone's exact keyed tokens."""

from __future__ import annotations

import hmac
from datetime import date

import pytest

from databank.linkage import LinkageEncoder, LinkageEncoding

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
BIRTH = date(1984, 5, 17)
# HMAC-SHA256(HKDF-SHA256(SECRET, salt=None, info=...), b"amina|diallo|1984-05-17")
EXPECTED_AMINA = "604cb0ddea281ee25c828e763055654498987e4dce32fc4de3e92b651aacc380"


@pytest.fixture
def encoder() -> LinkageEncoder:
    return LinkageEncoder(SECRET)


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("Jean-Pierre", "Lefèvre"),
        ("jean pierre", "LEFEVRE"),
        ("JEAN PIERRE", "lefevre"),
        ("  Jean   Pierre ", "Lefèvre."),
        ("Jéan-Piérre", "Le Fèvre"),
        ("M. Jean-Pierre", "Lefevre"),
    ],
)
def test_spelling_variants_of_one_person_get_the_same_token(
    encoder: LinkageEncoder, given: str, family: str
) -> None:
    reference = encoder.encode("Jean-Pierre", "Lefèvre", BIRTH)
    assert encoder.encode(given, family, BIRTH) == reference


def test_token_is_32_bytes_and_deterministic(encoder: LinkageEncoder) -> None:
    token = encoder.encode("Amina", "Diallo", BIRTH).exact_token
    assert isinstance(token, bytes)
    assert len(token) == 32
    assert LinkageEncoder(SECRET).encode("Amina", "Diallo", BIRTH).exact_token == token


def test_fixed_vector(encoder: LinkageEncoder) -> None:
    """The token format is stable: changing it would unlink every stored record."""
    token = encoder.encode("Amina", "Diallo", BIRTH).exact_token
    assert token.hex() == EXPECTED_AMINA


def test_construction_matches_rfc_5869_hkdf_then_hmac(encoder: LinkageEncoder) -> None:
    """Another process (a trusted third party) can recompute tokens from the spec alone."""
    prk = hmac.digest(bytes(32), SECRET, "sha256")  # HKDF-Extract with the default zero salt
    key = hmac.digest(prk, b"databank linkage exact-token v1\x01", "sha256")  # one Expand block
    expected = hmac.digest(key, b"amina|diallo|1984-05-17", "sha256")
    assert encoder.encode("Amina", "Diallo", BIRTH).exact_token == expected


def test_different_birth_date_gives_a_different_token(encoder: LinkageEncoder) -> None:
    assert encoder.encode("Amina", "Diallo", BIRTH) != encoder.encode(
        "Amina", "Diallo", date(1984, 5, 18)
    )


def test_different_secret_gives_a_different_token(encoder: LinkageEncoder) -> None:
    other = LinkageEncoder(OTHER_SECRET)
    assert encoder.encode("Amina", "Diallo", BIRTH) != other.encode("Amina", "Diallo", BIRTH)


def test_given_and_family_names_are_not_interchangeable(encoder: LinkageEncoder) -> None:
    assert encoder.encode("Amina", "Diallo", BIRTH) != encoder.encode("Diallo", "Amina", BIRTH)


def test_name_boundaries_matter(encoder: LinkageEncoder) -> None:
    assert encoder.encode("Ann", "Abel", BIRTH) != encoder.encode("Anna", "Bel", BIRTH)


def test_token_is_not_a_plain_hash_of_the_identifiers(encoder: LinkageEncoder) -> None:
    """Without the secret, a stolen token cannot be checked against guessed identities."""
    token = encoder.encode("Amina", "Diallo", BIRTH).exact_token
    message = b"amina|diallo|1984-05-17"
    assert token != hmac.digest(b"", message, "sha256")
    assert token != hmac.digest(SECRET, message, "sha256")  # the key is derived, not the secret


@pytest.mark.parametrize("secret", [b"", b"short", bytes(31), bytes(33), "x" * 32])
def test_secret_must_be_32_bytes(secret: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes") as excinfo:
        LinkageEncoder(secret)
    if secret:
        assert repr(secret) not in str(excinfo.value)


def test_repr_shows_no_secret_and_no_key() -> None:
    """Neither the linkage secret nor the derived key appears in a repr or a log line."""
    secret = bytes.fromhex("a5" * 32)
    encoder = LinkageEncoder(secret)
    text = repr(encoder) + str(encoder)
    assert "a5" not in text.lower()
    assert "\\xa5" not in text
    assert "hidden" in text


def test_encoding_repr_shows_no_token(encoder: LinkageEncoder) -> None:
    """A token in a log line would let two logs be joined on the same person."""
    encoding = encoder.encode("Amina", "Diallo", BIRTH)
    text = repr(encoding)
    assert encoding.exact_token.hex() not in text
    assert repr(encoding.exact_token) not in text


@pytest.mark.parametrize(
    ("given", "family", "field"),
    [("", "Diallo", "given_name"), ("Amina", "-- '", "family_name"), ("🙂", "", "given_name")],
)
def test_empty_names_raise_naming_the_field_not_the_value(
    encoder: LinkageEncoder, given: str, family: str, field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field} ") as excinfo:
        encoder.encode(given, family, BIRTH)
    assert "Amina" not in str(excinfo.value)
    assert "Diallo" not in str(excinfo.value)


def test_birth_date_must_be_a_date(encoder: LinkageEncoder) -> None:
    with pytest.raises(ValueError, match=r"^birth_date "):
        encoder.encode("Amina", "Diallo", "1984-05-17")  # type: ignore[arg-type]


def test_encoding_checks_the_token_length() -> None:
    with pytest.raises(ValueError, match=r"^exact_token "):
        LinkageEncoding(exact_token=b"\x00" * 31)
