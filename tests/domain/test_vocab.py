"""Tests of the closed vocabularies and of the HUD-to-ETHOS living-situation mapping."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from databank.domain.vocab import (
    ETHOS_GROUP,
    ETHOS_LABELS,
    GROUP_LABELS,
    HUD_LIVING_SITUATIONS,
    HUD_TO_ETHOS,
    NEED_LABELS,
    EthosCategory,
    Label,
    LivingSituationGroup,
    NeedCategory,
    ethos_for_hud,
    hud_codes_for,
)

HMIS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "hmis"
LIVING_SITUATION_FIELDS = ("PriorLivingSituation", "CurrentLivingSituation", "Destination")


def _residence_uses() -> dict[int, str]:
    """FY2024 living-situation codes and descriptions from HUD Data Lab's ResidenceUses.csv."""
    path = HMIS_DIR / "ResidenceUses.csv"
    if not path.is_file():
        pytest.skip(f"HUD reference tables not found at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        int(row["Location"]): row["LocationDescription"]
        for row in rows
        # "NA" marks FY2022-only codes, retired in FY2024.
        if row["Location"] != "NA" and any(row[f] == "TRUE" for f in LIVING_SITUATION_FIELDS)
    }


def _labels_complete(label: Label) -> bool:
    return bool(label.en.strip()) and bool(label.fr.strip())


def test_every_fy2024_code_in_the_hud_table_is_listed_with_its_description() -> None:
    expected = _residence_uses()
    assert len(expected) == 32
    assert dict(HUD_LIVING_SITUATIONS) == expected


def test_every_fy2024_code_in_the_hud_table_maps_to_an_ethos_category() -> None:
    for code in _residence_uses():
        assert isinstance(ethos_for_hud(code), EthosCategory), code


def test_every_code_of_the_sample_export_maps() -> None:
    """Every living situation in the FY2024 sample export can be imported."""
    path = HMIS_DIR / "fy2024-small" / "CurrentLivingSituation.csv"
    if not path.is_file():
        pytest.skip(f"HMIS sample export not found at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        codes = {int(row["CurrentLivingSituation"]) for row in csv.DictReader(handle)}
    assert codes
    for code in codes:
        ethos_for_hud(code)


def test_listed_codes_and_mapped_codes_are_the_same() -> None:
    assert set(HUD_LIVING_SITUATIONS) == set(HUD_TO_ETHOS)


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (116, EthosCategory.ETHOS_1_PUBLIC_SPACE),  # place not meant for habitation
        (101, EthosCategory.ETHOS_2_NIGHT_SHELTER),  # emergency shelter
        (118, EthosCategory.ETHOS_3_HOMELESS_HOSTEL),  # safe haven
        (302, EthosCategory.ETHOS_3_HOMELESS_HOSTEL),  # transitional housing
        (207, EthosCategory.ETHOS_6_DUE_RELEASE_INSTITUTION),  # jail or prison
        (314, EthosCategory.ETHOS_8_INSECURE_ACCOMMODATION),  # hotel without voucher
        (335, EthosCategory.ETHOS_8_INSECURE_ACCOMMODATION),  # with family
        (336, EthosCategory.ETHOS_8_INSECURE_ACCOMMODATION),  # with friends
        (410, EthosCategory.HOUSED),  # rental, no subsidy
        (435, EthosCategory.HOUSED),  # rental, with subsidy
        (422, EthosCategory.HOUSED),  # with family, permanent tenure
        (8, EthosCategory.UNKNOWN),
        (99, EthosCategory.UNKNOWN),
        (37, EthosCategory.UNKNOWN),
    ],
)
def test_hud_codes_map_to_the_expected_ethos_category(code: int, category: EthosCategory) -> None:
    assert ethos_for_hud(code) is category


def test_hud_institutions_fall_in_the_institution_group() -> None:
    for code in (204, 205, 206, 207, 215, 225):
        assert ETHOS_GROUP[ethos_for_hud(code)] is LivingSituationGroup.INSTITUTION


def test_literally_homeless_codes_are_roofless_or_houseless() -> None:
    groups = {ETHOS_GROUP[ethos_for_hud(code)] for code in (101, 116, 118, 302)}
    assert groups <= {LivingSituationGroup.ROOFLESS, LivingSituationGroup.HOUSELESS}


@pytest.mark.parametrize("code", [0, 1, 3, 16, 100, 999, -1])
def test_unknown_hud_code_raises_naming_the_code(code: int) -> None:
    with pytest.raises(ValueError, match=str(code)):
        ethos_for_hud(code)


def test_hud_codes_for_inverts_the_mapping() -> None:
    seen: set[int] = set()
    for category in EthosCategory:
        codes = hud_codes_for(category)
        assert all(HUD_TO_ETHOS[code] is category for code in codes)
        seen |= codes
    assert seen == set(HUD_TO_ETHOS)
    assert hud_codes_for(EthosCategory.ETHOS_1_PUBLIC_SPACE) == {116}
    assert hud_codes_for(EthosCategory.ETHOS_13_OVERCROWDING) == frozenset()


def test_every_ethos_category_has_a_group_and_labels() -> None:
    assert set(ETHOS_GROUP) == set(EthosCategory)
    assert set(ETHOS_LABELS) == set(EthosCategory)
    assert all(_labels_complete(label) for label in ETHOS_LABELS.values())


def test_every_group_is_used_and_labelled() -> None:
    assert set(ETHOS_GROUP.values()) == set(LivingSituationGroup)
    assert set(GROUP_LABELS) == set(LivingSituationGroup)
    assert all(_labels_complete(label) for label in GROUP_LABELS.values())


def test_ethos_groups_follow_the_four_conceptual_categories() -> None:
    expected = {
        LivingSituationGroup.ROOFLESS: {1, 2},
        LivingSituationGroup.HOUSELESS: {3, 4, 5, 7},
        LivingSituationGroup.INSTITUTION: {6},
        LivingSituationGroup.INSECURE: {8, 9, 10},
        LivingSituationGroup.INADEQUATE: {11, 12, 13},
    }
    for group, numbers in expected.items():
        assert {c.number for c, g in ETHOS_GROUP.items() if g is group} == numbers


def test_ethos_numbers_run_from_1_to_13() -> None:
    numbers = [category.number for category in EthosCategory]
    assert sorted(n for n in numbers if n is not None) == list(range(1, 14))
    assert EthosCategory.UNKNOWN.number is None
    assert EthosCategory.HOUSED.number is None


def test_every_need_category_has_labels_in_both_languages() -> None:
    assert set(NEED_LABELS) == set(NeedCategory)
    assert all(_labels_complete(label) for label in NEED_LABELS.values())
    assert len({label.fr for label in NEED_LABELS.values()}) == len(NeedCategory)
    assert NEED_LABELS[NeedCategory.SHELTER].fr == "Hébergement"


def test_stored_values_are_snake_case() -> None:
    for enum in (NeedCategory, EthosCategory, LivingSituationGroup):
        for member in enum:
            assert member.value == member.value.lower()
            assert member.value.replace("_", "").isalnum()


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("fr", "Santé"), ("fr_FR", "Santé"), ("FR-ca", "Santé"), ("en", "Health"), ("de", "Health")],
)
def test_label_for_locale(locale: str, expected: str) -> None:
    assert NEED_LABELS[NeedCategory.HEALTH].for_locale(locale) == expected


def test_vocabularies_are_read_only() -> None:
    with pytest.raises(TypeError):
        NEED_LABELS[NeedCategory.FOOD] = Label("x", "y")  # type: ignore[index]
