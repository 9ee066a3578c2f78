"""Category codes of the statistics' dimensions, in display order, and their words in English
and French (the vocabularies' own labels where the domain has them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from databank.analytics import facts as pure
from databank.domain.areas import Area, Areas
from databank.domain.enums import OrgKind, Sex
from databank.domain.vocab import (
    GROUP_LABELS,
    NEED_LABELS,
    Label,
    LivingSituationGroup,
    NeedCategory,
)
from databank.services.statistics.views import Granularity, Period

_DIMENSION_LABELS: Mapping[str, Label] = {
    "area": Label("Area", "Secteur"),
    "org_kind": Label("Kind of organisation", "Type de structure"),
    "period": Label("Period", "Période"),
    "age_band": Label("Age band", "Tranche d'âge"),
    "sex": Label("Sex", "Sexe"),
    "need": Label("Need", "Besoin"),
    "need_status": Label("Need status", "État du besoin"),
    "living": Label("Living situation (ETHOS)", "Situation de logement (ETHOS)"),
    "hud_living": Label("Living situation (HUD)", "Situation de logement (HUD)"),
    "outcome": Label("Outcome", "Issue"),
    "wait_band": Label("Referral waiting time", "Délai de réponse aux orientations"),
}
_CODES: dict[str, Mapping[str, Label]] = {
    "org_kind": {
        OrgKind.COUNCIL: Label("Council", "Collectivité"),
        OrgKind.CHARITY: Label("Charity", "Association"),
        OrgKind.HOUSING_PROVIDER: Label("Housing provider", "Bailleur"),
        OrgKind.HEALTH: Label("Health service", "Service de santé"),
        OrgKind.OTHER: Label("Other", "Autre"),
    },
    "age_band": {
        "under_18": Label("Under 18", "Moins de 18 ans"),
        "18_24": Label("18–24", "18–24 ans"),
        "25_34": Label("25–34", "25–34 ans"),
        "35_44": Label("35–44", "35–44 ans"),
        "45_54": Label("45–54", "45–54 ans"),
        "55_64": Label("55–64", "55–64 ans"),
        "65_plus": Label("65 and over", "65 ans et plus"),
        "unknown": Label("Unknown", "Inconnu"),
    },
    "sex": {
        Sex.FEMALE: Label("Female", "Femme"),
        Sex.MALE: Label("Male", "Homme"),
        Sex.OTHER: Label("Other", "Autre"),
        Sex.UNKNOWN: Label("Unknown", "Inconnu"),
    },
    "need": {
        **{c.value: NEED_LABELS[c] for c in NeedCategory},
        pure.NONE: Label("No need recorded", "Aucun besoin noté"),
    },
    "need_status": {
        "open": Label("Open", "Ouvert"),
        "in_progress": Label("In progress", "En cours"),
        "met": Label("Met", "Satisfait"),
        "not_met": Label("Not met", "Non satisfait"),
        "withdrawn": Label("Withdrawn", "Abandonné"),
        pure.NONE: Label("No need recorded", "Aucun besoin noté"),
    },
    "living": {g.value: GROUP_LABELS[g] for g in LivingSituationGroup},
    "hud_living": {
        "homeless": Label("Homeless situation", "Sans abri ou hébergement d'urgence"),
        "institutional": Label("Institutional situation", "Institution"),
        "temporary": Label("Temporary housing", "Logement temporaire"),
        "permanent": Label("Permanent housing", "Logement durable"),
        "unknown": Label("Unknown", "Inconnu"),
    },
    "outcome": {
        pure.NONE: Label("No outcome this period", "Aucune issue sur la période"),
        "need_met": Label("A need met", "Un besoin satisfait"),
        "referral_accepted": Label("Referral accepted", "Orientation acceptée"),
        "referral_declined": Label("Referral declined", "Orientation refusée"),
        "closed_housed": Label("Case closed: housed", "Dossier clos : relogé·e"),
        "closed_sheltered": Label("Case closed: sheltered", "Dossier clos : hébergé·e"),
        "closed_other": Label("Case closed: other reason", "Dossier clos : autre motif"),
    },
    "wait_band": {
        pure.NONE: Label("No referral answered", "Aucune orientation répondue"),
        "days_0_2": Label("0–2 days", "0 à 2 jours"),
        "days_3_7": Label("3–7 days", "3 à 7 jours"),
        "days_8_30": Label("8–30 days", "8 à 30 jours"),
        "days_31_plus": Label("31 days or more", "31 jours ou plus"),
    },
    "flow": {
        "entering": Label("Entering (first seen)", "Entrées (première rencontre)"),
        "leaving": Label("Leaving (housed, nothing open)", "Sorties (relogé·e, rien d'ouvert)"),
    },
}
_OTHER_AREA = Label("Other or unknown area", "Autre secteur ou inconnu")
_ALL = Label("All", "Ensemble")
_MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
              "nov.", "déc.")  # fmt: skip
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_areas: Areas | None = None


def use_areas(areas: Areas) -> None:
    """The deployment's areas (set by the runtime at start-up): the `area` dimension's codes."""
    global _areas
    _areas = areas


GROUP_JOIN = "_"  # between the codes of the areas sharing a district cell
MAX_GROUP_CODE = 200
CELL_PREFIX = "cell-"


def area_group(areas: Areas | None, geohash: str | None) -> str:
    """The statistics' area of a district cell: the deployment's areas holding that cell, as one
    category (their codes joined). Nothing finer than the district is stored in clear, so areas
    sharing a cell (Lyon's 1st, 2nd, 4th, 5th and 9th arrondissements in one 5 km cell) cannot
    be told apart: counting them all in the first one would be wrong, not just coarse."""
    if areas is None or not geohash:
        return pure.OTHER_AREA
    held = areas.in_cell(geohash)
    if not held:
        return pure.OTHER_AREA
    joined = GROUP_JOIN.join(a.code for a in held)
    # Many areas in one cell: the cell names the group (the column holds 255 characters).
    return joined if len(joined) <= MAX_GROUP_CODE else f"{CELL_PREFIX}{geohash[:5].lower()}"


def _area_groups(areas: Areas) -> tuple[str, ...]:
    """Every area group of the deployment, in the order of its file's cells."""
    cells = dict.fromkeys(cell for area in areas.areas for cell in area.cells)
    return tuple(dict.fromkeys(area_group(areas, cell) for cell in cells))


def categories(dimension: str, period: Period | None = None) -> tuple[str, ...]:
    """A dimension's category codes, in display order (`period` needs the request's period)."""
    if dimension == "area":
        return (*(_area_groups(_areas) if _areas else ()), pure.OTHER_AREA)
    if dimension == "period":
        return period_codes(period) if period is not None else ()
    if dimension in _CODES:
        return tuple(_CODES[dimension])
    raise KeyError(dimension)


def period_code(month: date, granularity: Granularity) -> str:
    if granularity is Granularity.YEAR:
        return f"{month.year}"
    if granularity is Granularity.QUARTER:
        return f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    return f"{month.year}-{month.month:02d}"


def period_codes(period: Period) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            period_code(m, period.granularity)
            for m in pure.months_between(period.start, period.end)
        )
    )


