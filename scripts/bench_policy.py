#!/usr/bin/env python3
"""Policy benchmark: Cedar field decisions per second, uncached and cached; case reads per second.

A case read here is the policy part of reading one case: 12 field decisions (location at the
finest allowed level). Goals (issue 3): >= 100,000 cached field decisions/s and >= 5,000 case
reads/s on this 2-core machine.

    .venv/bin/python scripts/bench_policy.py [--cases 10000] [--policies policies/]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from pathlib import Path

from databank.domain.enums import Purpose, Role
from databank.policy import FIELDS, CaseFacts, PolicyEngine, Principal, Situation, load_bundle

ROLE_SETS = [
    frozenset({Role.OUTREACH_WORKER.value}),
    frozenset({Role.HOUSING_OFFICER.value}),
    frozenset({Role.ORG_ADMIN.value}),
    frozenset({Role.AUDITOR.value}),
    frozenset({Role.BREAK_GLASS_RESPONDER.value, Role.OUTREACH_WORKER.value}),
]
PURPOSES = [p.value for p in Purpose]


def combos(engine: PolicyEngine) -> list[tuple[Principal, CaseFacts, Situation, str, int]]:
    """Every distinct decision the demo organisations can ask for (no two share a cache key)."""
    orgs = sorted(engine.bundle.orgs.items())
    out = []
    for (p_slug, p_meta), roles, (
        o_slug,
        o_meta,
    ), purpose, consent, flags, field in itertools.product(
        orgs, ROLE_SETS, orgs, PURPOSES, (False, True), (False, True), FIELDS
    ):
        principal = Principal("u", p_slug, p_meta.kind, roles)
        case = CaseFacts(o_slug, o_meta.kind, is_minor=flags, is_domestic_abuse_survivor=flags)
        situation = Situation(purpose, consent=consent)
        out.append((principal, case, situation, field, 4 if field == "location" else 0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--policies", type=Path, default=Path(__file__).parents[1] / "policies")
    args = parser.parse_args()
    bundle = load_bundle(args.policies)

    # Uncached: a fresh engine, every decision distinct.
    engine = PolicyEngine(bundle)
    work = combos(engine)
    start = time.perf_counter()
    for principal, case, situation, field, level in work:
        engine.decide(principal, "read", case, situation, field, level)
    uncached = len(work) / (time.perf_counter() - start)

    # Cached: the same decisions again, now in the cache.
    start = time.perf_counter()
    for principal, case, situation, field, level in work:
        engine.decide(principal, "read", case, situation, field, level)
    cached = len(work) / (time.perf_counter() - start)

    # Case reads: N cases from random owners, read by random principals for random purposes,
    # 12 field decisions each (location at its finest allowed level), on a warm engine.
    rng = random.Random(7)
    reads = [rng.choice(work) for _ in range(args.cases)]
    for principal, case, situation, _field, _level in reads:  # warm-up
        engine.release(principal, "read", case, situation, FIELDS)
    start = time.perf_counter()
    for principal, case, situation, _field, _level in reads:
        engine.release(principal, "read", case, situation, FIELDS)
    case_reads = args.cases / (time.perf_counter() - start)
    hits, misses = engine.cache_info()

    print(f"policy version              {engine.version[:23]}…")
    print(f"distinct decisions          {len(work):,}")
    print(f"uncached field decisions    {uncached:,.0f} /s")
    print(f"cached field decisions      {cached:,.0f} /s")
    print(f"case reads (12 fields)      {case_reads:,.0f} /s  ({args.cases:,} cases)")
    print(f"cache hits / misses         {hits:,} / {misses:,}")
    print(f"goal >= 100,000 cached/s    {'MET' if cached >= 100_000 else 'NOT MET'}")
    print(f"goal >= 5,000 case reads/s  {'MET' if case_reads >= 5_000 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
