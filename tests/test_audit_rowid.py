"""Migration 0009: on SQLite, the log's seq is the table's rowid; the log survives it whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Engine, inspect, select, text

from databank import db_schema
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, OrgKind, Purpose, Role
from databank.models import AuditEntry
from databank.services import auditlog
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.oversight import integrity
from databank.services.runtime import Runtime
from tests.support import postgres_url, scratch_runtime

sqlite_only = pytest.mark.skipif(
    postgres_url() is not None, reason="the rowid is SQLite's (PostgreSQL keeps seq BIGINT)"
)

BEFORE = "0008"  # the last revision with seq BIGINT on SQLite
INDEXES = {
    "ix_audit_entries_person_id_at",
    "ix_audit_entries_actor_org_id_at",
    "ix_audit_entries_owner_org_id_at",
    "ix_audit_entries_actor_org_id_area_at",
    "ix_audit_entries_actor_user_id_at",
}
PLAN = "EXPLAIN QUERY PLAN SELECT seq, body FROM audit_entries WHERE seq >= 0 ORDER BY seq"


def _sqlite_layout(engine: Engine) -> tuple[str, set[str], str]:
    """The plan of the verifier's read in seq order, audit_entries' indexes (autoindex included)
    and the declared type of seq, seen from a new connection (a pooled one may keep the plan of
    an EXPLAIN it prepared before the rebuild: EXPLAIN does not check the schema's version)."""
    engine.dispose()
    with engine.connect() as conn:
        plan = " / ".join(row[3] for row in conn.execute(text(PLAN)))
        names = set(
            conn.scalars(
                text("SELECT name FROM sqlite_master WHERE tbl_name = 'audit_entries'")
            ).all()
        )
        seq_type = next(
            row[2]
            for row in conn.execute(text("PRAGMA table_info(audit_entries)"))
            if row[1] == "seq"
        )
    return plan, names - {"audit_entries"}, seq_type


def _shape(engine: Engine) -> tuple[list[str], set[str], str | None]:
    """audit_entries' columns in order, its index names and its primary key's name."""
    found = inspect(engine)
    return (
        [column["name"] for column in found.get_columns("audit_entries")],
        {index["name"] for index in found.get_indexes("audit_entries") if index["name"]},
        found.get_pk_constraint("audit_entries")["name"],
    )


def _entries(runtime: Runtime) -> list[Any]:
    with runtime.transaction() as session:
        return list(session.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).all())


def _activity(runtime: Runtime, slug: str, people_count: int = 5) -> None:
    """A log's usual activity through the audit service (each registration and case read as
    the services log them), with checkpoints between. Not through the people services: they
    need the subjects of migration 0015, and a database at 0008 has none (nor should a
    downgrade below 0015 be asked to keep registrations bound to subjects)."""
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, slug, slug.title(), OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
        for _ in range(people_count):
            person, case = uuid.uuid4(), uuid.uuid4()
            for event, record_type in (
                (AuditEvent.ACCESS_CREATE, RecordType.INTAKE),
                (AuditEvent.ACCESS_READ, RecordType.CASE),
            ):
                auditlog.append(
                    session,
                    actor,
                    [
                        auditlog.EntryIn(
                            event,
                            record_type,
                            case,
                            org.id,
                            person,
                            Purpose.OUTREACH.value,
                            Decision.ALLOW,
                            "platform.owner",
                            fields_released=("status", "notes"),
                        )
                    ],
                )
            auditlog.sign_now(session)


def _verified(runtime: Runtime, size: int) -> None:
    with runtime.transaction() as session:
        report = integrity.verify(session)
    assert report.ok, report.problem
    assert report.size == size
    assert report.checkpoints >= 1


@pytest.fixture
def old_log(tmp_path: Path) -> Iterator[Runtime]:
    """A database at revision 0008 holding a log written by the services."""
    runtime = scratch_runtime("databank_audit_rowid", tmp_path, revision=BEFORE)
    assert db_schema.current_revision(runtime.engine) == BEFORE
    _activity(runtime, "before")
    yield runtime
    runtime.dispose()


@sqlite_only
def test_seq_is_the_rowid_on_sqlite(runtime: Runtime) -> None:
    """A database built by the migrations reads the log in seq order from the table itself."""
    plan, indexes, seq_type = _sqlite_layout(runtime.engine)
    assert "USING INTEGER PRIMARY KEY (rowid>?)" in plan
    assert seq_type == "INTEGER"
    assert indexes == INDEXES  # and no sqlite_autoindex_audit_entries_1


def test_upgrade_keeps_a_log_written_before_it(old_log: Runtime) -> None:
    engine = old_log.engine
    before = _entries(old_log)
    columns, indexes, pk = _shape(engine)
    assert len(before) >= 10
    _verified(old_log, len(before))
    if engine.dialect.name == "sqlite":
        plan, names, seq_type = _sqlite_layout(engine)
        assert (seq_type, names) == ("BIGINT", INDEXES | {"sqlite_autoindex_audit_entries_1"})

    db_schema.upgrade(engine)

    assert db_schema.current_revision(engine) == db_schema.head_revision()
    assert _entries(old_log) == before  # every row, every column, the same bodies
    assert _shape(engine) == (columns, indexes, pk)
    assert (indexes, pk) == (INDEXES, "pk_audit_entries")
    _verified(old_log, len(before))
    if engine.dialect.name == "sqlite":
        plan, names, seq_type = _sqlite_layout(engine)
        assert "USING INTEGER PRIMARY KEY (rowid>?)" in plan
        assert (seq_type, names) == ("INTEGER", INDEXES)
    else:
        [seq] = [c for c in inspect(engine).get_columns("audit_entries") if c["name"] == "seq"]
        assert isinstance(seq["type"], BigInteger)  # PostgreSQL: unchanged
    # The log goes on from where it was, chained to the entries written before the upgrade.
    _activity(old_log, "after", people_count=2)
    after = _entries(old_log)
    assert after[: len(before)] == before
    assert [row.seq for row in after] == list(range(len(after)))
    _verified(old_log, len(after))


def test_downgrade_and_up_again_keep_the_log(old_log: Runtime) -> None:
    engine = old_log.engine
    db_schema.upgrade(engine)
    _activity(old_log, "at-head", people_count=2)
    before = _entries(old_log)
    shape = _shape(engine)

    db_schema.downgrade(engine, BEFORE)
    assert db_schema.current_revision(engine) == BEFORE
    assert _entries(old_log) == before
    assert _shape(engine) == shape
    _verified(old_log, len(before))
    if engine.dialect.name == "sqlite":
        plan, names, seq_type = _sqlite_layout(engine)
        assert "sqlite_autoindex_audit_entries_1" in plan
        assert (seq_type, names) == ("BIGINT", INDEXES | {"sqlite_autoindex_audit_entries_1"})

    db_schema.upgrade(engine)
    assert _entries(old_log) == before
    assert _shape(engine) == shape
    _verified(old_log, len(before))
    if engine.dialect.name == "sqlite":
        plan, names, seq_type = _sqlite_layout(engine)
        assert "USING INTEGER PRIMARY KEY (rowid>?)" in plan
        assert (seq_type, names) == ("INTEGER", INDEXES)
