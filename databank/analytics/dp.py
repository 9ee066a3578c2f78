"""Differential privacy for ad-hoc tables (issue 18, point 4), with OpenDP.

The mechanism is OpenDP's Laplace mechanism on integers, which is the discrete Laplace
(geometric) mechanism: counts stay whole numbers (no rounding step between the noise and the
disclosure rules that could leak), its privacy loss is pure epsilon (no delta to explain to a
data protection officer, unlike the Gaussian), and for the small number of cells a table holds
its error is lower than the Gaussian's at the same budget. OpenDP checks the privacy map: the
scale is found by its binary search so that the declared sensitivity costs at most the table's
epsilon, never computed by hand.

A table's sensitivity is declared by its query, never measured on the data: how many of the
released numbers (cells and totals) one person can change (see analytics/tables.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_EPSILON = 0.5  # per ad-hoc table
DEFAULT_QUARTER_BUDGET = 2.0  # per user and quarter
CONFIDENCE = 0.95  # of the error shown before a query runs


@dataclass(frozen=True)
class NoisePlan:
    """How one table is noised: its budget, its sensitivity, and what that costs in accuracy."""

    epsilon: float
    sensitivity: int
    scale: float
    # Each released count is within this of the true one with 95 % probability.
    error_95: int


@lru_cache(maxsize=64)
def _measurement(scale: float) -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    domain = dp.vector_domain(dp.atom_domain(T=int))
    return dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)


@lru_cache(maxsize=256)
def plan(epsilon: float, sensitivity: int) -> NoisePlan:
    """The noise for a table of this sensitivity within `epsilon` (checked by OpenDP's map)."""
    import opendp.prelude as dp

    if not (0 < epsilon <= 10) or math.isnan(epsilon):
        raise ValueError("epsilon must be in (0, 10]")
    if sensitivity < 1:
        raise ValueError("a table's sensitivity is at least 1")
    dp.enable_features("contrib")
    scale = float(dp.binary_search_param(_measurement, d_in=sensitivity, d_out=epsilon))
    if _measurement(scale).map(sensitivity) > epsilon:  # pragma: no cover - OpenDP's promise
        raise RuntimeError("the noise found does not meet the budget")
    error = dp.discrete_laplacian_scale_to_accuracy(scale, 1 - CONFIDENCE)
    return NoisePlan(epsilon, sensitivity, scale, math.ceil(error))


def noisy(counts: Sequence[int], noise: NoisePlan) -> list[int]:
    """The counts with discrete Laplace noise, negatives clamped to 0 (post-processing)."""
    if not counts:
        return []
    released = _measurement(noise.scale)([int(c) for c in counts])
    return [max(0, int(value)) for value in released]
