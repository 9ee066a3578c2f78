"""The strength a new password must have: long enough, none of the account's own words, and a
zxcvbn score of 3 or more."""

from __future__ import annotations

import pytest

from databank.crypto.passwords import (
    OWN_WORDS,
    TOO_EASY,
    TOO_SHORT,
    hash_password,
    password_problem,
    verify_password,
)

ACCOUNT = ("jean.dupont", "Les Tables du Cœur", "tables-du-coeur")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", TOO_SHORT),
        ("password1234", TOO_EASY),
        ("qwertyuiop12", TOO_EASY),
        ("Jean.Dupont.2026!", OWN_WORDS),  # the username, whatever its case and punctuation
        ("dupont horse battery", OWN_WORDS),  # one word of it
        ("coeur-de-lion-1789-x", OWN_WORDS),  # a word of the organisation's name, transliterated
        ("tango ravioli hammock quartz", None),
        ("demo-databank-2026", None),  # the demo's published password passes
    ],
)
def test_a_new_password_is_judged(password: str, problem: str | None) -> None:
    assert password_problem(password, ACCOUNT) == problem


def test_a_very_long_password_is_judged_without_error() -> None:
    """zxcvbn refuses input over 72 characters: the first 72 are judged, never an exception."""
    assert password_problem("tango ravioli hammock quartz " * 40, ACCOUNT) is None
    assert password_problem("a" * 5000, ACCOUNT) == TOO_EASY


def test_hashes_verify_only_their_password() -> None:
    hashed = hash_password("tango ravioli hammock quartz")
    assert verify_password(hashed, "tango ravioli hammock quartz")
    assert not verify_password(hashed, "tango ravioli hammock quartZ")
    assert not verify_password("not a hash", "tango ravioli hammock quartz")
