"""The facts as a frame, cached per process and brought up to date when they change.

A table is a group-by over every fact row; reading a million rows from the database for each
table would cost seconds, so each process keeps one frame of the facts (category columns, the
person as an integer code) and checks, per query, the newest change marks (`stat_refreshes`, an
indexed lookup). A write to the facts anywhere (another process included) leaves a mark naming
the records it rebuilt: the next query drops those records' rows from the frame and reads their
rows again, and nothing else (`_advanced`). A mark that names no records (a rebuild), a change
naming more than a fifth of the rows, or marks the frame cannot account for make it load every
fact again. The frame holds tokens turned into integers, never an id.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.analytics.tables import DIMENSIONS
from databank.models import StatFact, StatRefresh

# The coarse columns, loaded as categories (a few bytes a row each): the organisation (its
# policy decides at each query whether it counts) and every dimension but the period (the month).
CODED = ("org_id", *(d for d in DIMENSIONS if d != "period"))


@dataclass(frozen=True)
class Facts:
    version: tuple[int, int, str]
    frame: pd.DataFrame  # person (int32), month (datetime64), CODED columns, wait_days (float)
    # Each row's record and person tokens as two 64-bit halves, in the frame's row order: what a
    # change mark names records by, and what a re-read row's person is matched on.
    subjects: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.uint64))
    people: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.uint64))
    marks: frozenset[int] = frozenset()  # the ids of the RECENT newest marks taken in

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
    """The current facts of this database (brought up to date at most once per change)."""
    key = str(session.get_bind().engine.url)
    now = version(session)
    found = _cached.get(key)
    if found is not None and found.version == now:
        return found
    with _lock:
        found = _cached.get(key)
        if found is None or found.version != now:
            found = (_advanced(session, found, now) if found else None) or _loaded(session, now)
            _cached[key] = found
    return found


def _mark_ids(session: Session, after: int) -> list[int]:
    return [int(i) for i in session.scalars(select(StatRefresh.id).where(StatRefresh.id > after))]


def _named_by(session: Session, ids: list[int]) -> list[bytes | None]:
    """The record tokens each of these marks names (None: every record). Only the marks not yet
    taken in are read: a bulk intake's mark names thousands of records."""
    found: list[bytes | None] = []
    for start in range(0, len(ids), 500):
        query = select(StatRefresh.subject_tokens).where(
            StatRefresh.id.in_(ids[start : start + 500])
        )
        found.extend(None if t is None else bytes(t) for t in session.scalars(query))
    return found


def _loaded(session: Session, now: tuple[int, int, str]) -> Facts:
    """Every fact read. The marks are read first: a change committed in between is then read
    twice (its rows now, its mark as new next time), never missed."""
    marks = frozenset(_mark_ids(session, now[0] - RECENT))
    frame, subjects, people = _load_all(session)
    return Facts(now, frame, subjects, people, marks)


# Past this share of the frame's rows (and past FULL_LOAD_RECORDS) named by new marks, reading
# every fact is cheaper than reading the named records' rows by token.
FULL_LOAD_SHARE = 0.2
FULL_LOAD_RECORDS = 1_000


def _advanced(session: Session, cached: Facts, now: tuple[int, int, str]) -> Facts | None:
    """The cached facts with the records named by the marks it has not taken in read again;
    None when only a full load can say what changed."""
    newest = cached.version[0]
    mark = session.get(StatRefresh, newest) if newest else None
    if now[0] < newest or (newest and (mark is None or str(mark.at) != cached.version[2])):
        return None  # a database rebuilt in place: its ids started again
    seen = _mark_ids(session, newest - RECENT)
    new = _named_by(session, [i for i in seen if i not in cached.marks])
    if any(tokens is None for tokens in new):
        return None
    named = {t[k : k + TOKEN_SIZE] for t in new if t for k in range(0, len(t), TOKEN_SIZE)}
    if len(named) > max(FULL_LOAD_SHARE * len(cached.frame), FULL_LOAD_RECORDS):
        return None
    marks = frozenset(i for i in seen if i > now[0] - RECENT)
    if not named:
        return Facts(now, cached.frame, cached.subjects, cached.people, marks)
    rows = _rows_of(session, sorted(named))
    frame, subjects, people = _merged(cached, named, rows)
    return Facts(now, frame, subjects, people, marks)


_COLUMNS = ("person_token", "subject_token", "month", *CODED, "wait_days")


def _rows_of(session: Session, tokens: list[bytes]) -> list[Sequence[Any]]:
    """The fact rows of these records as they are now."""
    table = StatFact.__table__
    columns = [table.c[name] for name in _COLUMNS]
    found: list[Sequence[Any]] = []
    for start in range(0, len(tokens), 500):
        chunk = tokens[start : start + 500]
        query = select(*columns).where(table.c.subject_token.in_(chunk))
        found.extend(session.execute(query).all())
    return found


def _halves(tokens: Sequence[bytes]) -> np.ndarray:
    """16-byte tokens as rows of two 64-bit halves."""
    joined = b"".join(bytes(t) for t in tokens)
    if len(joined) != TOKEN_SIZE * len(tokens):
        raise ValueError("a fact's token is not 16 bytes")
    return np.frombuffer(joined, dtype=np.uint64).reshape(-1, 2)


