#!/usr/bin/env python3
"""Caseload benchmark: a partner's caseload page, decided first (issue 15, finding 1), against the
bare SQL page of the same candidates (the floor: no decision, no log), in one run.

A page is counted over the cases the policy lets the caller see, so the service walks the
candidates in order, deciding each, until the page is full: a deep page costs more than a first
one. This prints, for each demo organisation and purpose, the median time of pages 1, 10 and 40
(25 cases a page), the floor's, and how many cases each listed.

    .venv/bin/python scripts/bench_caseload.py [--people 2000] [--repeat 5]
        [--database-url sqlite:///...]   (default: a SQLite file in a temporary folder)
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from databank.demo.generator import load_demo  # noqa: E402
from databank.domain.enums import Purpose, Role  # noqa: E402
from databank.models import Case, Organisation  # noqa: E402
from databank.services.access import sharing  # noqa: E402
from databank.services.actors import Actor  # noqa: E402
from databank.services.records import case_lists  # noqa: E402
from tests.support import migrated_runtime  # noqa: E402

PAGE = 25


def median_ms(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, rows


def _decided(session: Session, actor: Actor, purpose: Purpose, offset: int) -> int:
    found = case_lists.case_page(session, actor, purpose, limit=PAGE, offset=offset)
    return len(found.lines)


def _floor(session: Session, visible: ColumnElement[bool], offset: int) -> int:
    query = select(Case).where(visible).order_by(*case_lists.CASE_SORTS["opened_desc"])
    return len(session.scalars(query.limit(PAGE).offset(offset)).all())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_caseload_"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    runtime = migrated_runtime(url, folder / "instance")
    with runtime.transaction() as session:
        load_demo(session, people=args.people, seed=42)
    print(f"demo city of {args.people} people on {url.split(':')[0]}; {PAGE} cases a page")
    header = ("organisation", "purpose", "page", "decided first", "SQL floor")
    print("{:14} {:18} {:>4}  {:>20}  {:>17}".format(*header))
    with runtime.transaction() as session:
        for slug in ("entraide", "habitat-rhone", "metropole"):
            org = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
            actor = Actor(None, org.id, org.kind, frozenset({Role.HOUSING_OFFICER}), "bench")
            for purpose in (Purpose.CASE_MANAGEMENT, Purpose.HOUSING_ALLOCATION):
                visible = sharing.visible_cases_clause(session, org.id, org.kind, purpose)
                for page in (1, 10, 40):
                    offset = (page - 1) * PAGE

                    decided = functools.partial(_decided, session, actor, purpose, offset)
                    floor = functools.partial(_floor, session, visible, offset)
                    ms, rows = median_ms(decided, args.repeat)
                    floor_ms, floor_rows = median_ms(floor, args.repeat)
                    print(
                        f"{slug:14} {purpose.value:18} {page:4}  {ms:8.1f} ms ({rows:2} cases)"
                        f"  {floor_ms:6.1f} ms ({floor_rows:2} rows)"
                    )
        session.rollback()  # the reads' log entries: not kept
    runtime.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
