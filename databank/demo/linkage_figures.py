"""How well the pool matches the demo's truth: pairwise precision, recall and F1 of the pooling.

The demo knows which registrations (subjects) are the same generated person; the databank's
pool is `subjects.person_id`, read through a service. A pair is two subjects: a true pair is the
same demo person, a pooled pair is the same pooled person. Within-org duplicates are true pairs
whose two subjects belong to one org (the person registered twice there).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from databank.services.records import subjects

__all__ = ["LinkageFigures", "figures", "measure"]

K = TypeVar("K", bound=Hashable)  # a subject's key


@dataclass(frozen=True)
class LinkageFigures:
    subjects: int
    true_persons: int
    pooled_persons: int
    true_pairs: int
    pooled_pairs: int
    correct_pairs: int  # pooled pairs that are true pairs
    duplicate_pairs: int  # true pairs within one org
    duplicates_found: int  # of those, pooled together
    pooled_across_orgs: int  # pooled persons whose subjects belong to two or more orgs

    @property
    def precision(self) -> float | None:
        return self.correct_pairs / self.pooled_pairs if self.pooled_pairs else None

    @property
    def recall(self) -> float | None:
        return self.correct_pairs / self.true_pairs if self.true_pairs else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    def describe(self, method: str) -> list[str]:
        """Labelled lines for the terminal; `method` says how the pool was built."""

        def ratio(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        rows = (
            ("subjects (org registrations)", self.subjects),
            ("true persons (demo truth)", self.true_persons),
            ("pooled persons (databank)", self.pooled_persons),
            ("pairwise precision", ratio(self.precision)),
            ("pairwise recall", ratio(self.recall)),
            ("pairwise F1", ratio(self.f1)),
            ("true pairs / pooled pairs", f"{self.true_pairs} / {self.pooled_pairs}"),
            ("within-org duplicates found", f"{self.duplicates_found} of {self.duplicate_pairs}"),
        )
        return [
            "Linkage measured against the demo's truth (pairs of subjects of one person):",
            f"  pool built by: {method}",
            *(f"  {label:<30}{value:>14}" for label, value in rows),
        ]


def _pairs(sizes: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def figures(
    truth: Mapping[K, Hashable],
    pooled: Mapping[K, Hashable],
    org: Mapping[K, Hashable],
) -> LinkageFigures:
    """Figures over the subjects of `truth` (subject -> true person), given the pool (subject ->
    pooled person) and each subject's org. A subject missing from the pool (erased) is left out."""
    keys = [k for k in truth if k in pooled]
    true = Counter(truth[k] for k in keys)
    pool = Counter(pooled[k] for k in keys)
    both = Counter((truth[k], pooled[k]) for k in keys)
    same_org = Counter((truth[k], org[k]) for k in keys)
    found = Counter((truth[k], org[k], pooled[k]) for k in keys)
    orgs_of: dict[Hashable, set[Hashable]] = {}
    for k in keys:
        orgs_of.setdefault(pooled[k], set()).add(org[k])
    return LinkageFigures(
        subjects=len(keys),
        true_persons=len(true),
        pooled_persons=len(pool),
        true_pairs=_pairs(true),
        pooled_pairs=_pairs(pool),
        correct_pairs=_pairs(both),
        duplicate_pairs=_pairs(same_org),
        duplicates_found=_pairs(found),
        pooled_across_orgs=sum(len(o) >= 2 for o in orgs_of.values()),
    )


def measure(session: Session, truth: Mapping[uuid.UUID, tuple[int, str]]) -> LinkageFigures:
    """The figures of the databank's pool now, for subjects mapped to (demo person, org slug)."""
    pooled = subjects.pooled_persons(session, list(truth))
    return figures(
        {k: person for k, (person, _) in truth.items()},
        pooled,
        {k: org for k, (_, org) in truth.items()},
    )
