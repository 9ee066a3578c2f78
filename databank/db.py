"""Declarative base with a naming convention, typed column aliases, engine and session factories."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    event,
    insert,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is refused (its zone is unknown)."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use UTC-aware values")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite: straight to the text SQLAlchemy's DATETIME stores ("2026-12-04 20:41:34.123456",
        # naive UTC), without its formatting through a dict: every logged access binds one.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return _utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[Any]) -> SAEnum:
    """Store a StrEnum by value in a VARCHAR with a CHECK, so both backends agree."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )


uuid_pk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
ciphertext = Annotated[bytes, mapped_column(LargeBinary())]
optional_ciphertext = Annotated[bytes | None, mapped_column(LargeBinary(), nullable=True)]
short_str = Annotated[str, mapped_column(String(100))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        dict[str, object]: JSON(),
        list[str]: JSON(),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the pysqlite driver, emit BEGIN: savepoints and transactional DDL then
    # behave as on PostgreSQL (SQLAlchemy's documented recipe for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power loss can drop the
    # last transactions, which is the trade-off SQLite recommends for WAL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_CHANGES_AT_BEGIN = "sqlite_changes_at_begin"


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so two writers queue (busy_timeout) instead of
    # failing with "database is locked" when one upgrades its read lock mid-transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes


def sqlite_unwritten(connection: Connection) -> bool:
    """Whether this SQLite connection's transaction has written no row yet. It holds the write
    lock from its BEGIN IMMEDIATE, so another connection to the file then reads just what this
    one sees (what `audit verify` needs to read the log through a connection of its own)."""
    changes = connection.info.get(_CHANGES_AT_BEGIN)
    dbapi = connection.connection.dbapi_connection
    return changes is not None and dbapi is not None and dbapi.total_changes == changes


CHECKPOINT_SECONDS = 1.0  # how often the checkpoint thread looks for written SQLite files

_log = logging.getLogger(__name__)


class _Checkpoints:
    """Checkpoints of SQLite write-ahead logs, by one thread of the process, about once a second,
    for each file written since: not by whichever request's commit crossed SQLite's threshold.

    Every logged read writes (its access entry), so a file-backed databank checkpoints often, and
    a checkpoint's two fsyncs took 20 ms for 1,000 pages and 90-150 ms for 10,000, inside that
    request's commit (measured; they were a fifth of the audit log's cost in a case read). The
    engine's own connections do not checkpoint (`wal_autocheckpoint=0`, `create_engine`); SQLite
    still checkpoints when the last connection to a file closes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards `_due` and `_pid`
        self._due: set[str] = set()
        self._pid = 0  # the process whose thread runs; 0: none yet
        # Held while the thread is inside SQLite. A fork waits for it (and for `_lock`): a child
        # forked while the thread held one of SQLite's own mutexes would hang at its first SQLite
        # call (seen: `audit verify`'s forked workers). The child starts a thread of its own.
        self._working = threading.Lock()
        os.register_at_fork(
            before=self._before_fork,
            after_in_parent=self._after_fork,
            after_in_child=self._after_fork,
        )

    def _before_fork(self) -> None:
        self._working.acquire()
        self._lock.acquire()

    def _after_fork(self) -> None:
        self._lock.release()
        self._working.release()

    def mark(self, path: str) -> None:
        """The file was written: checkpoint it at the next round."""
        with self._lock:
            self._due.add(path)
            if self._pid != os.getpid():  # the first write, or a forked child: start a thread
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_SECONDS)
            self.run_once()

    def run_once(self) -> None:
        with self._lock:
            due, self._due = self._due, set()
        for path in due:
            with self._working:
                done = checkpoint_sqlite(path)
            if not done:
                with self._lock:  # readers kept part of the log: try again at the next round
                    self._due.add(path)


_checkpoints = _Checkpoints()


def checkpoint_sqlite(path: str) -> bool:
    """A passive checkpoint of the SQLite file's write-ahead log, through a connection of its own
    (it waits for no one, and never creates a file). True if the whole log is in the file now,
    or the file is gone."""
    if not os.path.exists(path):
        return True
    try:
        connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=rw", uri=True)
        try:
            busy, logged, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        _log.warning("SQLite checkpoint failed: %s", error)
        return False
    return not busy and logged == done


def _sqlite_no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")  # `_Checkpoints` does it


def _private_file(path: Path) -> None:
    """The SQLite file readable by its owner only, like the keys (threat 1: another account on
    the host reading the database). SQLite gives its -wal and -shm files the database file's
    permissions, so they follow; files left readable by an earlier version are narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # empty: SQLite makes it a db
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the databank's connection settings (SQLite: WAL, foreign keys on, and for a
    file, checkpoints off the requests' path)."""
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        file_backed = bool(path) and path != ":memory:" and not path.startswith("file:")
        if file_backed:
            _private_file(Path(path))
        engine = sa_create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        if file_backed:
            absolute = str(Path(path).resolve())
            event.listen(engine, "connect", _sqlite_no_autocheckpoint)

            def written(connection: Connection) -> None:
                if not sqlite_unwritten(connection):
                    _checkpoints.mark(absolute)

            event.listen(engine, "commit", written)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa_create_engine(url, **kwargs)


def session_factory(engine: Engine, info: dict[str, Any]) -> sessionmaker[Session]:
    """Sessions carry the runtime (keyring, linkage zone) in `info`, so services stay plain."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


class InsertPlan:
    """A compiled INSERT for one table and column set, with each column's bind processor."""

    __slots__ = ("convert", "sql")

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else keys
        processors = [
            (i, processor)
            for i, name in enumerate(names)
            if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        get = itemgetter(*names)
        single = len(names) == 1  # itemgetter of one name returns the value, not a tuple

        def convert(row: dict[str, Any]) -> Any:
            values = [get(row)] if single else list(get(row))
            for i, processor in processors:
                value = values[i]
                if value is not None:
                    values[i] = processor(value)
            return tuple(values) if positional else dict(zip(names, values, strict=True))

        self.convert = convert


_plans: dict[tuple[str, str, tuple[str, ...]], InsertPlan] = {}


def insert_plan(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> InsertPlan:
    """The INSERT of these columns of the table for this dialect, compiled once."""
    plan_key = (dialect.name, table.name, keys)
    plan = _plans.get(plan_key)
    if plan is None:
        plan = _plans[plan_key] = InsertPlan(table, keys, dialect)
    return plan


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one table in one executemany, in the session's transaction.

    The same statement and type conversions as SQLAlchemy's own insert (the column types' bind
    processors for this dialect), without its per-row bookkeeping, which profiling showed to be
    most of the cost of batch intake. Every row must have the same keys.
    """
    if not rows:
        return
    connection = session.connection()
    plan = insert_plan(connection.dialect, table, tuple(rows[0]))
    convert = plan.convert
    connection.exec_driver_sql(plan.sql, [convert(row) for row in rows])
