"""The demo city's registrations carry the identifier errors of issue 16, reproducibly."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from databank.demo.generator import DemoPerson, generate_population
from databank.demo.variants import ErrorType, Recorded, with_error
from databank.domain.names import name_key
from databank.linkage.normalise import normalise

PEOPLE, SEED = 1000, 11


@pytest.fixture(scope="module")
def population() -> list[DemoPerson]:
    return generate_population(PEOPLE, SEED)


def test_every_error_type_occurs_in_a_generated_city(population: list[DemoPerson]) -> None:
    made = Counter(e for p in population for r in p.registrations for e in r.errors)
    assert set(made) == set(ErrorType)
    assert min(made.values()) >= 3


def test_within_org_duplicates_occur_and_differ_from_the_first_record(
    population: list[DemoPerson],
) -> None:
    """A few % of people are registered twice by one org, under identifiers that do not match
    its first record exactly (else the org would have found it)."""
    twice = [p for p in population if any(r.is_duplicate for r in p.registrations)]
    assert 0.01 * PEOPLE <= len(twice) <= 0.1 * PEOPLE
    for person in twice:
        orgs = Counter(r.org for r in person.registrations)
        [(org, count)] = [(o, n) for o, n in orgs.items() if n > 1]
        assert count == 2
        first, again = [r for r in person.registrations if r.org == org]
        assert again.is_duplicate
        assert not first.is_duplicate
        assert again.errors
        keys = [
            (name_key(r.given_name), name_key(r.family_name), r.birth_date) for r in (first, again)
        ]
        assert keys[0] != keys[1]


def test_the_population_is_deterministic_per_seed() -> None:
    assert generate_population(120, 5) == generate_population(120, 5)
    assert generate_population(120, 5) != generate_population(120, 6)


def test_common_names_recur_with_births_in_the_same_years(population: list[DemoPerson]) -> None:
    """Namesakes born in the same year, the hard case of linkage, are in the city."""
    years = Counter(
        (name_key(p.given_name), name_key(p.family_name), p.birth_date.year) for p in population
    )
    assert any(n >= 2 for n in years.values())
    origins = Counter(p.origin for p in population)
    assert set(origins) == {"fr_FR", "en_GB", "north", "west", "east"}


MOHAMED = Recorded("Mohamed", "Ben Ali", date(1990, 3, 7), "Oran")
JB = Recorded("Jean-Baptiste", "Lefèvre", date(1985, 11, 24), None)
SAME_NAMES = (ErrorType.TRANSLITERATION, ErrorType.NICKNAME, ErrorType.PARTICLE)


@pytest.mark.parametrize(
    ("rec", "error", "example"),
    [
        (MOHAMED, ErrorType.TRANSLITERATION, ("Muhammad", "Ben Ali")),
        (MOHAMED, ErrorType.NICKNAME, ("Momo", "Ben Ali")),
        (MOHAMED, ErrorType.PARTICLE, ("Mohamed", "Benali")),
        (JB, ErrorType.NICKNAME, ("JB", "Lefèvre")),
    ],
)
def test_variant_spellings_are_the_linkage_engines_own(
    rec: Recorded, error: ErrorType, example: tuple[str, str]
) -> None:
    """Transliterations, nicknames and particles come from the engine's tables: the engine's
    normaliser maps them back to the true name."""
    true = normalise(rec.given, rec.family, rec.birth_date)
    seen = set()
    for seed in range(40):
        got = with_error(random.Random(seed), rec, error)
        assert got is not None
        assert got.errors == (error,)
        assert (got.given, got.family) != (rec.given, rec.family)
        norm = normalise(got.given, got.family, got.birth_date)
        assert (norm.given, norm.family) == (true.given, true.family)
        seen.add((got.given, got.family))
    assert example in seen


def _one(rec: Recorded, error: ErrorType) -> Recorded:
    changed = with_error(random.Random(1), rec, error)
    assert changed is not None
    assert changed.errors == (error,)
    return changed


def test_the_other_errors_are_what_they_say() -> None:
    assert _one(MOHAMED, ErrorType.BIRTH_JAN_1).birth_date == date(1990, 1, 1)
    assert _one(MOHAMED, ErrorType.DAY_MONTH_SWAPPED).birth_date == date(1990, 7, 3)
    assert _one(MOHAMED, ErrorType.NO_BIRTH_PLACE).birth_place is None
    swapped = _one(MOHAMED, ErrorType.NAMES_SWAPPED)
    assert (swapped.given, swapped.family) == ("Ben Ali", "Mohamed")
    cut = _one(JB, ErrorType.COMPOUND_CUT)
    assert (cut.given, cut.family) == ("Jean", "Lefèvre")
    plain = _one(JB, ErrorType.ACCENT_DROPPED)
    assert (plain.given, plain.family) == ("Jean-Baptiste", "Lefevre")
    rng = random.Random(1)
    assert with_error(rng, JB, ErrorType.DAY_MONTH_SWAPPED) is None  # no 24th month
    assert with_error(rng, JB, ErrorType.NO_BIRTH_PLACE) is None  # none was given
    assert with_error(rng, MOHAMED, ErrorType.COMPOUND_CUT) is None  # "Ben Ali" has a particle
    assert with_error(rng, MOHAMED, ErrorType.ACCENT_DROPPED) is None  # no accent to drop
    for seed in range(40):
        typo = with_error(random.Random(seed), JB, ErrorType.TYPO)
        assert typo is not None
        changed = [(a, b) for a, b in ((typo.given, JB.given), (typo.family, JB.family)) if a != b]
        assert len(changed) == 1
        written, true = changed[0]
        assert written[0] == true[0]  # the first letter is kept
        assert abs(len(written) - len(true)) <= 1
