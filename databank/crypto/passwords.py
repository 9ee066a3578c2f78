"""Staff password hashing with argon2id (OWASP parameters); verification in constant time; the
strength a new password must have."""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from unidecode import unidecode
from zxcvbn import zxcvbn

# OWASP's argon2id profile (m=19 MiB, t=2, p=1): costly enough to slow an offline attack on a
# stolen users table, cheap enough (~20 ms here) for interactive logins.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_PASSWORD_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable" (about 10^8 guesses or more), 4 very. Threat: a
# known-weak password (password1234, Summer2024!!, the username with a year) falls to the first
# guesses of an online attacker, whatever its length; the sign-in throttle only slows them.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer input (its matching grows with the square of the length); a password's
# first 72 characters are judged.
_JUDGED_LENGTH = 72
# The user's own words (username, organisation) are looked for in the password from this length
# up; shorter ones ("ana") still count against its zxcvbn score.
_OWN_WORD_LENGTH = 4
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

TOO_SHORT = f"must be at least {MIN_PASSWORD_LENGTH} characters"
TOO_EASY = (
    f"is too easy to guess: it must score at least {MIN_PASSWORD_SCORE} out of 4 on the "
    "zxcvbn strength check (a few unrelated words make a strong password)"
)
OWN_WORDS = "must not contain your username or your organisation's name"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _plain(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Cœur-2026" -> "coeur2026"."""
    return _NOT_ALNUM.sub("", unidecode(text).casefold())


def _own_words(user_inputs: Iterable[str]) -> set[str]:
    """Each input whole and each of its words, as `_plain` writes them, if long enough."""
    words = set()
    for given in user_inputs:
        for part in [given, *_NOT_ALNUM.split(unidecode(given).casefold())]:
            plain = _plain(part)
            if len(plain) >= _OWN_WORD_LENGTH:
                words.add(plain)
    return words


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why a new password is refused (one of TOO_SHORT, OWN_WORDS, TOO_EASY), or None.

    `user_inputs` are the words an attacker tries first for this account: its username and its
    organisation's name and slug. A password holding one of them is refused outright (zxcvbn
    only lowers the score of such a password, and a long one still passes), and zxcvbn scores
    the rest with them as its own dictionary.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    inputs = [given for given in user_inputs if given]
    plain = _plain(password)
    if any(word in plain for word in _own_words(inputs)):
        return OWN_WORDS
    if zxcvbn(password[:_JUDGED_LENGTH], user_inputs=inputs)["score"] < MIN_PASSWORD_SCORE:
        return TOO_EASY
    return None
