"""The differencing attack of issue 18: an attacker who may run many overlapping table queries
("area A and a padding area" against "the padding area alone") tries to learn whether one
target person, alone in area A, has a mental health need.

With the deterministic rules alone (rounding to 5, "<10") the padded attack succeeds: the target
moves a count across a rounding boundary in one padding area out of five. On the
differentially private path the attacker's budget (2.0 a quarter, 0.5 a table) buys two pairs
of tables, and their advantage (how much more often they say "yes" when it is true than when it
is not) stays at or under 0.1, measured over thousands of trials.
"""

from __future__ import annotations

import random

import pandas as pd

from databank.analytics import dp
from databank.analytics.disclosure import ReleasedTable
from databank.analytics.tables import (
    ALL,
    Counts,
    TableQuery,
    capped,
    count,
    release_noised,
    release_published,
)

PADS = 40
NEEDS = ["food", "mental_health", "shelter"]
SECRET = "mental_health"


def _world(rng: random.Random, has_need: bool) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Padding areas with 10-60 people with the secret need and some with others; the target
    alone in area A, with food aid and (or not) the secret need."""
    rows = [("target", "A", "food")]
    if has_need:
        rows.append(("target", "A", SECRET))
    for j in range(PADS):
        area = f"P{j}"
        for i in range(rng.randint(10, 60)):
            rows.append((f"{area}-m{i}", area, SECRET))
        for i in range(rng.randint(20, 60)):
            rows.append((f"{area}-o{i}", area, rng.choice(["food", "shelter"])))
    facts = pd.DataFrame(rows, columns=["person", "area", "need"])
    return facts, {"area": ["A", *(f"P{j}" for j in range(PADS))], "need": NEEDS}


def _pair(j: int) -> tuple[TableQuery, TableQuery]:
    pad = f"P{j}"
    return (
        TableQuery(("need",), {"area": frozenset({"A", pad})}),
        TableQuery(("need",), {"area": frozenset({pad})}),
    )


def _secret_cell(table: ReleasedTable) -> int | None:
    return table.cell(ALL, SECRET).value


def _published_attack(facts: pd.DataFrame, categories: dict[str, list[str]]) -> bool:
    """Say "yes" as soon as two numbers the pair shows differ: without the target they are the
    same count, so the same released number."""
    for j in range(PADS):
        with_target, without = (
            _secret_cell(release_published(count(facts, q, categories))) for q in _pair(j)
        )
        if with_target is not None and without is not None and with_target != without:
            return True
    return False


def test_the_padded_differencing_attack_beats_the_deterministic_rules() -> None:
    rng = random.Random(18)
    said_yes = {True: 0, False: 0}
    trials = 10
    for truth in (True, False):
        for _ in range(trials):
            facts, categories = _world(rng, truth)
            said_yes[truth] += _published_attack(facts, categories)
    advantage = (said_yes[True] - said_yes[False]) / trials
    assert said_yes[False] == 0  # never a false "yes": the rules are deterministic
    assert advantage >= 0.95  # 1 - 0.8**40 in theory


def _noised_attack(
    pairs: list[tuple[Counts, Counts]], rng: random.Random, budget: float, epsilon: float
) -> bool:
    """Spend the budget on pairs of tables; say "yes" when the differences of the secret cell
    (where both numbers are shown) add up to more than half a person per pair."""
    tables = int(budget / epsilon + 1e-9)
    total, used = 0, 0
    for with_target, without in pairs[: tables // 2]:
        a = _secret_cell(release_noised(with_target, epsilon))
        b = _secret_cell(release_noised(without, epsilon))
        if a is not None and b is not None:
            total += a - b
            used += 1
    if not used:
        return rng.random() < 0.5
    return total > 0.5 * used


def test_the_same_attack_on_the_private_path_gains_at_most_one_tenth() -> None:
    rng = random.Random(181)
    worlds = {}
    for truth in (True, False):
        facts, categories = _world(random.Random(7), truth)  # the same padding either way
        worlds[truth] = [
            tuple(count(capped(facts, q), q, categories) for q in _pair(j)) for j in range(2)
        ]
    trials = 10_000
    said_yes = {
        truth: sum(
            _noised_attack(worlds[truth], rng, dp.DEFAULT_QUARTER_BUDGET, dp.DEFAULT_EPSILON)
            for _ in range(trials)
        )
        for truth in (True, False)
    }
    advantage = (said_yes[True] - said_yes[False]) / trials
    # Measured 0.071 and 0.081 (standard error about 0.007 at 10,000 trials a side). An attacker
    # who knows every other person's data exactly does better with the same budget (four single
    # tables: 0.167 measured; DP's own bound at epsilon 2 is tanh(1) = 0.76): the 0.1 holds for
    # the differencing attack, not for every adversary.
    assert advantage <= 0.1, advantage
    assert advantage > -0.05, advantage  # the measurement is sound: no reverse signal
