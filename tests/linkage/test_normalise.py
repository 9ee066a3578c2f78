"""Tests of the linkage normaliser: variant tables, particles, compound names, dates."""

from __future__ import annotations

from datetime import date

import pytest

from databank.linkage.normalise import normalise, normalise_area, normalise_birth_date


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohamed", "Muhammad"),
        ("Mohammed", "Mouhamed"),
        ("Abdoulaye", "Abdullah"),
        ("Bob", "Robert"),
        ("Jo", "Joseph"),
        ("JB", "Jean-Baptiste"),
        ("Jean Baptiste", "jean-baptiste"),
        ("Youssouf", "Yusuf"),
        ("Sasha", "Alexandre"),
        ("Aïcha", "Aisha"),
    ],
)
def test_variants_of_a_given_name_normalise_together(a: str, b: str) -> None:
    """Transliteration variants and nicknames of one given name share a canonical form."""
    assert normalise(a, "x", None).given == normalise(b, "x", None).given


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ben Ali", "Benali"),
        ("Ben-Ali", "BENALI"),
        ("de la Fontaine", "Delafontaine"),
        ("N'Diaye", "Ndiaye"),
        ("Traoré", "Traore"),
        ("Jalloh", "Diallo"),
        ("O'Brien", "OBrien"),
    ],
)
def test_particles_and_variants_of_a_family_name(a: str, b: str) -> None:
    """Particles join the next token and family-name variants share a canonical form."""
    assert normalise("x", a, None).family == normalise("x", b, None).family


def test_mamadou_is_not_mohamed() -> None:
    """Distinct names stay distinct: Mamadou and Mohamed are different people's names."""
    assert normalise("Mamadou", "x", None).given != normalise("Mohamed", "x", None).given


def test_compound_names_keep_tokens_and_joined_form() -> None:
    """A compound name keeps its tokens and its joined form; its first token is its own key."""
    n = normalise("Marie-Claire", "Martin-Dupont", None)
    assert n.given_first == normalise("Marie", "x", None).given
    assert n.family_first == "martin"
    assert {"marie", "claire", "martin", "dupont", n.given, n.family} <= set(n.name_tokens)


def test_titles_are_dropped() -> None:
    assert normalise("Mme Fatou", "Diop", None).given == normalise("Fatou", "Diop", None).given


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1980-03-12", (date(1980, 3, 12), 1980, 3, 12)),
        ("19800312", (date(1980, 3, 12), 1980, 3, 12)),
        ("12/03/1980", (date(1980, 3, 12), 1980, 3, 12)),
        (date(1980, 3, 12), (date(1980, 3, 12), 1980, 3, 12)),
        ("1980-13-45", (None, 1980, None, None)),
        ("", (None, None, None, None)),
        (None, (None, None, None, None)),
    ],
)
def test_birth_dates_parse_leniently(value: object, expected: tuple[object, ...]) -> None:
    assert normalise_birth_date(value) == expected  # type: ignore[arg-type]


def test_first_january_is_flagged() -> None:
    assert normalise("a", "b", "1990-01-01").birth_date_is_jan1
    assert not normalise("a", "b", "1990-01-02").birth_date_is_jan1


def test_sex_and_area() -> None:
    assert normalise("a", "b", None, sex="Femme").sex == "f"
    assert normalise("a", "b", None, sex="H").sex == "m"
    assert normalise("a", "b", None, sex="?").sex is None
    assert normalise_area("SW1A 1AA") == "sw1a"
    assert normalise_area("69003") == "69003"
