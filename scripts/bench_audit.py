#!/usr/bin/env python3
"""Audit benchmark: the log's cost inside real case reads, and `audit verify` over a large log.

1. Case reads through the services, each in its own transaction as a web request would be: reads
   per second, mean latency, and the time spent appending the access entry (head lock, body,
   leaf, frontier, insert), measured in the same run. Goal: the audit write adds <= 20 % to the
   latency of a case read.
2. A log of --entries entries (default 1,000,000, realistic bodies, written through the same
   append path in large batches), then a full `verify`. Goal: >= 500,000 entries/s.

    .venv/bin/python scripts/bench_audit.py [--reads 2000] [--entries 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from databank.audit.merkle import leaf_hash
from databank.config import Settings
from databank.crypto import generate_dev_keys
from databank.db import create_engine
from databank.domain.enums import OrgKind, Purpose, Role
from databank.domain.vocab import EthosCategory
from databank.services import audit_log, audit_verify, cases, keys, orgs, people, schema
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, IdentityIn, IntakeRecord, Point
from databank.services.runtime import Runtime, build_runtime

BATCH = 10_000


def setup(url: str, workdir: Path) -> Runtime:
    generate_dev_keys(workdir / "keys")
    engine = create_engine(url)
    schema.upgrade(engine)
    settings = Settings.from_env(
        {}, instance_path=workdir, database_url=url, keys_dir=workdir / "keys"
    )
    runtime = build_runtime(settings, engine=engine)
    with runtime.transaction() as session:
        keys.ensure_schema_keys(session)
    return runtime


def bench_reads(runtime: Runtime, reads: int) -> tuple[float, float, float, float]:
    """(reads per second, mean latency in ms, what the audit write adds to a read's latency,
    what a one-row durable write in the read's transaction adds: the floor of any such log)."""
    from datetime import date

    with runtime.transaction() as session:
        org = orgs.create_organisation(
            session, f"b{uuid.uuid4().hex[:6]}", "Bench", OrgKind.CHARITY
        )
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "bench")
        records = [
            IntakeRecord(
                IdentityIn("Alex", f"Family{i}", date(1980, 1, 1)),
                CaseIn(EthosCategory.ETHOS_1_PUBLIC_SPACE, point=Point(45.76, 4.83), notes="n"),
            )
            for i in range(100)
        ]
        case_ids = [r.case_id for r in people.intake(session, actor, Purpose.OUTREACH, records)]

    def run() -> float:
        start = time.perf_counter()
        for i in range(reads):
            case_id = case_ids[i % len(case_ids)]
            assert case_id is not None  # noqa: S101
            with runtime.transaction() as session:
                cases.read_case(session, actor, Purpose.OUTREACH, case_id)
        return time.perf_counter() - start

    with_audit = run()
    # The peer: the same reads with the append made a no-op (here only, to measure it), so the
    # difference includes everything the log costs a read: head lock, insert, head update, commit.
    original = audit_log.append
    audit_log.append = lambda *args, **kwargs: 0  # type: ignore[assignment]
    try:
        without_audit = run()
    finally:
        audit_log.append = original  # type: ignore[assignment]

    # The floor: instead of the entry, the least a log written in the read's own transaction
    # costs, one row updated under its lock (the head row, values unchanged), so the read's
    # commit becomes a durable write (on PostgreSQL, a WAL flush) as it must with any such log.
    def one_row_write(session: Session, *args: object, **kwargs: object) -> int:
        session.execute(text("UPDATE audit_heads SET size = size WHERE id = 1"))
        return 0

    audit_log.append = one_row_write  # type: ignore[assignment]
    try:
        floor = run()
    finally:
        audit_log.append = original  # type: ignore[assignment]
    with_audit = min(with_audit, run())  # a second measured run, to even out warm-up
    return (
        reads / with_audit,
        with_audit / reads * 1000,
        with_audit / without_audit - 1,
        floor / without_audit - 1,
    )


