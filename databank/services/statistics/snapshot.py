"""The facts as a frame, cached per process and loaded again when they change.

A table is a group-by over every fact row; reading a million rows from the database for each
table would cost seconds, so each process keeps one frame of the facts (category columns, the
person as an integer code) and checks, per query, the newest change mark (`stat_refreshes`, one
indexed lookup). A write to the facts anywhere (another process included) makes the next query
load them again. The frame holds tokens turned into integers, never an id.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.analytics.tables import DIMENSIONS
from databank.models import StatRefresh

# The coarse columns, loaded as categories (a few bytes a row each): the organisation (its
# policy decides at each query whether it counts) and every dimension but the period (the month).
CODED = ("org_id", *(d for d in DIMENSIONS if d != "period"))


@dataclass(frozen=True)
class Facts:
    version: tuple[int, int, str]
    frame: pd.DataFrame  # person (int32), month (datetime64), CODED columns, wait_days (float)

    @property
    def months(self) -> tuple[date, date] | None:
        if self.frame.empty:
            return None
        month = self.frame["month"]
        return month.min().date(), month.max().date()


_lock = threading.Lock()
_cached: dict[str, Facts] = {}


# A mark's id is drawn when its transaction writes it, before that commits: on PostgreSQL a
# transaction can commit after one that drew a later id. The newest id would then not move and
# the frame would miss the late one's facts until the next write; the number of marks among the
# newest RECENT ids moves (an index range, not a count of the whole table).
RECENT = 1000


def version(session: Session) -> tuple[int, int, str]:
    """The newest change mark: its id, how many marks hold the RECENT newest ids, and its time
    (a database rebuilt in place starts its ids again; its marks' times tell it apart)."""
    newest = session.scalar(select(func.max(StatRefresh.id)))
    if newest is None:
        return (0, 0, "")
    recent = session.scalar(
        select(func.count()).select_from(StatRefresh).where(StatRefresh.id > newest - RECENT)
    )
    at = session.get(StatRefresh, newest).at  # type: ignore[union-attr]
    return (int(newest), int(recent or 0), str(at))


def facts(session: Session) -> Facts:
    """The current facts of this database (loaded at most once per change)."""
    key = str(session.get_bind().engine.url)
    now = version(session)
    found = _cached.get(key)
    if found is not None and found.version == now:
        return found
    with _lock:
        found = _cached.get(key)
        if found is None or found.version != now:
            found = Facts(now, load(session))
            _cached[key] = found
    return found


# Fact rows read from the database at a time: the rows of one batch are Python objects only
# while that batch is turned into codes (a million fact rows read at once cost gigabytes).
BATCH = 100_000
TOKEN_SIZE = 16
# The coarse columns are read in groups of a few, each group as one text (its values as text,
# joined by SEPARATOR): the driver makes one object a group instead of one a column, and making
# them was most of the load. A group's distinct texts are few and split once, at the end.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("month", "org_id", "org_kind"),
    ("area", "age_band", "sex"),
    ("need", "need_status", "outcome"),
    ("living", "hud_living", "wait_band"),
)
SEPARATOR = "\x1f"  # the unit separator, in no code


class _Unsplittable(ValueError):
    """A value held the separator: the facts are read again a column a group."""


def load(session: Session) -> pd.DataFrame:
    """Every fact row, a batch at a time through the driver's cursor (server-side on
    PostgreSQL): the coarse columns become category codes as they come, the person tokens
    integers once all are read."""
    try:
        return _load(session, GROUPS)
    except _Unsplittable:
        return _load(session, tuple((name,) for group in GROUPS for name in group))


def _load(session: Session, groups: tuple[tuple[str, ...], ...]) -> pd.DataFrame:
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None  # noqa: S101 - a session's connection is open
    named = connection.dialect.name == "postgresql"
    cursor = raw.cursor(name="stat_facts_load") if named else raw.cursor()
    texts = [f" || '{SEPARATOR}' || ".join(f"CAST({c} AS TEXT)" for c in g) for g in groups]
    try:
        cursor.execute(f"SELECT person_token, {', '.join(texts)}, wait_days FROM stat_facts")  # noqa: S608 - fixed names
        batches = _Batches(len(groups))
        while rows := cursor.fetchmany(BATCH):
            batches.add(rows)
    finally:
        cursor.close()
    return batches.frame(groups)


