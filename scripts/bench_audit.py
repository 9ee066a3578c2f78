#!/usr/bin/env python3
"""Audit benchmark: the log's cost inside real case reads, and `audit verify` over a large log.

1. Case reads through the services, each in its own transaction as a web request would be, and
   the same reads as API requests: with the log, without it (appends replaced by a no-op) and
   with the floor of any log written in the read's transaction (one durable one-row write),
   interleaved in rounds in the same run (the share is the median of the rounds' paired shares,
   printed with the middle half of them, and the share of the mean, all rounds' time with the
   log against all their time without it). Goal: the audit write adds <= 20 % to the latency of
   a case read, judged on the larger of the two.
2. A log of --entries entries (default 1,000,000; --log mixed, a city's mix of users and kinds,
   or uniform, one kind only), written through the same append path, then `databank audit
   verify` with one process and with the default, each in a new process (the bulk pass in C where
   it was built), beside the Python passes alone and the floor of the Python fetch plus leaf
   hashes, in the same run. Goal: >= 500,000 entries/s.

    .venv/bin/python scripts/bench_audit.py [--reads 2000] [--entries 1000000]
        [--log mixed|uniform] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from databank import db_schema
from databank.audit import bulk_scan, scan
from databank.audit.merkle import leaf_hash
from databank.config import Settings
from databank.crypto import generate_dev_keys
from databank.db import create_engine
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, OrgKind, Purpose, Role
from databank.domain.vocab import EthosCategory
from databank.models import Organisation
from databank.services import auditlog
from databank.services.accounts import organisations, tokens
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, IdentityIn, IntakeRecord, Point
from databank.services.keys import rotation
from databank.services.records import cases, people
from databank.services.runtime import Runtime, build_runtime

BATCH = 10_000


def setup(url: str, workdir: Path) -> Runtime:
    generate_dev_keys(workdir / "keys")
    engine = create_engine(url)
    db_schema.upgrade(engine)
    settings = Settings.from_env(
        {}, instance_path=workdir, database_url=url, keys_dir=workdir / "keys"
    )
    runtime = build_runtime(settings, engine=engine)
    with runtime.transaction() as session:
        rotation.ensure_schema_keys(session)
    return runtime


@dataclass
class Caseload:
    """The bench's organisation, an outreach worker of it, and the cases it read."""

    org: Organisation
    actor: Actor
    case_ids: list[uuid.UUID]


