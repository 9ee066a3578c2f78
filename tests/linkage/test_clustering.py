"""Constrained clustering: links join records unless a contradiction inside would be joined."""

from __future__ import annotations

from databank.linkage.clustering import constrained_clusters


def test_a_record_close_to_two_people_does_not_chain_them() -> None:
    """r (no birth date) links to a and to b; a and b contradict: r joins the stronger one."""
    labels = constrained_clusters(
        links=[("r", "a", 0.95), ("r", "b", 0.90), ("a", "a2", 0.99)],
        conflicts=[("a", "b")],
        records=["r", "a", "a2", "b"],
    )
    assert labels["r"] == labels["a"] == labels["a2"]
    assert labels["b"] != labels["a"]


def test_a_contradiction_with_any_member_blocks_the_merge() -> None:
    """b conflicts with a2 only, reached through a: b still stays apart from the group."""
    labels = constrained_clusters(
        links=[("a", "a2", 0.99), ("a", "b", 0.8)],
        conflicts=[("a2", "b")],
        records=["a", "a2", "b"],
    )
    assert labels["a"] == labels["a2"] != labels["b"]


def test_without_contradictions_it_is_connected_components() -> None:
    labels = constrained_clusters(
        links=[(1, 2, 0.9), (2, 3, 0.8), (4, 5, 0.7)], conflicts=[], records=[1, 2, 3, 4, 5, 6]
    )
    assert labels == {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 6}


def test_the_order_of_the_input_does_not_change_the_answer() -> None:
    links = [("r", "a", 0.9), ("r", "b", 0.9), ("b", "c", 0.95)]
    forward = constrained_clusters(links, [("a", "b")], ["a", "b", "c", "r"])
    backward = constrained_clusters(links[::-1], [("b", "a")], ["r", "c", "b", "a"])
    assert forward == backward
