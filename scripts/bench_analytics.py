#!/usr/bin/env python3
"""Statistics benchmark (issue 18): a 3-dimension table with disclosure control, through the
service's own path, beside a plain pandas group-by and a DuckDB query of the same counts on the
same frame, measured in the same run, on SQLite and on PostgreSQL.

A fresh database (migrated) gets synthetic facts for --cases cases written straight into
`stat_facts`: five organisations of four kinds (one whose policy does not let it contribute),
the deployment's areas (skewed), skewed needs, living situations and outcomes, 1-6 months and
1-3 needs a case, about 1.15 records a person (some people held by two organisations), tokens of
16 random bytes. Then, each the median of --repeat runs:

    cold load      the facts frame read from the database (`snapshot.facts`, cache emptied)
    table          area x need x period over 12 months with disclosure control: the facts of the
                   contributing organisations in the period (`queries._frame`), `tables.count`,
                   `tables.release_published` (`queries._published`, the service's own path)
    pandas         df.groupby([area, need, period], observed=True)["person"].nunique() on the
                   frame the table counts
    DuckDB         SELECT area, need, period, COUNT(DISTINCT person) ... GROUP BY on that frame
    ad-hoc (DP)    the same table through the differentially private path (`_frame`,
                   `tables.release_adhoc`: capping, noise, the same presentation rules)

Goal (issue 18): the table with disclosure control <= 500 ms and within 3x of the plain pandas
group-by. Peak memory is the process's maximum RSS; with --database both (the default) each
database runs in a process of its own, so each has its own peak.

    .venv/bin/python scripts/bench_analytics.py [--cases 1000000] [--repeat 5]
        [--database sqlite|postgresql|both] [--postgres-url URL]

The exit code is 0 whether the goal is met or not (the verdict is printed); 1 when a run fails.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from databank.analytics import facts as pure  # noqa: E402
from databank.analytics import tables  # noqa: E402
from databank.domain.enums import OrgKind  # noqa: E402
from databank.models import StatFact, StatRefresh  # noqa: E402
from databank.services.accounts import organisations  # noqa: E402
from databank.services.runtime import Runtime  # noqa: E402
from databank.services.statistics import TableRequest, queries, snapshot  # noqa: E402
from databank.services.statistics.labels import categories  # noqa: E402
from tests.support import migrated_runtime  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/databank_bench_analytics"
GOAL_MS = 500.0
GOAL_RATIO = 3.0
DIMENSIONS = ("area", "need", "period")
CHUNK = 50_000  # cases generated and written at a time

# (slug, kind, share of the cases): the demo's organisations; emsp's policy does not permit
# `contribute`, so its facts are written but never counted.
ORGS = (
    ("metropole", OrgKind.COUNCIL, 0.30),
    ("habitat-rhone", OrgKind.HOUSING_PROVIDER, 0.15),
    ("entraide", OrgKind.CHARITY, 0.25),
    ("tables-du-coeur", OrgKind.CHARITY, 0.20),
    ("emsp", OrgKind.HEALTH, 0.10),
)
SEX = {"male": 0.62, "female": 0.33, "other": 0.02, "unknown": 0.03}
AGE = {"under_18": 0.04, "18_24": 0.16, "25_34": 0.24, "35_44": 0.22, "45_54": 0.17,
       "55_64": 0.10, "65_plus": 0.04, "unknown": 0.03}  # fmt: skip
LIVING = {"roofless": 0.35, "houseless": 0.30, "insecure": 0.15, "inadequate": 0.07,
          "housed": 0.05, "institution": 0.03, "unknown": 0.05}  # fmt: skip
HUD = {"roofless": "homeless", "houseless": "temporary", "insecure": "temporary",
       "inadequate": "permanent", "housed": "permanent", "institution": "institutional",
       "unknown": "unknown"}  # fmt: skip
NEEDS = {"shelter": 0.22, "food": 0.18, "health": 0.10, "mental_health": 0.08, "addiction": 0.07,
         "benefits_and_papers": 0.10, "employment": 0.04, "family": 0.04, "legal": 0.04,
         "hygiene": 0.05, "clothing": 0.03, "domestic_abuse": 0.02, "social_contact": 0.02,
         "education_training": 0.01}  # fmt: skip
STATUS = {"open": 0.50, "in_progress": 0.25, "met": 0.12, "not_met": 0.05, "withdrawn": 0.08}
OUTCOME = {"none": 0.86, "need_met": 0.07, "referral_accepted": 0.045, "referral_declined": 0.025}
CLOSED = {"closed_housed": 0.4, "closed_sheltered": 0.35, "closed_other": 0.25}
MONTHS_A_CASE = (0.30, 0.22, 0.16, 0.13, 0.10, 0.09)  # 1 to 6 months
NEEDS_A_CASE = (0.45, 0.35, 0.20)  # 1 to 3 needs
SPAN = 24  # the cases start in the 24 months before this one


def _pick(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    p = np.array(list(weights.values()))
    return rng.choice(len(weights), size=size, p=p / p.sum())


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


class Population:
    """The cases' people: which person each case is (about 1.15 cases a person, a second case
    always at another organisation), their sex and age band, their tokens."""

    def __init__(self, cases: int, rng: np.random.Generator) -> None:
        self.people = max(1, round(cases / 1.15))
        first = np.arange(min(cases, self.people))
        again = rng.integers(0, self.people, size=max(0, cases - self.people))
        self.person = np.concatenate([first, again])
        org_p = np.array([share for _slug, _kind, share in ORGS])
        first_org = rng.choice(len(ORGS), size=self.people, p=org_p / org_p.sum())
        other = (first_org[again] + rng.integers(1, len(ORGS), size=again.size)) % len(ORGS)
        self.org = np.concatenate([first_org[first], other])
        self.sex = _pick(rng, SEX, self.people)
        self.age = _pick(rng, AGE, self.people)
        self.tokens = rng.bytes(16 * self.people)

    def token(self, person: int) -> bytes:
        return self.tokens[16 * person : 16 * person + 16]


def fact_chunks(
    cases: int, areas: tuple[str, ...], today: date, seed: int = 18
) -> Iterator[dict[str, np.ndarray | list[Any]]]:
    """The facts of every case, a chunk of cases at a time, as columns (codes as strings)."""
    rng = np.random.default_rng(seed)
    population = Population(cases, rng)
    area_p = 1.0 / np.arange(1, len(areas) + 1) ** 0.9  # a few busy areas, a long tail
    area_p /= area_p.sum()
    need_codes = np.array(list(NEEDS))
    need_logp = np.log(np.array(list(NEEDS.values())))
    this_month = _month_index(today)
    for start in range(0, cases, CHUNK):
        n = min(CHUNK, cases - start)
        person = population.person[start : start + n]
        subject = rng.bytes(16 * n)
        org = population.org[start : start + n]
        area = rng.choice(len(areas), size=n, p=area_p)
        living = _pick(rng, LIVING, n)
        first = this_month - rng.integers(0, SPAN, size=n)
        length = np.minimum(rng.choice(6, size=n, p=MONTHS_A_CASE) + 1, this_month - first + 1)
        k = rng.choice(3, size=n, p=NEEDS_A_CASE) + 1
        # k distinct needs a case, weighted (the Gumbel top-k trick).
        order = np.argsort(-(need_logp + rng.gumbel(size=(n, len(NEEDS)))), axis=1)[:, :3]
        # One row per case month, then per need held that month.
        case_of_month = np.repeat(np.arange(n), length)
        within = np.arange(case_of_month.size) - np.repeat(np.cumsum(length) - length, length)
        month = first[case_of_month] + within
        last = within == length[case_of_month] - 1
        outcome = np.array(list(OUTCOME))[_pick(rng, OUTCOME, month.size)]
        closing = last & (month < this_month) & (rng.random(month.size) < 0.6)
        outcome[closing] = np.array(list(CLOSED))[_pick(rng, CLOSED, int(closing.sum()))]
        waits = rng.geometric(0.08, size=month.size) - 1
        month_row = np.repeat(np.arange(month.size), k[case_of_month])
        case_row = case_of_month[month_row]
        slot = np.arange(month_row.size) - np.repeat(
            np.cumsum(k[case_of_month]) - k[case_of_month], k[case_of_month]
        )
        need = need_codes[order[case_row, slot]]
        status = np.array(list(STATUS))[_pick(rng, STATUS, month_row.size)]
        status[within[month_row] == 0] = "open"
        row_outcome = outcome[month_row]
        referral = np.char.startswith(row_outcome.astype(str), "referral")
        days = waits[month_row]
        band = np.array([pure.wait_band(int(d)) for d in range(int(days.max()) + 1)])[days]
        yield {
            "person": person[case_row],
            "org": org[case_row],
            "month": month[month_row],
            "area": np.array(areas)[area[case_row]],
            "age_band": np.array(list(AGE))[population.age[person[case_row]]],
            "sex": np.array(list(SEX))[population.sex[person[case_row]]],
            "need": need,
            "need_status": status,
            "living": np.array(list(LIVING))[living[case_row]],
            "hud_living": np.array([HUD[c] for c in LIVING])[living[case_row]],
            "outcome": row_outcome,
            "wait_band": np.where(referral, band, "none"),
            "wait_days": [int(d) if r else None for d, r in zip(days, referral, strict=True)],
            "subject_tokens": [subject[16 * c : 16 * c + 16] for c in case_row.tolist()],
            "person_tokens": [population.token(p) for p in person[case_row].tolist()],
        }


COLUMNS = ("subject_token", "person_token", "org_id", "org_kind", "month", "area", "age_band",
           "sex", "need", "need_status", "living", "hud_living", "outcome", "wait_band",
           "wait_days")  # fmt: skip
INSERT = f"INSERT INTO stat_facts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608 - fixed names


def write_facts(runtime: Runtime, cases: int, today: date) -> tuple[int, float]:
    """Synthetic facts for `cases` cases straight into `stat_facts`; (rows, seconds)."""
    with runtime.transaction() as session:
        orgs = [
            organisations.create_organisation(session, slug, slug.title(), kind)
            for slug, kind, _share in ORGS
        ]
        org_ids, kinds = [o.id for o in orgs], [o.kind.value for o in orgs]
    engine = runtime.engine
    dialect = engine.dialect
    table = StatFact.__table__
    bind = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in
            ("org_id", "month")}  # fmt: skip
    org_value = [bind["org_id"](i) if bind["org_id"] else i for i in org_ids]
    month_value: dict[int, object] = {}
    areas = categories("area")
    rows = 0
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for chunk in fact_chunks(cases, areas, today):
            for m in np.unique(chunk["month"]):
                if int(m) not in month_value:
                    day = _month(int(m))
                    month_value[int(m)] = bind["month"](day) if bind["month"] else day
            columns = [
                chunk["subject_tokens"],
                chunk["person_tokens"],
                [org_value[o] for o in chunk["org"]],
                [kinds[o] for o in chunk["org"]],
                [month_value[int(m)] for m in chunk["month"]],
                *(chunk[name].tolist() for name in COLUMNS[5:14]),  # type: ignore[union-attr]
                chunk["wait_days"],
            ]
            values = list(zip(*columns, strict=True))
            rows += len(values)
            if dialect.name == "postgresql":
                with cursor.copy(f"COPY stat_facts ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:  # the engine's SQLite connections are in autocommit mode: one transaction
                cursor.execute("BEGIN")
                cursor.executemany(INSERT, values)
            raw.commit()
    finally:
        raw.close()
    with runtime.transaction() as session:
        session.add(StatRefresh(subjects=cases))  # the change mark a cached frame checks
    return rows, time.perf_counter() - started


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _check_same_counts(counts: tables.Counts, pandas_cells: Any, duck_cells: list[Any]) -> None:
    """The three ways count the same people (else the comparison would mean nothing)."""
    from_pandas = {((a, n), p): int(v) for (a, n, p), v in pandas_cells.items()}
    from_duck = {((a, n), p): int(v) for a, n, p, v in duck_cells}
    nonzero = {k: v for k, v in counts.cells.items() if v}
    if not (nonzero == from_pandas == from_duck):
        raise SystemExit("the table, pandas and DuckDB do not count the same people")


def bench(url: str, cases: int, repeat: int, workdir: Path) -> None:
    import duckdb

    runtime = migrated_runtime(url, workdir / "instance")
    today = datetime.now(UTC).date()
    rows, seconds = write_facts(runtime, cases, today)
    dialect = runtime.engine.dialect.name
    period = queries.last_months(12, today)
    request = TableRequest(DIMENSIONS, {}, period)
    print(f"database                      {dialect} ({cases:,} cases)")
    print(f"fact rows written             {rows:,} in {seconds:.1f} s "
          f"({rows / seconds:,.0f} rows/s, generating them included)")  # fmt: skip
    with runtime.transaction() as session:

        def cold() -> None:
            snapshot.forget()
            snapshot.facts(session)

        cold_ms = median_ms(cold, repeat)
        changed = [bytes(t) for t in session.scalars(
            select(StatFact.subject_token).distinct().limit(10 * repeat))]  # fmt: skip
        changes = iter(range(0, len(changed), 10))

        def taken_in() -> None:
            # What a write leaves (services/statistics/facts.py): ten records' facts rebuilt
            # and a mark naming them; the next query's frame takes them in.
            start = next(changes)
            tokens = changed[start : start + 10]
            session.execute(
                update(StatFact).where(StatFact.subject_token.in_(tokens)).values(need_status="met")
            )
            session.add(StatRefresh(subjects=len(tokens), subject_tokens=b"".join(tokens)))
            session.flush()
            started = time.perf_counter()
            snapshot.facts(session)
            taken.append((time.perf_counter() - started) * 1000)

        taken: list[float] = []
        for _ in range(repeat):
            taken_in()
        change_ms = statistics.median(taken)
        frame = snapshot.facts(session).frame
        counted = queries._frame(session, request, period)
        print(f"facts frame                   {len(frame):,} rows, "
              f"{frame.memory_usage(deep=True).sum() / 2**20:,.0f} MB; the table counts "
              f"{len(counted):,} of them")  # fmt: skip

        def table() -> object:
            return queries._published(session, "bench", request, period)

        keys = list(DIMENSIONS)

        def plain() -> Any:
            return counted.groupby(keys, observed=True)["person"].nunique()

        duck = duckdb.connect()
        duck.register("facts", counted)
        sql = (
            "SELECT area, need, period, COUNT(DISTINCT person) FROM facts "
            "GROUP BY area, need, period"
        )

        def in_duckdb() -> list[Any]:
            return duck.execute(sql).fetchall()

        def adhoc() -> object:
            query, cats = queries._query(request), queries._categories(request, period)
            return tables.release_adhoc(queries._frame(session, request, period), query, cats)

        truth = tables.count(counted, queries._query(request), queries._categories(request, period))
        _check_same_counts(truth, plain(), in_duckdb())
        table_ms = median_ms(table, repeat)
        pandas_ms = median_ms(plain, repeat)
        duck_ms = median_ms(in_duckdb, repeat)
        adhoc_ms = median_ms(adhoc, repeat)
        session.rollback()
    runtime.dispose()
    cells = len(truth.rows) * len(truth.columns)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cold load of the facts        {cold_ms:8.1f} ms")
    print(f"a change of 10 records        {change_ms:8.1f} ms  (taken into the cached frame; "
          "before, a cold load)")  # fmt: skip
    print(f"table with disclosure control {table_ms:8.1f} ms  ({len(truth.rows)} rows x "
          f"{len(truth.columns)} columns = {cells:,} cells; median of {repeat})")  # fmt: skip
    print(f"plain pandas group-by         {pandas_ms:8.1f} ms")
    print(f"DuckDB COUNT(DISTINCT)        {duck_ms:8.1f} ms")
    print(f"ad-hoc table (DP path)        {adhoc_ms:8.1f} ms")
    print(f"ratio table / pandas          {table_ms / pandas_ms:8.2f}x")
    print(f"ratio table / DuckDB          {table_ms / duck_ms:8.2f}x")
    print(f"peak memory (max RSS)         {peak_mb:8.0f} MB")
    met_ms, met_ratio = table_ms <= GOAL_MS, table_ms / pandas_ms <= GOAL_RATIO
    print(f"goal table <= {GOAL_MS:.0f} ms           {'MET' if met_ms else 'NOT MET'}")
    print(f"goal table <= {GOAL_RATIO:.0f}x pandas        {'MET' if met_ratio else 'NOT MET'}")


def fresh_postgres(url: str, create: bool = True) -> None:
    """Drop the bench's PostgreSQL database and (unless `create` is false) make it anew."""
    from sqlalchemy import create_engine, make_url, text

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        if create:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args()
    if args.cases < 1 or args.repeat < 1:
        parser.error("--cases and --repeat must be at least 1")
    if args.database == "both":  # each in a process of its own: its own peak memory
        failed = 0
        for name in ("sqlite", "postgresql"):
            sizes = ["--cases", str(args.cases), "--repeat", str(args.repeat)]
            command = [sys.executable, __file__, *sizes, "--database", name]
            command += ["--postgres-url", args.postgres_url]
            failed |= subprocess.run(command, check=False).returncode
            sys.stdout.flush()
        return 1 if failed else 0
    workdir = Path(tempfile.mkdtemp(prefix="bench_analytics_"))
    if args.database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite'}"
    else:
        url = args.postgres_url
        fresh_postgres(url)
    try:
        bench(url, args.cases, args.repeat, workdir)
    finally:  # a million cases' facts take about a gigabyte: not left behind
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database == "postgresql":
            fresh_postgres(url, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
