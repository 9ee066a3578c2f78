#!/usr/bin/env python3
"""Ingest benchmark: N people with identity, case, needs and 2 encounters each, via the services.

Prints people/s, the per-person crypto floor measured in the same run (sealing the same fields with
no database), the ratio between them, and peak memory. Goal (issue 2): >= 5,000 people/s on SQLite
on a 2-core machine, within 3x of the crypto floor.

    .venv/bin/python scripts/bench_ingest.py [--people 20000] [--batch 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from databank import db_schema
from databank.config import Settings
from databank.crypto import (
    BlindIndex,
    SealingKey,
    field_context,
    generate_dev_keys,
    load_keys,
    load_linkage_secret,
    new_key,
    pad,
    wrap_subject_key,
)
from databank.db import create_engine
from databank.domain.enums import NeedSeverity, OrgKind, Purpose, Role, Sex
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.linkage import LinkageEncoder
from databank.models import Encounter, Person
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, EncounterIn, IdentityIn, IntakeRecord, NeedIn, Point
from databank.services.keys import rotation
from databank.services.records import people
from databank.services.records.people import search_key
from databank.services.runtime import build_runtime

GIVEN = ["Amélie", "Karim", "Jean-Pierre", "Fatou", "Olivier", "Chloé", "Mohamed", "Ivana", "Tom"]
FAMILY = ["Lefèvre", "Benali", "Dupont", "Diallo", "Martin", "O'Brien", "Nguyen", "Kowalski"]
NOTES = [
    "Vu près de la gare Part-Dieu, demande un duvet et un repas chaud.",
    "Met by the river; says the night shelter was full again.",
    "Douleur au pied, orientée vers l'équipe mobile santé.",
]


def make_records(n: int, seed: int) -> list[IntakeRecord]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    records = []
    for i in range(n):
        point = Point(45.70 + rng.random() * 0.12, 4.78 + rng.random() * 0.14)
        encounters = tuple(
            EncounterIn(
                occurred_at=now - timedelta(days=rng.randint(1, 300)),
                needs=(NeedIn(rng.choice(list(NeedCategory)), NeedSeverity.HIGH),),
                services_given=("meal",),
                point=Point(point.lat + 0.001, point.lon),
                notes=rng.choice(NOTES),
            )
            for _ in range(2)
        )
        records.append(
            IntakeRecord(
                identity=IdentityIn(
                    given_name=rng.choice(GIVEN),
                    family_name=f"{rng.choice(FAMILY)}-{i}",  # distinct people, no pooling
                    birth_date=date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000)),
                    sex=rng.choice(list(Sex)),
                    phone=f"+33 6 {rng.randint(10_000_000, 99_999_999)}",
                ),
                case=CaseIn(
                    living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE,
                    point=point,
                    notes=rng.choice(NOTES),
                ),
                needs=(NeedIn(NeedCategory.FOOD),),
                encounters=encounters,
            )
        )
    return records


def crypto_floor(records: list[IntakeRecord], index_root: bytes, secret: bytes) -> float:
    """Seconds to do exactly the crypto of the ingest (same fields, same keys), with no database."""
    org_id = uuid.uuid4()
    org_key = SealingKey(new_key(), 1)
    bidx = BlindIndex(index_root, "identities", "name_dob_bidx", org_id, 1, 12)
    encoder = LinkageEncoder(secret)
    start = time.perf_counter()
    for record in records:
        person_id = uuid.uuid4()
        raw = new_key()
        wrap_subject_key(org_key, raw, org_id, person_id)
        key = SealingKey(raw, 1)
        ident = record.identity
        encoder.encode(ident.given_name, ident.family_name, ident.birth_date)
        bidx.compute(search_key(ident.family_name, ident.birth_date))

        def seal(
            table: str,
            column: str,
            value: str | None,
            row_id: uuid.UUID,
            key: SealingKey = key,
            person_id: uuid.UUID = person_id,
        ) -> None:
            if value is not None:
                context = field_context(org_id, table, column, row_id, person_id)
                key.seal(pad(value.encode()), context)

        row = uuid.uuid4()
        seal("identities", "given_name_ciphertext", ident.given_name, row)
        seal("identities", "family_name_ciphertext", ident.family_name, row)
        seal("identities", "birth_date_ciphertext", ident.birth_date.isoformat(), row)
        seal("identities", "sex_ciphertext", ident.sex.value if ident.sex else None, row)
        seal("identities", "phone_ciphertext", ident.phone, row)
        assert record.case is not None  # noqa: S101 - every benchmark record has a case
        row = uuid.uuid4()
        seal(
            "cases",
            "location_ciphertext",
            record.case.point.as_text() if record.case.point else None,
            row,
        )
        seal("cases", "notes_ciphertext", record.case.notes, row)
        for encounter in record.encounters:
            row = uuid.uuid4()
            seal(
                "encounters",
                "location_ciphertext",
                encounter.point.as_text() if encounter.point else None,
                row,
            )
            seal("encounters", "notes_ciphertext", encounter.notes, row)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="databank-bench-"))
    generate_dev_keys(workdir / "keys")
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    engine = create_engine(url)
    db_schema.upgrade(engine)
    settings = Settings.from_env(
        {}, instance_path=workdir, database_url=url, keys_dir=workdir / "keys"
    )
    runtime = build_runtime(settings, engine=engine)
    with runtime.transaction() as session:
        rotation.ensure_schema_keys(session)
        org = organisations.create_organisation(
            session, f"bench-{uuid.uuid4().hex[:6]}", "Bench", OrgKind.CHARITY
        )
    actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "bench")

    records = make_records(args.people, args.seed)
    material = load_keys(workdir / "keys", {})
    floor_s = crypto_floor(records, material.index_root, load_linkage_secret(workdir / "keys", {}))

    # Time spent inside the database driver (SQLite or psycopg), measured with SQLAlchemy's
    # cursor events: the part of the ingest no Python change can remove.
    in_driver = [0.0]
    started: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_args: object) -> None:
        started.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(*_args: object) -> None:
        in_driver[0] += time.perf_counter() - started.pop()

    # The input records are test scaffolding, not part of the ingest: keep the garbage collector
    # from rescanning them on every collection (a real import streams its rows instead).
    gc.freeze()
    start = time.perf_counter()
    for i in range(0, len(records), args.batch):
        with runtime.transaction() as session:
            people.intake(session, actor, Purpose.OUTREACH, records[i : i + args.batch])
    elapsed = time.perf_counter() - start

    with runtime.transaction() as session:
        persons = session.scalar(select(func.count()).select_from(Person))
        encounters = session.scalar(select(func.count()).select_from(Encounter))
    if persons != args.people or encounters != 2 * args.people:
        raise SystemExit(f"ingest lost records: {persons} people, {encounters} encounters")
    runtime.dispose()

    rate = args.people / elapsed
    floor_rate = args.people / floor_s
    ratio = elapsed / floor_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = engine.dialect.name
    print(f"backend                     {backend}")
    print(f"people ingested             {args.people} (batches of {args.batch})")
    print(f"ingest time                 {elapsed:.2f} s")
    per_person_us = floor_s / args.people * 1e6
    print(f"ingest rate                 {rate:,.0f} people/s")
    print(f"crypto floor (no database)  {per_person_us:.1f} µs/person = {floor_rate:,.0f} people/s")
    print(f"ratio ingest / floor        {ratio:.2f}x")
    per = 1e6 / args.people
    print(f"  inside the database driver {in_driver[0] * per:.1f} µs/person")
    print(f"  crypto (the floor)         {floor_s * per:.1f} µs/person")
    print(f"  rest (Python, SQLAlchemy)  {(elapsed - in_driver[0] - floor_s) * per:.1f} µs/person")
    print(f"peak memory (max RSS)       {peak_mb:.0f} MB")
    goal_rate = rate >= 5_000
    goal_ratio = ratio <= 3.0
    print(f"goal >= 5,000 people/s      {'MET' if goal_rate else 'NOT MET'}")
    print(f"aim  ratio <= 3x floor      {'MET' if goal_ratio else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
