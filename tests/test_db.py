"""databank.db: the UTC datetime type binds on SQLite exactly as SQLAlchemy's DATETIME would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from databank.db import UTCDateTime, create_engine


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
