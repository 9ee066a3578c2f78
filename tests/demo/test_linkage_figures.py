"""Pairwise figures of a pool against a known truth, on a hand-made example."""

from __future__ import annotations

import pytest

from databank.demo.linkage_figures import figures

# Subjects a..e: a, b, c are person 1 (a and b both at org o1: a duplicate), d and e person 2.
TRUTH = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
ORG = {"a": "o1", "b": "o1", "c": "o2", "d": "o1", "e": "o2"}


def test_figures_of_a_pool_with_a_false_and_missed_links() -> None:
    # X = {a, b} (right), Y = {c, d} (wrong: persons 1 and 2), Z = {e}.
    result = figures(TRUTH, {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Z"}, ORG)
    assert (result.subjects, result.true_persons, result.pooled_persons) == (5, 2, 3)
    # True pairs ab ac bc de = 4; pooled pairs ab cd = 2, of which ab is right.
    assert (result.true_pairs, result.pooled_pairs, result.correct_pairs) == (4, 2, 1)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.25)
    assert result.f1 == pytest.approx(1 / 3)
    assert (result.duplicate_pairs, result.duplicates_found) == (1, 1)
    assert result.pooled_across_orgs == 1  # Y holds o1 and o2


def test_the_truth_itself_scores_one() -> None:
    result = figures(TRUTH, {k: f"p{v}" for k, v in TRUTH.items()}, ORG)
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)
    assert result.pooled_persons == result.true_persons == 2


def test_no_pooled_pair_has_no_precision_and_erased_subjects_are_left_out() -> None:
    singletons = {k: k for k in TRUTH if k != "e"}  # e was erased: it is in no cluster
    result = figures(TRUTH, singletons, ORG)
    assert result.subjects == 4
    assert result.pooled_pairs == 0
    assert result.precision is None
    assert result.recall == 0.0
    assert result.f1 is None
    assert (result.duplicate_pairs, result.duplicates_found) == (1, 0)
    lines = result.describe("by hand")
    assert "by hand" in lines[1]
    assert any("pairwise precision" in line and "n/a" in line for line in lines)
    assert any("within-org duplicates found" in line and "0 of 1" in line for line in lines)
