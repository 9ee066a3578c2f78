"""Parallel writers on PostgreSQL: the head's row lock keeps seq gapless and the log verifiable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import AuditEntry
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.oversight import integrity
from databank.services.records import cases, people
from databank.services.runtime import Runtime
from tests.factories import intake_record
from tests.support import fresh_postgres_database, migrated_runtime, postgres_url

WRITERS, ACCESSES = 8, 500

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_url() is None, reason="row-lock concurrency is a PostgreSQL test"),
]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    base = postgres_url()
    assert base is not None
    url = fresh_postgres_database(base, "databank_concurrency")
    runtime = migrated_runtime(url, Path(tmp_path_factory.mktemp("concurrency")))
    yield runtime
    runtime.dispose()


def test_parallel_writers_leave_no_gap(runtime: Runtime) -> None:
    """8 writers x 500 accesses: 4,000 new entries, seq without gap, and the log verifies."""
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, "busy", "Busy", OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        [result] = people.intake(session, actor, Purpose.OUTREACH, [intake_record()])
    with runtime.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    assert result.case_id is not None
    case_id = result.case_id
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer() -> None:
        start.wait()
        try:
            for _ in range(ACCESSES):
                with runtime.transaction() as session:
                    cases.read_case(session, actor, Purpose.OUTREACH, case_id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with runtime.transaction() as session:
        seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        report = integrity.verify(session)
    assert before is not None
    assert len(seqs) == before + WRITERS * ACCESSES
    assert seqs == list(range(len(seqs)))
    assert report.ok, report.problem
    assert report.checkpoints >= (WRITERS * ACCESSES) // 1000
