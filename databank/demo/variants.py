"""How an organisation records a person: the identifier errors of issue 16, labelled.

Each registration of a demo person is their true identity with zero or more errors of these
types: typos, dropped accents, given and family names swapped, transliteration variants
(Mohamed / Mohammed / Muhammad), nicknames and short forms (Bob, Dima, JB), compound names cut
short (Jean-Baptiste -> Jean), particles joined or split (Ben Ali / Benali), an unknown birth
date recorded as 1 January, day and month swapped, and a birth place left out. Variant spellings
come from the linkage engine's own tables (databank/linkage/data/names.yaml, loaded as
databank/linkage/normalise.py loads them), so the demo exercises what the engine knows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from difflib import SequenceMatcher
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml
from unidecode import unidecode

from databank.demo.origins import TrueIdentity
from databank.domain.names import name_key

__all__ = ["ErrorType", "Recorded", "formatted", "recorded", "with_error"]


class ErrorType(StrEnum):
    TYPO = "typo"
    ACCENT_DROPPED = "accent_dropped"
    NAMES_SWAPPED = "names_swapped"
    TRANSLITERATION = "transliteration"
    NICKNAME = "nickname"
    COMPOUND_CUT = "compound_cut"
    PARTICLE = "particle"
    BIRTH_JAN_1 = "birth_jan_1"
    DAY_MONTH_SWAPPED = "day_month_swapped"
    NO_BIRTH_PLACE = "no_birth_place"


# How often each error type is chosen when it applies (a name without accents cannot lose them).
ERROR_WEIGHTS: Mapping[ErrorType, float] = {
    ErrorType.TYPO: 22,
    ErrorType.ACCENT_DROPPED: 12,
    ErrorType.NAMES_SWAPPED: 6,
    ErrorType.TRANSLITERATION: 14,
    ErrorType.NICKNAME: 8,
    ErrorType.COMPOUND_CUT: 10,
    ErrorType.PARTICLE: 10,
    ErrorType.BIRTH_JAN_1: 7,
    ErrorType.DAY_MONTH_SWAPPED: 6,
    ErrorType.NO_BIRTH_PLACE: 10,
}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Recorded:
    """One registration's identifiers as the org wrote them, and the errors made."""

    given: str
    family: str
    birth_date: date
    birth_place: str | None
    errors: tuple[ErrorType, ...] = ()


@dataclass(frozen=True)
class _Tables:
    given: Mapping[str, tuple[str, ...]]  # name key -> the spellings of its variant group
    family: Mapping[str, tuple[str, ...]]
    particles: frozenset[str]


