"""Normalisation of names and birth dates into the keys that search and linkage compare."""

from __future__ import annotations

import re
from datetime import date

from unidecode import unidecode

# Courtesy and professional titles (English and French), dropped only as whole leading tokens
# and never when they are the only token left: "M" may be an initial, "Madame" a surname.
TITLES: frozenset[str] = frozenset(
    {
        # English
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "doctor",
        "prof",
        "professor",
        "sir",
        "dame",
        "rev",
        # French
        "m",
        "mme",
        "mmes",
        "mlle",
        "mlles",
        "monsieur",
        "madame",
        "mademoiselle",
        "docteur",
        "pr",
    }
)

# After transliteration, apostrophes join (O'Brien -> obrien, d'Arc -> darc) rather than split:
# people write the same name with and without them. unidecode also renders the Cyrillic soft
# sign and the Arabic ayn and hamza as one of these, so they vanish the same way.
_APOSTROPHES = str.maketrans("", "", "'`")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_name(value: str) -> str:
    """The name in lower-case ASCII words separated by single spaces, without leading titles.

    Transliteration is unidecode's: accents dropped (é -> e), ligatures and ß spelt out
    (œ -> oe, ß -> ss), Cyrillic and Greek romanised (Иван -> ivan), Arabic written without
    vowels (محمد -> mhmd). Hyphens and other punctuation become spaces. "" if nothing is left.
    """
    ascii_text = unidecode(value).translate(_APOSTROPHES).casefold()
    tokens = _NOT_ALNUM.sub(" ", ascii_text).split()
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens.pop(0)
    return " ".join(tokens)


def name_key(value: str) -> str:
    """The normalised name without spaces: "Jean-Pierre", "jean pierre", "JEAN PIERRE" agree."""
    return normalise_name(value).replace(" ", "")


def birth_date_key(value: date) -> str:
    """The birth date as ISO "YYYY-MM-DD" (the date part only, if given a datetime)."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