class _Batches:
    """The columns of the batches read so far: each group's codes (with its texts in the order
    first seen), token halves as integers, waiting days as floats."""

    def __init__(self, groups: int) -> None:
        self.codes: list[list[np.ndarray]] = [[] for _ in range(groups)]
        self.texts: list[dict[object, int]] = [{} for _ in range(groups)]
        self.tokens: list[np.ndarray] = []
        self.waits: list[np.ndarray] = []

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        columns = list(zip(*rows, strict=True))
        tokens = b"".join(columns[0])
        if len(tokens) != TOKEN_SIZE * len(rows):
            raise ValueError("a fact's person token is not 16 bytes")
        self.tokens.append(np.frombuffer(tokens, dtype=np.uint64).reshape(-1, 2))
        for i, column in enumerate(columns[1:-1]):
            codes, uniques = pd.factorize(np.asarray(column, dtype=object))
            seen = self.texts[i]
            lookup = [seen.setdefault(u, len(seen)) for u in uniques]
            # A missing value (code -1) stays -1: the last of the lookup.
            self.codes[i].append(np.array([*lookup, -1], dtype=np.int32)[codes])
        self.waits.append(np.array(columns[-1], dtype=float))

    def frame(self, groups: tuple[tuple[str, ...], ...]) -> pd.DataFrame:
        data: dict[str, object] = {}
        for i, group in enumerate(groups):
            codes = np.concatenate(self.codes[i]) if self.codes[i] else np.zeros(0, np.int32)
            parts: list[list[object]]
            if len(group) == 1:  # a column alone: its values as they are
                parts = [[text] for text in self.texts[i]]
            else:
                parts = [list(str(text).split(SEPARATOR)) for text in self.texts[i]]
            if any(len(p) != len(group) for p in parts):
                raise _Unsplittable(group)
            for k, name in enumerate(group):
                # This column's code for each of the group's texts, then for each row.
                own, found = pd.factorize(np.array([p[k] for p in parts], dtype=object))
                data[name] = _column(name, np.append(own, -1)[codes], list(found))
        names = ["month", *CODED]  # the columns in the order the frame has always had them
        frame = pd.DataFrame({name: data[name] for name in names})
        frame["wait_days"] = np.concatenate(self.waits) if self.waits else np.zeros(0)
        frame["person"] = _people(self.tokens)
        return frame


def _column(name: str, codes: np.ndarray, found: list[Any]) -> object:
    if name == "month":
        months = pd.DatetimeIndex(pd.to_datetime(pd.Series(found, dtype=object)))
        month = pd.Categorical.from_codes(codes, categories=months.astype("M8[ns]"))
        return np.asarray(month, dtype="datetime64[ns]")
    if name == "org_id":  # as the ORM gives them: UUIDs written with dashes
        found = [str(uuid.UUID(v)) for v in found]
    return _categorical(codes, found)


def _categorical(codes: np.ndarray, labels: list[Any]) -> pd.Categorical:
    """The codes as a categorical of its labels in sorted order (as `astype("category")`)."""
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.full(len(labels) + 1, -1, dtype=np.int32)  # the last: a missing value's -1
    rank[order] = np.arange(len(labels), dtype=np.int32)
    return pd.Categorical.from_codes(rank[codes], categories=[labels[i] for i in order])


def _people(tokens: list[np.ndarray]) -> np.ndarray:
    """The person tokens (16 bytes) as integers from 0, in the order first seen: each half
    numbered, then each pair of numbers (exact: no hash of the token is trusted alone)."""
    if not tokens:
        return np.zeros(0, np.int32)
    halves = np.concatenate(tokens)
    first, _ = pd.factorize(halves[:, 0])
    second, seconds = pd.factorize(halves[:, 1])
    people, _ = pd.factorize(first.astype(np.int64) * len(seconds) + second)
    return np.asarray(people, dtype=np.int32)


def forget() -> None:
    """Drop every cached frame (tests that rebuild a database in place)."""
    with _lock:
        _cached.clear()
