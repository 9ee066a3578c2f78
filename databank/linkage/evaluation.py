"""How good a clustering is against the truth: pairwise and B-cubed precision, recall and F1.

Used by `databank linkage evaluate`, the demo's linkage figures and scripts/bench_linkage.py.
Labels and truth are any hashable values per record, aligned by position.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Scores:
    records: int
    clusters: int
    true_clusters: int
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float

    def lines(self) -> list[str]:
        return [
            f"records {self.records}, clusters {self.clusters} (true: {self.true_clusters})",
            f"pairwise precision {self.pair_precision:.4f} recall {self.pair_recall:.4f} "
            f"F1 {self.pair_f1:.4f}",
            f"B-cubed precision {self.bcubed_precision:.4f} recall {self.bcubed_recall:.4f} "
            f"F1 {self.bcubed_f1:.4f}",
        ]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pair_counts(labels: Sequence[Hashable], truth: Sequence[Hashable]) -> tuple[int, int, int]:
    """(true positive pairs, predicted pairs, true pairs) of the clustering."""
    both = pd.DataFrame({"p": list(labels), "t": list(truth)})
    return (
        _pairs(both.groupby(["p", "t"]).size()),
        _pairs(both.groupby("p").size()),
        _pairs(both.groupby("t").size()),
    )


def bcubed(labels: Sequence[Hashable], truth: Sequence[Hashable]) -> tuple[float, float]:
    both = pd.DataFrame({"p": list(labels), "t": list(truth)})
    inter = both.groupby(["p", "t"])["p"].transform("size")
    precision = (inter / both.groupby("p")["p"].transform("size")).mean()
    recall = (inter / both.groupby("t")["t"].transform("size")).mean()
    return float(precision), float(recall)


def score(labels: Sequence[Hashable], truth: Sequence[Hashable]) -> Scores:
    if len(labels) != len(truth):
        raise ValueError("labels and truth differ in length")
    tp, predicted, true = pair_counts(labels, truth)
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    b_precision, b_recall = bcubed(labels, truth) if len(labels) else (1.0, 1.0)
    return Scores(
        records=len(labels),
        clusters=len(set(labels)),
        true_clusters=len(set(truth)),
        pair_precision=precision,
        pair_recall=recall,
        pair_f1=f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=f1(b_precision, b_recall),
    )