@cache
def _tables() -> _Tables:
    """The linkage engine's variant groups, by the name key of each spelling they hold.

    A spelling in two groups ("pat": Patrick or Patricia) gets no variants, as the engine
    leaves it as written."""
    text = resources.files("databank.linkage").joinpath("data/names.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    sections = []
    for section in ("given", "family"):
        groups: dict[str, tuple[str, ...]] = {}
        ambiguous: set[str] = set()
        for group in data[section]:
            spellings = tuple(dict.fromkeys(_display(s) for s in group))
            for spelling in spellings:
                key = name_key(spelling)
                if key in groups and groups[key] != spellings:
                    ambiguous.add(key)
                groups[key] = spellings
        sections.append({k: v for k, v in groups.items() if k not in ambiguous})
    particles = frozenset(str(p) for p in data["particles"])
    return _Tables(sections[0], sections[1], particles)


def _display(spelling: str) -> str:
    """A table spelling as a form would show it: "n'diaye" -> "N'Diaye", "jb" -> "JB"."""
    if len(spelling) <= 2:
        return spelling.upper()
    out, capital = [], True
    for char in spelling:
        out.append(char.upper() if capital else char)
        capital = char in " -'"
    return "".join(out)


def _typo(rng: random.Random, name: str) -> str:
    """One slip of the keyboard after the first letter: a letter dropped, added, changed or two
    swapped (drawn again when the slip changes nothing, as swapping "ll" would)."""
    if len(name) < 3:
        return name + rng.choice(_LETTERS)
    while True:
        i = rng.randrange(1, len(name) - 1)
        letter = rng.choice(_LETTERS)
        slips = (
            name[:i] + name[i + 1 :],
            name[:i] + letter + name[i:],
            name[:i] + letter + name[i + 1 :],
            name[:i] + name[i + 1] + name[i] + name[i + 2 :],
        )
        slip = rng.choice(slips)
        if slip != name:
            return slip


def _spellings(name: str, given: bool) -> tuple[str, ...]:
    tables = _tables()
    return (tables.given if given else tables.family).get(name_key(name), ())


def _is_short_form(of: str, spelling: str) -> bool:
    short, long = name_key(spelling), name_key(of)
    return len(short) <= 5 and len(short) <= len(long) - 2


def _transliterations(name: str, given: bool) -> list[str]:
    """Spellings of the same name that look like it (Muhammad for Mohamed, Jalloh for Diallo),
    not its equivalents in another language (William for Guillaume)."""
    key = name_key(name)
    return [
        s
        for s in _spellings(name, given)
        if name_key(s) != key
        and not (given and _is_short_form(name, s))
        and SequenceMatcher(None, key, name_key(s)).ratio() >= 0.65
    ]


def _nicknames(name: str) -> list[str]:
    return [s for s in _spellings(name, True) if _is_short_form(name, s)]


def _compound_parts(name: str) -> list[str]:
    """The parts of a compound name (Jean-Baptiste, Martin-Dupont), none if it has particles."""
    parts = name.replace("-", " ").split()
    if len(parts) < 2 or any(p.casefold() in _tables().particles for p in parts):
        return []
    return parts


def _particle_forms(name: str) -> list[str]:
    """The name with its particles joined ("Ben Ali" -> "Benali") or split ("Benali" ->
    "Ben Ali", when the engine's tables know that spelling)."""
    words = name.split()
    forms = []
    if len(words) > 1 and words[0].casefold() in _tables().particles:
        joined = "".join(words)
        forms.append(joined[0].upper() + joined[1:].lower())
    forms += [s for s in _spellings(name, False) if " " in s and s != name]
    return forms


# Each error type: the identity changed by it, or None where it cannot happen.
_Error = Callable[[random.Random, Recorded], Recorded | None]


def _on_a_name(
    rng: random.Random, rec: Recorded, options: Callable[[str, bool], list[str]]
) -> Recorded | None:
    """The record with the given or family name replaced by one of its options."""
    choices = [("given", o) for o in options(rec.given, True)]
    choices += [("family", o) for o in options(rec.family, False)]
    if not choices:
        return None
    field, value = rng.choice(choices)
    return replace(rec, given=value) if field == "given" else replace(rec, family=value)


def _jan_1(rng: random.Random, rec: Recorded) -> Recorded | None:
    born = rec.birth_date
    return (
        None
        if (born.month, born.day) == (1, 1)
        else replace(rec, birth_date=born.replace(month=1, day=1))
    )


def _day_month(rng: random.Random, rec: Recorded) -> Recorded | None:
    born = rec.birth_date
    if born.day > 12 or born.day == born.month:
        return None
    return replace(rec, birth_date=date(born.year, born.day, born.month))


_ERRORS: Mapping[ErrorType, _Error] = {
    ErrorType.TYPO: lambda rng, rec: _on_a_name(rng, rec, lambda n, _: [_typo(rng, n)]),
    ErrorType.ACCENT_DROPPED: lambda rng, rec: _on_a_name(
        rng, rec, lambda n, _: [unidecode(n)] if unidecode(n) != n else []
    ),
    ErrorType.NAMES_SWAPPED: lambda rng, rec: replace(rec, given=rec.family, family=rec.given),
    ErrorType.TRANSLITERATION: lambda rng, rec: _on_a_name(rng, rec, _transliterations),
    ErrorType.NICKNAME: lambda rng, rec: _on_a_name(
        rng, rec, lambda n, given: _nicknames(n) if given else []
    ),
    ErrorType.COMPOUND_CUT: lambda rng, rec: _on_a_name(
        rng, rec, lambda n, _: _compound_parts(n)[:1]
    ),
    ErrorType.PARTICLE: lambda rng, rec: _on_a_name(
        rng, rec, lambda n, given: [] if given else _particle_forms(n)
    ),
    ErrorType.BIRTH_JAN_1: _jan_1,
    ErrorType.DAY_MONTH_SWAPPED: _day_month,
    ErrorType.NO_BIRTH_PLACE: lambda rng, rec: (
        None if rec.birth_place is None else replace(rec, birth_place=None)
    ),
}


def with_error(rng: random.Random, rec: Recorded, kind: ErrorType) -> Recorded | None:
    """The record with one more error of this type, or None if it cannot happen to it."""
    changed = _ERRORS[kind](rng, rec)
    if changed is None or changed == rec:  # no visible change: not an error
        return None
    return replace(changed, errors=(*rec.errors, kind))


def recorded(rng: random.Random, person: TrueIdentity, errors: int) -> Recorded:
    """The person's identifiers with `errors` errors, each of a different type, drawn from those
    that can happen to them (fewer if fewer can)."""
    rec = Recorded(person.given, person.family, person.birth_date, person.birth_place)
    while len(rec.errors) < errors:
        left = {e: w for e, w in ERROR_WEIGHTS.items() if e not in rec.errors}
        changed = None
        while changed is None and left:
            kind = rng.choices(list(left), list(left.values()))[0]
            del left[kind]
            changed = with_error(rng, rec, kind)
        if changed is None:
            break
        rec = changed
    return rec


def formatted(rng: random.Random, name: str) -> str:
    """The name as another form lays it out (case, accents, hyphens), with the same name key."""
    if rng.random() < 0.35:
        return name
    swapped = name.replace("-", " ") if "-" in name else name.replace(" ", "-")
    options = (name.upper(), unidecode(name), unidecode(name).upper(), swapped, name.lower())
    same = [o for o in options if o != name and name_key(o) == name_key(name)]
    return rng.choice(same) if same else name
