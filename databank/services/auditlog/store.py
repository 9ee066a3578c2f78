"""The log's driver SQL: the head row's read under lock and its update, and the entries' insert.

Every logged access runs these, so they go straight to the driver with the columns' own type
conversions: profiling showed SQLAlchemy's statement building and result layer cost several times
the statements themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.orm import Session

from databank.db import insert_plan
from databank.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class Head:
    size: int
    frontier: bytes
    last_leaf: bytes
    checkpoint_size: int
    checkpoint_at: datetime | None


_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]


_HEAD_COLUMNS = ("size", "frontier", "last_leaf", "checkpoint_size", "checkpoint_at")


class Statements:
    """The head's read (under lock) and update, as driver SQL for one dialect, with the columns'
    own type conversions. Every access runs both, and profiling showed SQLAlchemy's statement
    building and result layer cost several times the statements themselves."""

    def __init__(self, dialect: Dialect) -> None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        lock = "" if dialect.name == "sqlite" else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE
        columns = ", ".join(_HEAD_COLUMNS)
        assignments = ", ".join(f"{name} = {mark}" for name in _HEAD_COLUMNS)
        self.read = f"SELECT {columns} FROM audit_heads WHERE id = 1{lock}"  # noqa: S608
        self.write = f"UPDATE audit_heads SET {assignments} WHERE id = 1"  # noqa: S608
        # Most appends sign no checkpoint: the tree's columns only, the checkpoint's as they were.
        tree = ", ".join(f"{name} = {mark}" for name in _HEAD_COLUMNS[:3])
        self.write_tree = f"UPDATE audit_heads SET {tree} WHERE id = 1"  # noqa: S608
        types = [_HEAD.c[name].type.dialect_impl(dialect) for name in _HEAD_COLUMNS]
        self.loads = [t.result_processor(dialect, None) for t in types]
        self.dumps = [t.bind_processor(dialect) for t in types]


_statements_by_dialect: dict[str, Statements] = {}


class Driver:
    """The statements above, run on the session's driver connection in its transaction."""

    __slots__ = ("dbapi", "dialect", "statements")

    def __init__(self, statements: Statements, dialect: Dialect, dbapi: Any) -> None:
        self.statements = statements
        self.dialect = dialect
        self.dbapi = dbapi

    @classmethod
    def of(cls, session: Session) -> Driver:
        connection = session.connection()  # begins the transaction (SQLite: BEGIN IMMEDIATE)
        dialect = connection.dialect
        found = _statements_by_dialect.get(dialect.name)
        if found is None:
            found = _statements_by_dialect[dialect.name] = Statements(dialect)
        return cls(found, dialect, connection.connection.dbapi_connection)

    def read_head(self) -> list[Any] | None:
        statements = self.statements
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(statements.read)
            raw = cursor.fetchone()
        finally:
            cursor.close()
        if raw is None:
            return None
        return [
            load(v) if load and v is not None else v
            for load, v in zip(statements.loads, raw, strict=True)
        ]

    def write_head(self, head: Head, tree_only: bool = False) -> None:
        """Update the head row; with tree_only, its size, frontier and last leaf only."""
        statements = self.statements
        values: tuple[Any, ...] = (head.size, head.frontier, head.last_leaf)
        if not tree_only:
            values += (head.checkpoint_size, head.checkpoint_at)
        params = [
            dump(v) if dump and v is not None else v
            for dump, v in zip(statements.dumps, values, strict=False)
        ]
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(statements.write_tree if tree_only else statements.write, params)
        finally:
            cursor.close()

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """The entries' rows (all with the same keys) in one statement, as `bulk_insert` would,
        without SQLAlchemy's execution layer."""
        plan = insert_plan(self.dialect, _ENTRIES, tuple(rows[0]))
        convert, sql = plan.convert, plan.sql
        cursor = self.dbapi.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(sql, convert(rows[0]))
            else:
                cursor.executemany(sql, [convert(row) for row in rows])
        finally:
            cursor.close()
