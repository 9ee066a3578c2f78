"""The Splink model's comparisons and blocking rules, written once for each way of comparing.

Three modes share one structure: ``hardened`` (diffused keyed Bloom filters, compared by
Hamming similarity), ``encoded`` (plain keyed Bloom filters, compared by Dice) and
``plaintext`` (the clear normalised strings, compared by Jaro-Winkler: the benchmark's
ceiling only). Tokens compare by equality in every mode, so blocking rules are the same.

The SQL is DuckDB's (``bit_count``, ``xor``, ``&`` on BIT). On Spark the filters are stored
as BINARY and the similarities use ``bit_count`` over the bytes of ``bitwise`` ops, so a
national deployment swaps :func:`similarity_sql` and keeps every level and parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MODES = ("hardened", "encoded", "plaintext")
# Similarity thresholds (high, middle, low) of the name filters, per mode. Hamming similarity
# of diffused filters is lower than the Dice of the plain ones for the same pair of names
# (each differing plain bit flips about `taps` stored bits), hence lower cut-offs.
THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "hardened": (0.80, 0.60, 0.45),
    "encoded": (0.90, 0.75, 0.60),
    "plaintext": (0.95, 0.88, 0.80),
}
OUT_BITS = 1024


def similarity_sql(mode: str, left: str, right: str) -> str:
    """SQL similarity in [0, 1] of two filter columns (or clear strings for plaintext)."""
    if mode == "hardened":
        return f"(1 - 2.0 * bit_count(xor({left}, {right})) / {OUT_BITS})"
    if mode == "encoded":
        return f"(2.0 * bit_count({left} & {right}) / (bit_count({left}) + bit_count({right})))"
    if mode == "plaintext":
        return f"jaro_winkler_similarity({left}, {right})"
    raise ValueError(f"unknown mode {mode!r}")


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(column: str) -> dict[str, Any]:
    return _level(f"{column}_l IS NULL OR {column}_r IS NULL", "null", is_null_level=True)


def _name_comparison(mode: str, field: str, other: str, *, carries_swap: bool) -> dict[str, Any]:
    hi, mid, lo = THRESHOLDS[mode]
    sim = similarity_sql(mode, f"{field}_bf_l", f"{field}_bf_r")

    def crossed(left: str, right: str) -> str:
        # Loose on each side (a typo or a compound cut short often comes with a swap), but
        # both sides must cross, which random pairs rarely do.
        cross = similarity_sql(mode, f"{left}_bf_l", f"{right}_bf_r")
        return (
            f"({left}_tok_l = {right}_tok_r OR {left}_first_tok_l = {right}_first_tok_r "
            f"OR {left}_ph_l = {right}_ph_r OR {cross} >= {lo})"
        )

    return {
        "output_column_name": field,
        "comparison_levels": [
            _null(f"{field}_tok"),
            _level(
                f"{field}_tok_l = {field}_tok_r",
                "same canonical name",
                tf_adjustment_column=f"{field}_tok",
                tf_adjustment_weight=1.0,
            ),
            _level(f"{sim} >= {hi}", f"filter similarity >= {hi}"),
            _level(
                f"{sim} >= {mid} OR {field}_ph_l = {field}_ph_r",
                f"filter similarity >= {mid} or same phonetic code",
            ),
            # Both names crossed: a swap. One name crossed alone is no swap ("Ivanov Nathalie"
            # against "Nathalie Marchal" shares a given name written in the wrong box only).
            # The given-name comparison carries the evidence, with the term frequency of the
            # given names (a swapped Fatima Diallo is as common as Fatima); in the family
            # comparison a swap is no further evidence (a null level), or it would count twice.
            _level(
                f"{crossed(field, other)} AND {crossed(other, field)}",
                "given and family names swapped",
                **(
                    {"tf_adjustment_column": f"{field}_tok", "tf_adjustment_weight": 1.0}
                    if carries_swap
                    else {"is_null_level": True}
                ),
            ),
            _level(f"{field}_first_tok_l = {field}_first_tok_r", "first token agrees"),
            _level("ELSE", "all other"),
        ],
    }


def _date_comparison() -> dict[str, Any]:
    same = "year_tok_l = year_tok_r"
    two_of_three = (
        f"({same} AND month_tok_l = month_tok_r) OR ({same} AND day_tok_l = day_tok_r) "
        "OR (month_tok_l = month_tok_r AND day_tok_l = day_tok_r)"
    )
    return {
        "output_column_name": "birth_date",
        "comparison_levels": [
            _level(
                "(year_tok_l IS NULL AND dob_tok_l IS NULL) OR "
                "(year_tok_r IS NULL AND dob_tok_r IS NULL)",
                "null",
                is_null_level=True,
            ),
            _level("dob_tok_l = dob_tok_r AND NOT dob_jan1_l", "same date"),
            _level("dob_tok_l = dob_tok_r", "same date, 1 January"),
            _level("dob_tok_l = dob_swap_tok_r", "day and month swapped"),
            _level(f"(dob_jan1_l OR dob_jan1_r) AND {same}", "same year, one is 1 January"),
            # Two 1-January placeholders share month and day by convention, not by birth.
            _level(
                f"NOT (dob_jan1_l AND dob_jan1_r) AND ({two_of_three})",
                "two of year, month, day",
            ),
            _level(same, "same year"),
            _level("ELSE", "all other"),
        ],
    }


def _exact(column: str, name: str, *, tf: bool) -> dict[str, Any]:
    extra = {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0} if tf else {}
    return {
        "output_column_name": name,
        "comparison_levels": [
            _null(column),
            _level(f"{column}_l = {column}_r", "same", **extra),
            _level("ELSE", "all other"),
        ],
    }


def _filter_comparison(mode: str, column: str, name: str) -> dict[str, Any]:
    hi, mid, _lo = THRESHOLDS[mode]
    sim = similarity_sql(mode, f"{column}_l", f"{column}_r")
    return {
        "output_column_name": name,
        "comparison_levels": [
            _null(column),
            _level(f"{sim} >= {hi}", f"similarity >= {hi}"),
            _level(f"{sim} >= {mid}", f"similarity >= {mid}"),
            _level("ELSE", "all other"),
        ],
    }


#: Optional comparisons, used when the training data has the field (see ``Linker.train``).
OPTIONAL_FIELDS = {
    "sex": "sex_tok",
    "birth_place": "place_tok",
    "area": "area_tok",
    "locality": "locality_tok",
    "address": "address_bf",
}

YEAR = "l.year_tok = r.year_tok"
AREA = "l.area_tok = r.area_tok"

#: Each blocking rule (equalities of keyed tokens) with its strict forms, used in its place
#: when the rule's blocks would give more than ``PAIRS_PER_RECORD`` pairs per record (common
#: names and 1-January dates at a million records): the strict forms add the birth year or the
#: area, so every block stays bounded while a pair that agrees on the name keeps one way in.
BLOCKING_RULES: list[tuple[str, list[str]]] = [
    # The two broad ones (same phonetic names; same date) find pairs with errors in the other
    # field; the rest rescue typos in both.
    (
        "l.given_ph = r.given_ph AND l.family_ph = r.family_ph",
        [f"l.given_ph = r.given_ph AND l.family_ph = r.family_ph AND {YEAR}",
         f"l.given_ph = r.given_ph AND l.family_ph = r.family_ph AND {AREA}"],
    ),
    (
        "l.dob_tok = r.dob_tok",
        ["l.dob_tok = r.dob_tok AND l.given_ph = r.given_ph",
         "l.dob_tok = r.dob_tok AND l.family_ph = r.family_ph",
         f"l.dob_tok = r.dob_tok AND {AREA}"],
    ),
    (
        "l.given_first_tok = r.given_first_tok AND l.family_first_tok = r.family_first_tok",
        [f"l.given_first_tok = r.given_first_tok AND l.family_first_tok = r.family_first_tok "
         f"AND {YEAR}"],
    ),
    (
        "l.given_tok = r.family_tok AND l.family_tok = r.given_tok",
        [f"l.given_tok = r.family_tok AND l.family_tok = r.given_tok AND {YEAR}",
         f"l.given_tok = r.family_tok AND l.family_tok = r.given_tok AND {AREA}"],
    ),
    ("l.dob_swap_tok = r.dob_tok AND l.family_ph = r.family_ph", []),
    # Swapped names with a typo: one name's phonetic code against the other's, same year.
    (f"l.given_ph = r.family_ph AND {YEAR}", [f"l.given_ph = r.family_ph AND {YEAR} AND {AREA}"]),
    (f"l.family_ph = r.given_ph AND {YEAR}", [f"l.family_ph = r.given_ph AND {YEAR} AND {AREA}"]),
    # Swapped names with a typo and no common year (a date missing or a 1-January one): one
    # name against the other, same area.
    (f"l.given_tok = r.family_tok AND {AREA}", []),
    (f"l.family_tok = r.given_tok AND {AREA}", []),
    # A typo in one name and a date recorded as 1 January (or with a wrong day) in the other
    # record: one phonetic name and the year.
    (f"l.family_ph = r.family_ph AND {YEAR}", [f"l.family_ph = r.family_ph AND {YEAR} AND {AREA}"]),
    (f"l.given_ph = r.given_ph AND {YEAR}", [f"l.given_ph = r.given_ph AND {YEAR} AND {AREA}"]),
    # Place of residence, where the data has one (FEBRL's suburb): rescues date errors.
    ("l.locality_tok = r.locality_tok AND l.given_ph = r.given_ph",
     [f"l.locality_tok = r.locality_tok AND l.given_ph = r.given_ph AND {YEAR}"]),
    ("l.locality_tok = r.locality_tok AND l.family_ph = r.family_ph",
     [f"l.locality_tok = r.locality_tok AND l.family_ph = r.family_ph AND {YEAR}"]),
    (f"{AREA} AND l.given_tok = r.given_tok AND {YEAR}", []),
    (f"{AREA} AND l.family_tok = r.family_tok AND {YEAR}", []),
    # Heavily corrupted pairs (a different given name and date) that still share where they
    # live: FEBRL4's last 1.4 % of true pairs. Area and one phonetic name, or area and locality.
    (f"{AREA} AND l.given_ph = r.given_ph", []),  # at scale: the year rule above
    (f"{AREA} AND l.family_ph = r.family_ph", []),
    (f"{AREA} AND l.locality_tok = r.locality_tok",
     [f"{AREA} AND l.locality_tok = r.locality_tok AND {YEAR}"]),
]  # fmt: skip
PAIRS_PER_RECORD = 25


def blocking_rules(pairs_of: Callable[[str], float], records: int) -> list[str]:
    """The rules for ``records`` records; ``pairs_of(rule)`` estimates a rule's pair count."""
    budget = PAIRS_PER_RECORD * max(records, 1)
    chosen: list[str] = []
    for rule, strict in BLOCKING_RULES:
        chosen.extend([rule] if pairs_of(rule) <= budget else strict)
    return chosen


def settings(
    mode: str,
    fields: list[str],
    link_type: str = "dedupe_only",
    rules: list[str] | None = None,
) -> dict[str, Any]:
    """The Splink settings dictionary for ``mode`` with the optional ``fields`` present."""
    comparisons = [
        _name_comparison(mode, "given", "family", carries_swap=True),
        _name_comparison(mode, "family", "given", carries_swap=False),
        _date_comparison(),
    ]
    for field in fields:
        column = OPTIONAL_FIELDS[field]
        if field == "address":
            comparisons.append(_filter_comparison(mode, column, field))
        else:
            comparisons.append(_exact(column, field, tf=field != "sex"))
    return {
        "link_type": link_type,
        "unique_id_column_name": "record_id",
        "probability_two_random_records_match": 1e-4,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": (
            [rule for rule, _strict in BLOCKING_RULES] if rules is None else list(rules)
        ),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
    }