def label(dimension: str, code: object, locale: str | None) -> str:
    """The words for a category code (a tuple of codes when two dimensions fold into rows is
    labelled by the caller, one code at a time)."""
    text = str(code)
    french = (locale or "en").lower().startswith("fr")
    if text == "all":
        return _ALL.for_locale(locale or "en")
    if dimension == "area":
        if text == pure.OTHER_AREA:
            return _OTHER_AREA.for_locale(locale or "en")
        held: list[Area | None]
        if _areas and text.startswith(CELL_PREFIX):
            held = list(_areas.in_cell(text.removeprefix(CELL_PREFIX)))
        else:
            held = [_areas.get(code) for code in text.split(GROUP_JOIN)] if _areas else []
        names = [a.name_in(locale) for a in held if a is not None]
        return " · ".join(names) if names else text
    if dimension == "period":
        return _period_label(text, french)
    found = _CODES.get(dimension, {}).get(text)
    return found.for_locale(locale or "en") if found else text


def _period_label(code: str, french: bool) -> str:
    if "-Q" in code:
        year, quarter = code.split("-Q")
        return f"T{quarter} {year}" if french else f"Q{quarter} {year}"
    if "-" in code:
        year, month = code.split("-")
        names = _MONTHS_FR if french else _MONTHS_EN
        return f"{names[int(month) - 1]} {year}"
    return code


def dimension_label(dimension: str, locale: str | None) -> str:
    found = _DIMENSION_LABELS.get(dimension)
    return found.for_locale(locale or "en") if found else dimension
