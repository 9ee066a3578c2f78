"""`audit verify` with several processes: the same answer as one process, on a committed log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from databank.domain.enums import OrgKind, Role
from databank.models import AuditCheckpoint, AuditEntry, AuditHead
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.oversight import integrity
from databank.services.runtime import Runtime
from tests.support import register_and_read, scratch_runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_verify", tmp_path)
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, "charity", "Charity", OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
        register_and_read(session, actor, 12, sign=True)
    yield runtime
    runtime.dispose()


def _both(runtime: Runtime) -> tuple[integrity.VerifyReport, integrity.VerifyReport]:
    with runtime.transaction() as session:
        serial = integrity.verify(session, workers=1)
    with runtime.transaction() as session:
        parallel = integrity.verify(session, workers=2, chunk=4)
    return serial, parallel


def _tamper(runtime: Runtime, statement: object) -> None:
    with runtime.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(statement)  # type: ignore[call-overload]


def test_parallel_verify_agrees_on_an_intact_log(runtime: Runtime) -> None:
    serial, parallel = _both(runtime)
    assert serial.ok, serial.problem
    assert parallel.ok, parallel.problem
    assert parallel.extra["workers"] == 2
    assert (parallel.size, parallel.checkpoints) == (serial.size, serial.checkpoints)
    assert serial.size >= 24
    assert serial.checkpoints >= 12  # one signed after every read, most inside a chunk


def test_a_rewritten_tail_fails_a_checkpoint_inside_a_chunk(runtime: Runtime) -> None:
    """Rewriting the last entries and re-chaining them still fails the signed root: the root at
    a checkpoint inside a chunk is computed from the chunks before it and part of this one."""
    with runtime.transaction() as session:
        checkpoints = sorted(session.scalars(select(AuditCheckpoint.size)).all(), reverse=True)
        inside = next(size for size in checkpoints if size % 4)
        row = session.get_one(AuditEntry, inside - 1)
        forged = row.body.replace(b'"salt":"', b'"salt":"0')
    _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == inside - 1).values(body=forged))
    _tamper(
        runtime,
        update(AuditHead).values(size=None, frontier=b"", last_leaf=b""),
    )
    serial, parallel = _both(runtime)
    assert serial.problem is not None
    assert parallel.problem == serial.problem


@pytest.mark.parametrize("seq", [0, 3, 4, 9, 16])
def test_parallel_verify_names_the_same_altered_entry(runtime: Runtime, seq: int) -> None:
    with runtime.transaction() as session:
        body = session.get_one(AuditEntry, seq).body
    _tamper(
        runtime,
        update(AuditEntry)
        .where(AuditEntry.seq == seq)
        .values(body=body.replace(b'"salt":"', b'"salt":"0')),
    )
    serial, parallel = _both(runtime)
    assert serial.problem is not None
    assert serial.problem.seq == seq
    assert parallel.problem == serial.problem


@pytest.mark.parametrize("deleted", [[4], [5], [3, 4], [3, 4, 5, 6, 7, 8, 9]])
def test_parallel_verify_names_the_same_gap(runtime: Runtime, deleted: list[int]) -> None:
    _tamper(runtime, delete(AuditEntry).where(AuditEntry.seq.in_(deleted)))
    serial, parallel = _both(runtime)
    assert serial.problem == integrity.Problem(
        deleted[0], "gap", serial.problem.reason if serial.problem else ""
    )
    assert parallel.problem == serial.problem