def _member(halves: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which rows' tokens (two halves each) are among `wanted`'s, both halves matched."""
    maybe = np.flatnonzero(np.isin(halves[:, 0], wanted[:, 0]))
    pairs = {(int(a), int(b)) for a, b in wanted}
    found = np.zeros(len(halves), dtype=bool)
    found[[i for i in maybe if (int(halves[i, 0]), int(halves[i, 1])) in pairs]] = True
    return found


def _merged(
    cached: Facts, named: set[bytes], rows: list[Sequence[Any]]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The cached frame without the named records' rows, then their rows read again: the same
    columns and dtypes, the categories widened (kept sorted) where a new value came, each
    person keeping their integer (a new person takes the next)."""
    keep = ~_member(cached.subjects, _halves(sorted(named)))
    old = cached.frame[keep].reset_index(drop=True)
    values = {name: [row[i] for row in rows] for i, name in enumerate(_COLUMNS)}
    people = _halves(values["person_token"])
    new: dict[str, Any] = {
        "month": np.array([np.datetime64(m, "ns") for m in values["month"]], "datetime64[ns]")
    }
    for name in CODED:
        texts = [str(v) for v in values[name]]  # UUIDs as the ORM writes them, with dashes
        wider = sorted(set(old[name].cat.categories) | set(texts))
        if len(wider) != len(old[name].cat.categories):
            old[name] = old[name].cat.set_categories(wider)
        new[name] = pd.Categorical(texts, categories=old[name].cat.categories)
    new["wait_days"] = np.array([np.nan if w is None else float(w) for w in values["wait_days"]])
    new["person"] = _person_numbers(cached, people)
    order = list(cached.frame.columns)
    frame = pd.concat([old[order], pd.DataFrame(new)[order]], ignore_index=True)
    subjects = np.concatenate([cached.subjects[keep], _halves(values["subject_token"])])
    return frame, subjects, np.concatenate([cached.people[keep], people])


def _person_numbers(cached: Facts, people: np.ndarray) -> np.ndarray:
    """Each re-read row's person integer: the one the frame gives that person already, else a
    new one past every integer in use."""
    known: dict[tuple[int, int], int] = {}
    if len(people):
        rows = np.flatnonzero(_member(cached.people, people))
        codes = cached.frame["person"].to_numpy()
        known = {(int(cached.people[i, 0]), int(cached.people[i, 1])): int(codes[i]) for i in rows}
    following = int(cached.frame["person"].max()) + 1 if len(cached.frame) else 0
    numbers = np.empty(len(people), dtype=np.int32)
    for i, (a, b) in enumerate(people):
        key = (int(a), int(b))
        if key not in known:
            known[key] = following
            following += 1
        numbers[i] = known[key]
    return numbers


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
    return _load_all(session)[0]


def _load_all(session: Session) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The frame, and each row's record and person tokens as halves."""
    try:
        return _load(session, GROUPS)
    except _Unsplittable:
        return _load(session, tuple((name,) for group in GROUPS for name in group))


def _load(
    session: Session, groups: tuple[tuple[str, ...], ...]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None  # noqa: S101 - a session's connection is open
    named = connection.dialect.name == "postgresql"
    cursor = raw.cursor(name="stat_facts_load") if named else raw.cursor()
    texts = [f" || '{SEPARATOR}' || ".join(f"CAST({c} AS TEXT)" for c in g) for g in groups]
    try:
        cursor.execute(
            f"SELECT person_token, subject_token, {', '.join(texts)}, wait_days FROM stat_facts"  # noqa: S608 - fixed names
        )
        batches = _Batches(len(groups))
        while rows := cursor.fetchmany(BATCH):
            batches.add(rows)
    finally:
        cursor.close()
    return batches.frame(groups), batches.halves(batches.subjects), batches.halves(batches.tokens)


class _Batches:
    """The columns of the batches read so far: each group's codes (with its texts in the order
    first seen), token halves as integers, waiting days as floats."""

    def __init__(self, groups: int) -> None:
        self.codes: list[list[np.ndarray]] = [[] for _ in range(groups)]
        self.texts: list[dict[object, int]] = [{} for _ in range(groups)]
        self.tokens: list[np.ndarray] = []
        self.subjects: list[np.ndarray] = []
        self.waits: list[np.ndarray] = []

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        columns = list(zip(*rows, strict=True))
        self.tokens.append(_halves(columns[0]))
        self.subjects.append(_halves(columns[1]))
        for i, column in enumerate(columns[2:-1]):
            codes, uniques = pd.factorize(np.asarray(column, dtype=object))
            seen = self.texts[i]
            lookup = [seen.setdefault(u, len(seen)) for u in uniques]
            # A missing value (code -1) stays -1: the last of the lookup.
            self.codes[i].append(np.array([*lookup, -1], dtype=np.int32)[codes])
        self.waits.append(np.array(columns[-1], dtype=float))

    @staticmethod
    def halves(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, 2), np.uint64)

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
