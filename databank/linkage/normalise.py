"""Normalisation of identifiers into the comparable forms the linkage encoder encodes.

Names go to lower-case ASCII (unidecode), lose titles and punctuation, join their particles
("Ben Ali" = "Benali", "de la Fontaine" = "Delafontaine") and take the canonical spelling of
their transliteration and nickname group from ``data/names.yaml`` (Mohammed = Mohamed, Bob =
Robert, JB = Jean-Baptiste). Birth dates are parsed leniently: a date that does not exist still
gives its parts. Nothing here is secret and nothing is stored: the encoder keys the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources

import yaml
from unidecode import unidecode

__all__ = ["Normalised", "normalise", "normalise_area", "normalise_birth_date", "normalise_sex"]

_APOSTROPHES = str.maketrans("", "", "'`")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Normalised:
    """One identity in comparable form (clear values: the encoder keys them, nothing stores them).

    Names are lower-case ASCII letters and digits without spaces; "" when none was given.
    """

    #: Canonical form of the whole given name: its variant group's first spelling if the whole
    #: name is in the tables (JB -> jeanbaptiste), else its tokens' canonical forms joined.
    given: str
    #: Canonical form of the first given-name token, so "Jean-Baptiste" still meets "Jean".
    given_first: str
    #: As ``given``, for the family name (particles joined: "Ben Ali" -> "benali").
    family: str
    #: As ``given_first``, for the family name ("Martin-Dupont" -> "martin").
    family_first: str
    #: Every canonical name token of both names and each name's joined form, sorted: what the
    #: shared name filter encodes, so swapped or split names still compare.
    name_tokens: tuple[str, ...]
    #: The birth date if it exists as a date, else None (unknown, empty or impossible).
    birth_date: date | None
    #: Year, month and day as recorded, kept even when the whole date is impossible (a typo in
    #: "1980-13-04" still leaves the year). None when absent.
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    #: True when the recorded date is 1 January, the convention for an unknown day and month:
    #: such a date agrees weakly (the year only means something).
    birth_date_is_jan1: bool
    #: "f", "m", "x" (another gender) or None (unknown).
    sex: str | None
    #: Place of birth as a name key (town or country), or None.
    birth_place: str | None
    #: Coarse area: a postcode's outward code or district ("SW1A 1AA" -> "sw1a", "69003"), or an
    #: area name's key. None when absent.
    area: str | None
    #: Street address as a name key, for data sets that have one (FEBRL); the app has none.
    address: str | None = None
    #: Locality (suburb or town of residence) as a name key, or None.
    locality: str | None = None


@cache
def _tables() -> tuple[frozenset[str], frozenset[str], dict[str, str], dict[str, str]]:
    """Titles, particles and the given and family variant maps (spelling -> canonical)."""
    text = resources.files("databank.linkage").joinpath("data/names.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    titles = frozenset(_words(t)[0] for t in data["titles"] if _words(t))
    particles = frozenset(_words(p)[0] for p in data["particles"])
    maps = []
    for section in ("given", "family"):
        mapping: dict[str, str] = {}
        ambiguous: set[str] = set()
        for group in data[section]:
            canonical = "".join(_join_particles(_words(group[0]), particles))
            for spelling in group:
                key = "".join(_join_particles(_words(spelling), particles))
                if mapping.get(key, canonical) != canonical:
                    ambiguous.add(key)  # "pat": Patrick or Patricia; left as written
                mapping[key] = canonical
        for key in ambiguous:
            mapping[key] = key
        maps.append(mapping)
    return titles, particles, maps[0], maps[1]


def _words(value: str) -> list[str]:
    ascii_text = unidecode(value).translate(_APOSTROPHES).casefold()
    return _NOT_ALNUM.sub(" ", ascii_text).split()


def _join_particles(tokens: list[str], particles: Iterable[str]) -> list[str]:
    """Joins each particle to the token after it: ["ben", "ali"] -> ["benali"]."""
    out: list[str] = []
    pending = ""
    for token in tokens:
        if token in particles:
            pending += token
            continue
        out.append(pending + token)
        pending = ""
    if pending:  # a trailing particle is a name of its own ("Van", "Ba")
        out.append(pending)
    return out


@lru_cache(maxsize=200_000)
def _name(value: str, section: str) -> tuple[str, str, tuple[str, ...]]:
    """(canonical whole, canonical first token, canonical tokens) of one name."""
    titles, particles, given_map, family_map = _tables()
    # A family name not in the family tables may be a given name written in the wrong box
    # (swapped names): the given tables canonicalise it so the swap still compares.
    mapping = given_map if section == "given" else {**given_map, **family_map}
    tokens = _words(value)
    while len(tokens) > 1 and tokens[0] in titles:
        tokens.pop(0)
    tokens = _join_particles(tokens, particles)
    if not tokens:
        return "", "", ()
    joined = "".join(tokens)
    canonical_tokens = tuple(mapping.get(t, t) for t in tokens)
    whole = mapping.get(joined) or "".join(canonical_tokens)
    token_set = {*canonical_tokens, whole}
    return whole, canonical_tokens[0], tuple(sorted(token_set))


def normalise_birth_date(
    value: str | date | None,
) -> tuple[date | None, int | None, int | None, int | None]:
    """(date or None, year, month, day) from a date or ISO / YYYYMMDD text; lenient on parts."""
    if value is None:
        return None, None, None, None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value, value.year, value.month, value.day
    text = str(value).strip()
    digits = _DIGITS.findall(text)
    if len(digits) == 1 and len(digits[0]) == 8:  # YYYYMMDD
        parts = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    elif len(digits) == 3 and len(digits[0]) == 4:  # YYYY-MM-DD
        parts = digits
    elif len(digits) == 3 and len(digits[2]) == 4:  # DD/MM/YYYY, as French forms write it
        parts = [digits[2], digits[1], digits[0]]
    else:
        return None, None, None, None
    year, month, day = (int(p) for p in parts)
    year_ok = 1850 <= year <= 2100
    y = year if year_ok else None
    m = month if 1 <= month <= 12 else None
    d = day if 1 <= day <= 31 else None
    try:
        whole = date(year, month, day) if year_ok else None
    except ValueError:
        whole = None
    return whole, y, m, d


_SEX = {
    "f": "f", "female": "f", "femme": "f", "w": "f", "woman": "f", "feminin": "f",
    "m": "m", "male": "m", "homme": "m", "h": "m", "man": "m", "masculin": "m",
    "x": "x", "other": "x", "autre": "x", "nb": "x", "nonbinary": "x", "non-binary": "x",
}  # fmt: skip
_UK_POSTCODE = re.compile(r"^([a-z]{1,2}[0-9][a-z0-9]?)\s*([0-9][a-z]{2})$")


def normalise_sex(value: str | None) -> str | None:
    """ "f", "m", "x" or None from the usual English and French codes and words."""
    if value is None:
        return None
    return _SEX.get(str(value).strip().casefold())


def normalise_area(value: str | None) -> str | None:
    """A postcode's outward code (UK) or the postcode itself (FR, AU), or an area name's key."""
    if value is None:
        return None
    text = unidecode(str(value)).strip().casefold()
    if not text:
        return None
    uk = _UK_POSTCODE.match(text)
    if uk:
        return uk.group(1)
    key = _NOT_ALNUM.sub("", text)
    return key or None


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    key = "".join(_words(str(value)))
    return key or None


def normalise(
    given_name: str | None,
    family_name: str | None,
    birth_date: str | date | None,
    sex: str | None = None,
    birth_place: str | None = None,
    area: str | None = None,
    *,
    address: str | None = None,
    locality: str | None = None,
) -> Normalised:
    """The comparable form of one identity; absent or unreadable fields become ""/None.

    Any value that is not text (None, a pandas NaN) counts as absent, except a date.
    """
    given_name, family_name, sex, birth_place, area, address, locality = (
        v if isinstance(v, str) else None
        for v in (given_name, family_name, sex, birth_place, area, address, locality)
    )
    if not isinstance(birth_date, str | date):
        birth_date = None
    given, given_first, given_tokens = _name(given_name or "", "given")
    family, family_first, family_tokens = _name(family_name or "", "family")
    whole, year, month, day = normalise_birth_date(birth_date)
    return Normalised(
        given=given,
        given_first=given_first,
        family=family,
        family_first=family_first,
        name_tokens=tuple(sorted({*given_tokens, *family_tokens})),
        birth_date=whole,
        birth_year=year,
        birth_month=month,
        birth_day=day,
        birth_date_is_jan1=(month == 1 and day == 1),
        sex=normalise_sex(sex),
        birth_place=_key(birth_place),
        area=normalise_area(area),
        address=_key(address),
        locality=_key(locality),
    )