def build_log(runtime: Runtime, entries: int) -> float:
    """Append `entries` realistic access entries in batches; returns entries per second."""
    org_id, person = uuid.uuid4(), uuid.uuid4()
    actor = Actor(uuid.uuid4(), org_id, OrgKind.CHARITY, frozenset({Role.OUTREACH_WORKER}), "bench")
    start = time.perf_counter()
    written = 0
    while written < entries:
        n = min(BATCH, entries - written)
        batch = [
            audit_log.EntryIn(
                event="access.read",
                record_type="case",
                record_id=uuid.uuid4(),
                owner_org_id=org_id,
                person_id=person if i % 7 else uuid.uuid4(),
                purpose="outreach",
                decision="allow",
                rule="platform.owner_content",
                fields_released=("status", "needs", "location", "notes"),
                location_level=4,
            )
            for i in range(n)
        ]
        with runtime.transaction() as session:
            audit_log.append(session, actor, batch)
        written += n
    return entries / (time.perf_counter() - start)


def _floor_part(job: tuple[str, int, int]) -> int:
    """Fetch the entries lo..hi-1 as verify does and hash their leaves: nothing else."""
    url, lo, hi = job
    engine = create_engine(url)
    connection = engine.raw_connection()
    try:
        rows = audit_verify._rows(connection.dbapi_connection, engine.dialect.paramstyle, lo, hi)
        count = 0
        for row in rows:
            leaf_hash(row[9])
            count += 1
        return count
    finally:
        connection.close()
        engine.dispose()


def floor_rate(runtime: Runtime, size: int, workers: int) -> float:
    """The least any verifier of this log must do, with the same fetch: every entry's row read
    and its leaf hashed, split over `workers` processes; entries per second."""
    import multiprocessing

    url = runtime.engine.url.render_as_string(hide_password=False)
    step = -(-size // workers)
    jobs = [(url, lo, min(lo + step, size) - 1) for lo in range(0, size, step)]
    start = time.perf_counter()
    if workers == 1:
        counted = sum(_floor_part(job) for job in jobs)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            counted = sum(pool.map(_floor_part, jobs))
    return counted / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="databank-bench-audit-"))
    url = args.database_url or f"sqlite:///{workdir / 'audit.sqlite'}"
    runtime = setup(url, workdir)

    rate, latency_ms, audit_share, floor_share = bench_reads(runtime, args.reads)
    print(f"backend                      {runtime.engine.dialect.name}")
    print(f"case reads                   {rate:,.0f} /s, mean {latency_ms:.2f} ms each")
    print(f"audit write in a read        +{audit_share * 100:.1f} % of the read without it")
    print(f"floor: one-row write instead +{floor_share * 100:.1f} % of the read without it")
    append_rate = build_log(runtime, args.entries)
    print(f"bulk append                  {append_rate:,.0f} entries/s ({args.entries:,} entries)")
    # The peer in the same run: the same verify in one process.
    with runtime.transaction() as session:
        serial = audit_verify.verify(session, workers=1)
    with runtime.transaction() as session:
        report = audit_verify.verify(session)
    for label, measured in (("verify, 1 process", serial), ("verify (default)", report)):
        print(
            f"{label:<28} {measured.size:,} entries in {measured.seconds:.2f} s = "
            f"{measured.size / measured.seconds:,.0f} entries/s, "
            f"{measured.extra['workers']} process(es), {measured.checkpoints} checkpoints, "
            f"{'OK' if measured.ok else measured.problem}"
        )
    # The floor in the same run: fetch and leaf hash only (no tree, chain or column checks).
    for workers in sorted({1, report.extra["workers"]}):
        rate = floor_rate(runtime, report.size, workers)
        print(f"floor: fetch + leaf hash only  {rate:,.0f} entries/s, {workers} process(es)")
    verify_rate = report.size / report.seconds
    print(f"goal verify >= 500,000/s     {'MET' if verify_rate >= 500_000 else 'NOT MET'}")
    print(f"goal audit <= 20 % of read   {'MET' if audit_share <= 0.20 else 'NOT MET'}")
    runtime.dispose()
    return 0 if report.ok and serial.ok else 1


if __name__ == "__main__":
    sys.exit(main())
