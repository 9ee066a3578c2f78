"""Templated tables (issue 18, point 2): distinct people per cell and per total, filters on the
table's dimensions only, empty cells shown, and the two release paths."""

from __future__ import annotations

import pandas as pd
import pytest

from databank.analytics import dp
from databank.analytics.disclosure import Mark
from databank.analytics.tables import (
    ALL,
    TableQuery,
    capped,
    count,
    release_adhoc,
    release_published,
)

CATEGORIES = {
    "area": ["north", "south"],
    "need": ["food", "shelter", "health"],
    "sex": ["female", "male"],
    "period": ["2026-10", "2026-11"],
}


def _facts(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person", "area", "need", "sex", "period"])


def test_a_person_counts_once_per_cell_and_once_in_each_total() -> None:
    facts = _facts(
        [
            ("p1", "north", "food", "female", "2026-10"),
            ("p1", "north", "food", "female", "2026-11"),  # the same cell again: still one
            ("p1", "north", "shelter", "female", "2026-11"),  # a second need: a second cell
            ("p2", "north", "food", "male", "2026-11"),
            ("p3", "south", "health", "male", "2026-11"),
        ]
    )
    table = count(facts, TableQuery(("area", "need")), CATEGORIES)
    assert table.rows == ("north", "south")
    assert table.columns == ("food", "shelter", "health")
    assert table.cells[("north", "food")] == 2
    assert table.cells[("north", "shelter")] == 1
    assert table.cells[("south", "food")] == 0  # an empty cell is in the table
    assert table.row_people == {"north": 2, "south": 1}  # p1 once, with two needs
    assert table.column_people["food"] == 2
    assert table.people == 3
    assert "p1" not in repr(table)


def test_filters_and_one_and_three_dimensions() -> None:
    facts = _facts(
        [
            ("p1", "north", "food", "female", "2026-10"),
            ("p2", "south", "food", "male", "2026-11"),
            ("p3", "south", "shelter", "male", "2026-11"),
        ]
    )
    one = count(facts, TableQuery(("need",), {"period": frozenset({"2026-11"})}), CATEGORIES)
    assert one.rows == (ALL,)
    assert [one.cells[(ALL, n)] for n in one.columns] == [1, 1, 0]
    assert one.people == 2
    three = count(facts, TableQuery(("area", "sex", "need")), CATEGORIES)
    assert three.rows[0] == ("north", "female")
    assert three.cells[(("south", "male"), "shelter")] == 1
    # A filter narrows a dimension's categories to those chosen.
    narrowed = count(facts, TableQuery(("area",), {"area": frozenset({"south"})}), CATEGORIES)
    assert narrowed.columns == ("south",)


def test_a_query_names_known_dimensions_only() -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        TableQuery(("name",))
    with pytest.raises(ValueError, match="unknown dimension"):
        TableQuery(("area",), {"birth_date": frozenset({"1980-01-01"})})
    with pytest.raises(ValueError, match="1 to 3"):
        TableQuery(("area", "need", "sex", "period"))


def test_capping_keeps_each_person_in_at_most_cap_cells_the_same_way_each_time() -> None:
    facts = _facts(
        [("p1", "north", n, "female", "2026-11") for n in ("health", "food", "shelter")]
        + [("p2", "north", "food", "male", "2026-11")]
    )
    query = TableQuery(("need",))
    kept = capped(facts, query, cap=2)
    assert sorted(kept[kept.person == "p1"].need) == ["food", "health"]  # first two, sorted
    assert capped(facts.sample(frac=1, random_state=3), query, cap=2).equals(kept)


def test_the_published_path_is_deterministic_and_the_adhoc_path_noised() -> None:
    facts = _facts(
        [(f"p{i}", "north" if i % 3 else "south", "food", "male", "2026-11") for i in range(60)]
    )
    query = TableQuery(("area",))
    published = [release_published(count(facts, query, CATEGORIES)) for _ in range(3)]
    assert published[0] == published[1] == published[2]
    assert published[0].cell(ALL, "north").value == 40
    noised = [release_adhoc(facts, query, CATEGORIES).cell(ALL, "north").value for _ in range(400)]
    assert len(set(noised)) > 1  # fresh noise each time
    for value in noised:
        assert value is None or value % 5 == 0  # the presentation rules still apply
    # The error stated before a query holds for 95 % of the draws (rounding moves a value 2 at
    # most); 90 % of 400 draws is far enough below to never fail by chance (p < 1e-4).
    error = dp.plan(dp.DEFAULT_EPSILON, 2).error_95
    within = [v is not None and abs(v - 40) <= error + 2 for v in noised]
    assert sum(within) >= 0.9 * len(noised)


def test_the_noise_plan_meets_the_budget_and_states_its_error() -> None:
    plan = dp.plan(0.5, 2)
    assert plan.scale == pytest.approx(4.0, rel=0.05)  # sensitivity / epsilon
    assert plan.error_95 >= 10
    assert dp.plan(2.0, 2).error_95 < plan.error_95  # more budget, less noise
    with pytest.raises(ValueError, match="epsilon"):
        dp.plan(0.0, 1)
    assert Mark.ROUNDED.value == "rounded"
