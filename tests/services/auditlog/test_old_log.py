"""A log written before the audit vocabulary became enums still verifies, the enums write its
entries byte for byte, and the code appends to it.

tests/data/audit/old_log.sqlite holds the audit tables of a small log (every kind of entry the code
wrote then) as that code stored them: see tests/data/audit/make_old_log.py.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from databank.audit import entries
from databank.db import create_engine
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, Decision, OrgKind, Purpose, Role
from databank.models import AuditEntry
from databank.services import auditlog
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.auditlog import EntryIn, writer
from databank.services.auditlog.signer import AuditSigner
from databank.services.oversight import integrity
from tests.support import fixed_material, migrated_runtime

OLD_LOG = Path(__file__).resolve().parents[2] / "data" / "audit" / "old_log.sqlite"
OLD_SIZE = 70
AUDIT_TABLES = ("audit_entries", "audit_checkpoints", "audit_heads")


@pytest.fixture
def old_engine(tmp_path: Path) -> Iterator[Engine]:
    """A copy of the old log (verify may write nothing, but SQLite keeps its journal beside it)."""
    copy = tmp_path / "old_log.sqlite"
    shutil.copyfile(OLD_LOG, copy)
    engine = create_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def _session(engine: Engine) -> Session:
    """A session as the runtime opens them, as far as verify needs: the test signing key."""
    signer = AuditSigner(fixed_material().audit_signing_key, "databank test")
    return Session(engine, info={"audit_signer": signer})


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(
                    AuditEntry.seq,
                    AuditEntry.body,
                    AuditEntry.event,
                    AuditEntry.purpose,
                    AuditEntry.decision,
                ).order_by(AuditEntry.seq)
            )
        )


def test_the_old_log_verifies(old_engine: Engine) -> None:
    with _session(old_engine) as session:
        report = integrity.verify(session, workers=1)
    assert report.ok, report.problem
    assert report.size == OLD_SIZE
    assert report.checkpoints >= 3


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _actor(data: dict[str, Any] | None) -> Actor | None:
    if data is None:
        return None
    roles = frozenset(Role(r) for r in data["roles"])
    # The org's kind is not in a body; any will do.
    return Actor(_uuid(data["user"]), uuid.UUID(data["org"]), OrgKind.OTHER, roles, data["channel"])


def _entry(body: dict[str, Any]) -> EntryIn:
    """The entry a service would log for this body, with the vocabulary's members."""
    record, fields = body["record"], body["fields"]
    return EntryIn(
        AuditEvent(body["event"]),
        None if record["type"] is None else RecordType(record["type"]),
        _uuid(record["id"]),
        _uuid(record["owner"]),
        _uuid(body["person"]),
        None if body["purpose"] is None else Purpose(body["purpose"]),
        None if body["decision"] is None else Decision(body["decision"]),
        body["rule"],
        fields["released"],
        fields["withheld"],
        body["count"],
        body["location_level"],
        body["area"],
        body["break_glass"],
        body.get("extra", {}),
    )


def test_the_enums_write_the_old_bodies_byte_for_byte(
    old_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every old entry, written again by the writer with the members (and the old salt): the very
    same bytes, and the same copies in the indexed columns."""
    salt = ""
    monkeypatch.setattr(entries, "secrets", SimpleNamespace(token_hex=lambda _n: salt))
    rows = _rows(old_engine)
    assert len(rows) == OLD_SIZE
    events = set()
    for seq, stored, event, purpose, decision in rows:
        body = json.loads(stored)
        salt = body["salt"]
        actor = _actor(body["actor"])
        entry = _entry(body)
        at = datetime.fromisoformat(body["at"])
        row = writer._row(
            auditlog.actor_body(actor),
            actor,
            entry,
            at,
            body["at"],
            body["policy_version"],
            seq,
            body["prev"],
            entry.person_id,  # the old code logged the pooled id (now: `writer.logged_person`)
        )
        assert row["body"] == bytes(stored), seq
        assert (row["event"], row["purpose"], row["decision"]) == (event, purpose, decision)
        events.add(entry.event)
    assert len(events) == 43  # every event of the vocabulary the old code wrote


def _old_bodies() -> list[bytes]:
    db = sqlite3.connect(f"{OLD_LOG.as_uri()}?mode=ro", uri=True)
    try:
        return [bytes(b) for (b,) in db.execute("SELECT body FROM audit_entries ORDER BY seq")]
    finally:
        db.close()


def _replace_log(database: Path) -> None:
    """The database's log becomes the old one (its tables as the migrations made them)."""
    db = sqlite3.connect(database, isolation_level=None, uri=True)
    try:
        db.execute("ATTACH DATABASE ? AS old", (f"{OLD_LOG.as_uri()}?mode=ro",))
        db.execute("BEGIN")
        for table in AUDIT_TABLES:
            columns = ", ".join(r[1] for r in db.execute(f"PRAGMA old.table_info({table})"))
            db.execute(f"DELETE FROM main.{table}")  # noqa: S608 - fixed table names
            db.execute(
                f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM old.{table}"  # noqa: S608
            )
        db.execute("COMMIT")
        db.execute("DETACH DATABASE old")
    finally:
        db.close()


def test_the_code_appends_to_the_old_log(tmp_path: Path) -> None:
    """Old entries and new ones, written with the members, in one log that verifies."""
    database = tmp_path / "db.sqlite"
    runtime = migrated_runtime(f"sqlite:///{database}", tmp_path / "instance")
    try:
        _replace_log(database)
        with runtime.transaction() as session:
            org = organisations.create_organisation(session, "after", "After", OrgKind.CHARITY)
            read = EntryIn(
                AuditEvent.access(Action.READ),
                RecordType.CASE,
                uuid.uuid4(),
                org.id,
                uuid.uuid4(),
                Purpose.OUTREACH,
                Decision.PARTIAL,
                fields_released=("status",),
                fields_withheld=("notes",),
            )
            refused = EntryIn(AuditEvent.LOGIN, decision=Decision.DENY, extra={"reason": "locked"})
            auditlog.append(session, None, [read, refused])
            auditlog.sign_now(session)
        with runtime.transaction() as session:
            report = integrity.verify(session, workers=1)
            assert report.ok, report.problem
            assert report.size == OLD_SIZE + 3
            old = session.scalars(
                select(AuditEntry.body).where(AuditEntry.seq < OLD_SIZE).order_by(AuditEntry.seq)
            ).all()
            assert [bytes(b) for b in old] == _old_bodies()
            assert session.scalar(select(func.count()).select_from(AuditEntry)) == OLD_SIZE + 3
    finally:
        runtime.dispose()