def caseload(runtime: Runtime) -> Caseload:
    from datetime import date

    with runtime.transaction() as session:
        org = organisations.create_organisation(
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
        results = people.intake(session, actor, Purpose.OUTREACH, records)
    return Caseload(org, actor, [r.case_id for r in results if r.case_id is not None])


@contextmanager
def appends_as(replacement: Any) -> Iterator[None]:
    """Here only, to measure it: every append of the log replaced (a no-op: the peer without
    the log; a one-row write: the floor of any log written in the read's transaction)."""
    original = auditlog.append
    auditlog.append = replacement
    try:
        yield
    finally:
        auditlog.append = original


def _no_append(*args: object, **kwargs: object) -> int:
    return 0


def _one_row_write(session: Session, *args: object, **kwargs: object) -> int:
    # The head row updated under its lock, values unchanged: the read's commit becomes a durable
    # write (on PostgreSQL, a WAL flush), as it must with any log written in its transaction.
    session.execute(text("UPDATE audit_heads SET size = size WHERE id = 1"))
    return 0


# Reads in each block of a round (`compare`). Blocks of 100 reads (a third of a second) gave
# round shares from -10 % to +93 % in one run: this machine's speed swings within a second. Blocks
# of 10 keep the pairs 30 ms apart (middle half of the rounds' shares about 10 points wide), and
# still carry what a read with the log leaves to the next one (measured: the read after one with
# the log is slower) into their own block, but for the first read of each block.
BLOCK = 10


@dataclass(frozen=True)
class Shares:
    """A read's latency with the log, and what the log and the floor add to it."""

    seconds: float  # one read with the log, on average
    audit: float  # the log's share of a read without it: the median over the rounds
    audit_quartiles: tuple[float, float]  # the middle half of the rounds' shares
    # The same share on the mean: all the rounds' time with the log against all their time
    # without it. The median leaves out rare slow reads (a garbage collection, a checkpoint that
    # slows the disk for the request beside it); the mean pays for them.
    audit_mean: float
    floor: float  # the floor's share, as the median
    rounds: int

    @property
    def audit_worst(self) -> float:
        """The share the goal is judged on: the larger of the median and the mean."""
        return max(self.audit, self.audit_mean)

    def spread(self) -> str:
        low, high = self.audit_quartiles
        return f"middle half of {self.rounds} rounds {low * 100:+.1f} to {high * 100:+.1f} %"


def compare(run: Callable[[int], float], reads: int) -> Shares:
    """The log's and the floor's share of a read without the log, measured in rounds: each round
    runs a block of reads with the log, one without it and one with the floor, back to back, and
    the shares are the medians over the rounds of each block against its round's block without
    the log. Drift in this machine's speed (tens of per cent within a second: other processes,
    the page cache) then hits both sides of each pair alike, which two long runs a minute apart
    did not. `run(n)` does n reads and returns the seconds they took; each way does 2 * reads."""
    rounds = max(4, 2 * reads // BLOCK)
    block = max(1, 2 * reads // rounds)
    with_audit, without_audit, audit, floor = [], [], [], []
    for _ in range(rounds):
        seconds = run(block)
        with appends_as(_no_append):
            without = run(block)
        with appends_as(_one_row_write):
            floor.append(run(block) / without - 1)
        with_audit.append(seconds)
        without_audit.append(without)
        audit.append(seconds / without - 1)
    low, _median, high = statistics.quantiles(audit, n=4)
    return Shares(
        seconds=sum(with_audit) / (block * rounds),
        audit=statistics.median(audit),
        audit_quartiles=(low, high),
        audit_mean=sum(with_audit) / sum(without_audit) - 1,
        floor=statistics.median(floor),
        rounds=rounds,
    )


def bench_reads(runtime: Runtime, load: Caseload, reads: int) -> Shares:
    """Case reads through the service, each in its own transaction as a web request's."""

    def run(reads: int) -> float:
        start = time.perf_counter()
        for i in range(reads):
            with runtime.transaction() as session:
                cases.read_case(
                    session, load.actor, Purpose.OUTREACH, load.case_ids[i % len(load.case_ids)]
                )
        return time.perf_counter() - start

    return compare(run, reads)


def bench_requests(runtime: Runtime, load: Caseload, workdir: Path, reads: int) -> Shares:
    """The same reads as API requests (GET /api/v1/cases/<id> with a bearer token, the app in
    this process, no network): what a client waits for, less the network."""
    from databank import create_app

    with runtime.transaction() as session:
        org = session.merge(load.org)
        user = organisations.create_user(
            session,
            org,
            f"bench{uuid.uuid4().hex[:6]}",
            "Bench",
            "tango ravioli hammock quartz",
            [Role.OUTREACH_WORKER],
        )
        secret = tokens.issue(
            session,
            Actor(user.id, org.id, org.kind, frozenset({Role.OUTREACH_WORKER})),
            user.id,
            "bench",
            ("cases:read",),
            30,
        ).secret
    app = create_app(
        Settings.from_env(
            {},
            instance_path=workdir,
            database_url=runtime.engine.url.render_as_string(hide_password=False),
            keys_dir=workdir / "keys",
        )
    )
    app.extensions["databank"] = runtime
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "X-Databank-Purpose": "outreach"}

    def run(reads: int) -> float:
        start = time.perf_counter()
        for i in range(reads):
            response = client.get(
                f"/api/v1/cases/{load.case_ids[i % len(load.case_ids)]}", headers=headers
            )
            if response.status_code != 200:
                raise RuntimeError(f"case read answered {response.status_code}")
        return time.perf_counter() - start

    return compare(run, reads)


def build_log(runtime: Runtime, entries: int, kind: str = "mixed") -> float:
    """Append `entries` access entries through the same append path, 10,000 per transaction;
    returns entries per second.

    "mixed" is a log as a city's would be: 60 users of 5 organisations (and unsigned-in
    attempts), each request logging 1 to 4 entries of its kind (case, identity and timeline reads
    by owners and partners, refusals, searches, sign-ins) about 5,000 people, seeded so every run
    writes the same log. "uniform" is one user reading one kind of record over and over: the
    easiest log to verify, kept to compare with earlier figures.
    """
    rnd = random.Random(20261122)
    orgs = [uuid.UUID(int=rnd.getrandbits(128)) for _ in range(5)]
    roles = [Role.OUTREACH_WORKER, Role.HOUSING_OFFICER, Role.ORG_ADMIN, Role.AUDITOR]
    actors: list[Actor | None] = [
        Actor(
            uuid.UUID(int=rnd.getrandbits(128)),
            rnd.choice(orgs),
            OrgKind.CHARITY,
            frozenset({rnd.choice(roles)}),
            rnd.choice(["web", "web", "api"]),
        )
        for _ in range(60)
    ]
    actors.append(None)
    people = [uuid.UUID(int=rnd.getrandbits(128)) for _ in range(5000)]
    start = time.perf_counter()
    written = 0
    while written < entries:
        n = min(BATCH, entries - written)
        with runtime.transaction() as session:
            if kind == "uniform":
                auditlog.append(session, actors[0], _uniform(orgs[0], people[0], n))
            else:
                done = 0
                while done < n:
                    actor = rnd.choice(actors)
                    request = _request(rnd, actor, orgs, people, min(rnd.randint(1, 4), n - done))
                    auditlog.append(session, actor, request)
                    done += len(request)
        written += n
    return entries / (time.perf_counter() - start)


def _uniform(org: uuid.UUID, person: uuid.UUID, n: int) -> list[auditlog.EntryIn]:
    return [
        auditlog.EntryIn(
            event=AuditEvent.ACCESS_READ,
            record_type=RecordType.CASE,
            record_id=uuid.uuid4(),
            owner_org_id=org,
            person_id=person if i % 7 else uuid.uuid4(),
            purpose="outreach",
            decision=Decision.ALLOW,
            rule="platform.owner_content",
            fields_released=("status", "needs", "location", "notes"),
            location_level=4,
        )
        for i in range(n)
    ]


_PURPOSES = [
    p.value for p in (Purpose.OUTREACH, Purpose.CASE_MANAGEMENT, Purpose.HOUSING_ALLOCATION)
]
_KINDS: list[dict[str, Any]] = [
    # An owner's case read (its location to the district), a partner's (needs only), the
    # owner's identity read, a timeline (its case's), a refusal, a search, a sign-in.
    {
        "event": AuditEvent.ACCESS_READ,
        "record_type": RecordType.CASE,
        "decision": Decision.ALLOW,
        "rule": "platform.owner_content",
        "fields_released": ("status", "needs", "location", "notes"),
        "location_level": 4,
    },
    {
        "event": AuditEvent.ACCESS_READ,
        "record_type": RecordType.CASE,
        "decision": Decision.PARTIAL,
        "rule": "org.partner_needs",
        "fields_released": ("status", "needs"),
        "fields_withheld": ("location", "notes"),
    },
    {
        "event": AuditEvent.ACCESS_READ,
        "record_type": RecordType.IDENTITY,
        "decision": Decision.ALLOW,
        "rule": "platform.owner_identity",
        "fields_released": ("given_name", "family_name", "birth_date"),
    },
    {
        "event": AuditEvent.ACCESS_READ,
        "record_type": RecordType.CASE,
        "decision": Decision.ALLOW,
        "rule": "platform.owner_content",
        "fields_released": ("at", "kind", "needs", "status", "team", "location_level"),
    },
    {
        "event": AuditEvent.ACCESS_READ,
        "record_type": RecordType.CASE,
        "decision": Decision.DENY,
        "rule": "default.deny",
    },
    {"event": AuditEvent.ACCESS_SEARCH, "decision": Decision.ALLOW},
    {"event": AuditEvent.LOGIN, "decision": Decision.ALLOW},
]


def _request(
    rnd: random.Random,
    actor: Actor | None,
    orgs: list[uuid.UUID],
    people: list[uuid.UUID],
    n: int,
) -> list[auditlog.EntryIn]:
    """One request's entries: of one kind, by one actor, about one person or none."""
    kind = rnd.choice(_KINDS if actor is not None else _KINDS[-1:])
    person = rnd.choice(people) if "record_type" in kind else None
    owner = (
        actor.org_id
        if actor is not None and kind["decision"] is Decision.ALLOW and rnd.random() < 0.8
        else rnd.choice(orgs)
    )
    return [
        auditlog.EntryIn(
            record_id=uuid.uuid4() if person else None,
            owner_org_id=owner if person else None,
            person_id=person,
            purpose=None if kind["event"] is AuditEvent.LOGIN else rnd.choice(_PURPOSES),
            result_count=rnd.randint(0, 40) if kind["event"] is AuditEvent.ACCESS_SEARCH else None,
            area=f"u05k{rnd.choice('qrstuv')}" if kind.get("location_level") else None,
            **kind,
        )
        for _ in range(n)
    ]


def _floor_part(job: tuple[str, int, int]) -> int:
    """Fetch the entries lo..hi-1 as verify's bulk pass does and hash their leaves: nothing else."""
    url, lo, hi = job
    engine = create_engine(url)
    connection = engine.raw_connection()
    dialect = engine.dialect.name
    try:
        batches = scan._batches(
            connection.dbapi_connection,
            dialect,
            lo,
            hi,
            bulk_scan.FAST_BATCH,
            scan._FAST_COLUMNS[dialect],
        )
        count = 0
        for batch in batches:
            for row in batch:
                leaf_hash(row[1])
            count += len(batch)
        return count
    finally:
        connection.close()
        engine.dispose()


def floor_rate(url: str, size: int, workers: int) -> float:
    """The least any verifier of this log must do, with the same fetch: every entry's row read
    and its leaf hashed, split over `workers` processes; entries per second."""
    import multiprocessing

    step = -(-size // workers)
    jobs = [(url, lo, min(lo + step, size) - 1) for lo in range(0, size, step)]
    start = time.perf_counter()
    if workers == 1:
        counted = sum(_floor_part(job) for job in jobs)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            counted = sum(pool.map(_floor_part, jobs))
    return counted / (time.perf_counter() - start)


@dataclass
class Verified:
    """What one `databank audit verify` printed."""

    size: int
    checkpoints: int
    rate: float
    workers: int
    verdict: str
    native: bool  # the bulk pass ran in C


_VERIFIED = re.compile(
    r"(\d+) entries, (\d+) signed checkpoints verified, unsigned tail \d+ "
    r"\(([\d,]+) entries/s, (\d+) process\(es\)(, bulk pass in C)?"
)


def verify_command(url: str, workdir: Path, workers: int | None, native: bool = True) -> Verified:
    """`databank audit verify [--workers N]` against the bench's database, in a new process;
    with `native` False, as DATABANK_VERIFY_NATIVE=0 runs it (the Python passes only)."""
    environ = {
        **os.environ,
        "DATABANK_DATABASE_URL": url,
        "DATABANK_KEYS_DIR": str(workdir / "keys"),
        "DATABANK_INSTANCE_PATH": str(workdir),
        "DATABANK_VERIFY_NATIVE": "1" if native else "0",
    }
    command = [sys.executable, "-c", "from databank.console import main; main()", "audit"]
    command += ["verify", *(["--workers", str(workers)] if workers else [])]
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    found = _VERIFIED.search(done.stdout)
    if found is None:
        raise RuntimeError(f"audit verify printed no figures: {done.stdout}{done.stderr}")
    size, checkpoints, rate, used, in_c = found.groups()
    verdict = "OK" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")
    return Verified(
        int(size), int(checkpoints), float(rate.replace(",", "")), int(used), verdict, bool(in_c)
    )


def floor_command(url: str, size: int, workers: int) -> float:
    """`floor_rate` in a new process, as verify is run: entries per second."""
    command = [sys.executable, __file__, "--floor-of", url, "--floor-size", str(size)]
    command += ["--floor-workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--log",
        choices=["mixed", "uniform"],
        default="mixed",
        help="the log verify reads: a city's mix of users and kinds (default), or one kind only",
    )
    # Internal: the floor alone, in this new process (`floor_command`).
    parser.add_argument("--floor-of", default="", help=argparse.SUPPRESS)
    parser.add_argument("--floor-size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--floor-workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_of:
        print(floor_rate(args.floor_of, args.floor_size, args.floor_workers))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="databank-bench-audit-"))
    url = args.database_url or f"sqlite:///{workdir / 'audit.sqlite'}"
    runtime = setup(url, workdir)

    load = caseload(runtime)
    reads = bench_reads(runtime, load, args.reads)
    print(f"backend                      {runtime.engine.dialect.name}")
    print(
        f"case reads (service)         {1 / reads.seconds:,.0f} /s, "
        f"mean {reads.seconds * 1000:.2f} ms each"
    )
    print(
        f"  audit write in a read      {reads.audit * 100:+.1f} % of the read without it "
        f"({reads.spread()})"
    )
    print(f"    on the mean              {reads.audit_mean * 100:+.1f} % (slow reads included)")
    print(f"  floor: one-row write       {reads.floor * 100:+.1f} % of the read without it")
    requests = bench_requests(runtime, load, workdir, args.reads)
    print(
        f"case reads (API request)     {1 / requests.seconds:,.0f} /s, "
        f"mean {requests.seconds * 1000:.2f} ms each"
    )
    print(
        f"  audit write in a request   {requests.audit * 100:+.1f} % of the request without it "
        f"({requests.spread()})"
    )
    print(f"    on the mean              {requests.audit_mean * 100:+.1f} % (slow reads included)")
    print(f"  floor: one-row write       {requests.floor * 100:+.1f} % of the request without it")
    append_rate = build_log(runtime, args.entries, args.log)
    print(
        f"bulk append                  {append_rate:,.0f} entries/s "
        f"({args.entries:,} entries, {args.log} log)"
    )
    runtime.dispose()  # everything is committed: verify and its floor read the log afresh
    # `audit verify` as an operator runs it, each run in a new process: the bench's own process,
    # after writing a million entries, verified up to a third slower than a fresh one (measured).
    # The peer in the same run: the same command in one process.
    serial = verify_command(url, workdir, 1)
    report = verify_command(url, workdir, None)
    # The peer in the same run: the Python passes alone (DATABANK_VERIFY_NATIVE=0), as verify
    # runs where the C pass could not be built.
    python = verify_command(url, workdir, None, native=False)
    for label, measured in (
        ("verify, 1 process", serial),
        ("verify (default)", report),
        ("verify, Python passes only", python),
    ):
        print(
            f"{label:<28} {measured.size:,} entries = {measured.rate:,.0f} entries/s, "
            f"{measured.workers} process(es), {measured.checkpoints} checkpoints, "
            f"bulk pass in {'C' if measured.native else 'Python'}, {measured.verdict}"
        )
    # The floor in the same run, also in new processes: the Python fetch and leaf hash only (no
    # tree, chain or column checks), the least the Python passes can do.
    for workers in sorted({1, report.workers}):
        rate = floor_command(url, report.size, workers)
        print(
            f"floor: fetch + leaf hash only  {rate:,.0f} entries/s, {workers} process(es), "
            "in Python"
        )
    verify_rate = report.rate
    print(
        f"goal verify >= 500,000/s     {'MET' if verify_rate >= 500_000 else 'NOT MET'} "
        f"({args.log} log)"
    )
    for label, shares in (("service read", reads), ("API request", requests)):
        verdict = "MET" if shares.audit_worst <= 0.20 else "NOT MET"
        print(
            f"goal audit <= 20 %, {label:<12} {verdict} "
            f"({shares.audit_worst * 100:+.1f} %, the larger of the median and the mean)"
        )
    return 0 if report.verdict == serial.verdict == python.verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
