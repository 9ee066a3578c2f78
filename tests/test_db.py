"""databank.db: the UTC datetime type binds on SQLite exactly as SQLAlchemy's DATETIME would, and
SQLite files are checkpointed by a thread, not in the requests' commits."""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from databank.db import (
    CHECKPOINT_SECONDS,
    UTCDateTime,
    _checkpoints,
    checkpoint_sqlite,
    create_engine,
)


def _sqlalchemy_own(dialect: sqlite.dialect) -> object:
    """The processor SQLAlchemy's TypeDecorator would give (process_bind_param, then DATETIME)."""
    return TypeDecorator.bind_processor(UTCDateTime().dialect_impl(dialect), dialect)


def test_the_sqlite_bind_is_sqlalchemys_own_text() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = _sqlalchemy_own(dialect)
    assert ours is not None
    assert callable(theirs)
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    moments = [datetime(1, 1, 2, tzinfo=UTC), datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC)]
    for _ in range(500):
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 4_000_000_000), microseconds=rng.randrange(0, 1_000_000)
        )
        moments.append(moment.astimezone(rng.choice(zones)))
    for moment in moments:
        assert ours(moment) == theirs(moment), moment  # type: ignore[operator]
    assert ours(None) is None


def test_a_naive_datetime_is_refused() -> None:
    ours = UTCDateTime().bind_processor(sqlite.dialect())
    assert ours is not None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 1, 1))


def test_stored_and_read_back_through_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = Table(
        "moments", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    table.create(engine)
    moment = datetime(2026, 12, 4, 21, 30, 5, 120, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=moment))
        stored = connection.scalar(text("SELECT at FROM moments"))
        back = connection.scalar(select(table.c.at))
    assert stored == "2026-12-04 20:30:05.000120"
    assert back == moment
    assert back.tzinfo is UTC


# -- SQLite checkpoints, off the requests' path ----------------------------------------------------


def _sqlite_engine(path: Path) -> Any:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, token TEXT)"))
    return engine


def test_a_file_engines_connections_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path / "db.sqlite")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_a_write_reaches_the_database_file_by_the_checkpoint_thread(tmp_path: Path) -> None:
    """The engine's connections never checkpoint; the thread does, about a second after a write,
    while the engine's connection stays open (its close would checkpoint too)."""
    path = tmp_path / "db.sqlite"
    engine = _sqlite_engine(path)
    token = secrets.token_hex(16)
    with engine.connect() as held:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes (token) VALUES (:t)"), {"t": token})
        assert held.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 1
        deadline = time.monotonic() + 15 * CHECKPOINT_SECONDS
        while token.encode() not in path.read_bytes():
            assert time.monotonic() < deadline, "not checkpointed into the database file"
            time.sleep(0.1)
        assert any(t.name == "sqlite-checkpoints" for t in threading.enumerate())
    engine.dispose()


def test_a_read_only_transaction_asks_for_no_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = _sqlite_engine(path)
    _checkpoints.run_once()  # whatever was due before
    with engine.begin() as connection:
        connection.execute(text("SELECT count(*) FROM notes")).scalar()
    assert str(path.resolve()) not in _checkpoints._due
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (token) VALUES ('x')"))
    assert str(path.resolve()) in _checkpoints._due
    engine.dispose()


def test_the_checkpoint_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.sqlite"
    assert checkpoint_sqlite(str(missing))
    assert not missing.exists()


def test_a_fork_waits_while_the_checkpoint_thread_is_inside_sqlite(tmp_path: Path) -> None:
    """A child forked while the thread held one of SQLite's mutexes would hang at its first SQLite
    call (it did: `audit verify`'s forked workers). A fork waits for the thread to leave SQLite,
    and the child can then use SQLite."""
    path = tmp_path / "db.sqlite"
    _sqlite_engine(path).dispose()
    forked = threading.Event()
    codes: list[int] = []

    def fork() -> None:
        pid = os.fork()
        if pid == 0:  # the child: SQLite answers, then leave at once
            try:
                connection = sqlite3.connect(path)
                connection.execute("SELECT count(*) FROM notes").fetchone()
                connection.close()
            finally:
                os._exit(0)
        forked.set()
        codes.append(os.waitpid(pid, 0)[1])

    _checkpoints._working.acquire()  # as the thread does around a checkpoint
    try:
        worker = threading.Thread(target=fork)
        worker.start()
        assert not forked.wait(0.5), "forked while the checkpoint thread was inside SQLite"
    finally:
        _checkpoints._working.release()
    assert forked.wait(10)
    worker.join(10)
    assert codes == [0]


@pytest.mark.parametrize("existing", [False, True])
def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path: Path, existing: bool) -> None:
    """Threat 1: the database file and its WAL and shared-memory files are made 0600, like the
    keys, whatever the process's umask; a file left readable earlier is narrowed (finding 12)."""
    path = tmp_path / "data" / "bank.sqlite"
    previous = os.umask(0o022)
    try:
        if existing:
            path.parent.mkdir()
            sqlite3.connect(path).close()
            path.chmod(0o644)
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as connection:  # the WAL and shm exist while a connection is open
            connection.execute(text("SELECT x FROM t")).all()
            files = [p for p in path.parent.iterdir() if p.name.startswith("bank.sqlite")]
            assert {p.name for p in files} >= {"bank.sqlite", "bank.sqlite-wal", "bank.sqlite-shm"}
            assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {
                p.name: oct(0o600) for p in files
            }
        engine.dispose()
    finally:
        os.umask(previous)
