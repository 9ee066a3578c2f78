"""Clustering that does not chain through weak links: links, unless a pair inside says no.

Splink's ``cluster_pairwise_predictions_at_threshold`` takes connected components of the links
at the link threshold. One record that links to two people (a "Mohamed Benali" without a
birth date, close to two Mohamed Benalis of different birth dates) then joins both into one
cluster, and with common names whole families of namesakes chain into one person.

This module re-clusters only the components that contain such a contradiction: a scored pair
inside the component whose match probability is below ``cannot`` (the model says those two
records are different people). In those components links are taken strongest first
(greedy agglomeration, union-find), and two groups are joined only if no pair across them is a
contradiction. Components without a contradiction (almost all) keep Splink's answer, so the
cost is proportional to the few conflicting components, not to the data.

Hand-written (about sixty lines): Splink has no constrained clustering, and graph libraries
(networkx, igraph) offer connected components or community detection, not "merge unless a
cannot-link pair would be joined", which is what the review band and negative evidence need.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

__all__ = ["constrained_clusters"]


def constrained_clusters(
    links: Iterable[tuple[Hashable, Hashable, float]],
    conflicts: Iterable[tuple[Hashable, Hashable]],
    records: Iterable[Hashable],
) -> dict[Hashable, Hashable]:
    """Cluster label (a member's id, the smallest) of each record of ``records``.

    ``links``: (left, right, probability) at or above the link threshold; ``conflicts``:
    (left, right) pairs that must not end in one cluster. Links are taken strongest first; a
    link that would join two groups holding a conflicting pair is skipped.
    """
    parent: dict[Hashable, Hashable] = {r: r for r in records}
    members: dict[Hashable, set[Hashable]] = {r: {r} for r in parent}
    forbidden: dict[Hashable, set[Hashable]] = {r: set() for r in parent}
    for left, right in conflicts:
        forbidden[left].add(right)
        forbidden[right].add(left)

    def find(node: Hashable) -> Hashable:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    # Strongest first; ties broken by ids so a re-run gives the same clusters.
    for left, right, _p in sorted(links, key=lambda t: (-t[2], repr(t[0]), repr(t[1]))):
        a, b = find(left), find(right)
        if a == b:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        if forbidden[a] & members[b]:
            continue
        parent[b] = a
        members[a] |= members.pop(b)
        forbidden[a] |= forbidden.pop(b)
    labels: dict[Hashable, Hashable] = {}
    for group in members.values():
        label = min(group)  # type: ignore[type-var]
        for record in group:
            labels[record] = label
    return labels
