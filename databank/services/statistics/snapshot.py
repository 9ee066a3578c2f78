"""The facts as a frame, cached per process and loaded again when they change.

A table is a group-by over every fact row; reading a million rows from the database for each
table would cost seconds, so each process keeps one frame of the facts (category columns, the
person as an integer code) and checks, per query, the newest change mark (`stat_refreshes`, one
indexed lookup). A write to the facts anywhere (another process included) makes the next query
load them again. The frame holds tokens turned into integers, never an id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.models import StatFact, StatRefresh

# The coarse columns, loaded as categories (a few bytes a row each).
CODED = (
    "org_id",
    "org_kind",
    "area",
    "age_band",
    "sex",
    "need",
    "need_status",
    "living",
    "hud_living",
    "outcome",
    "wait_band",
)


@dataclass(frozen=True)
class Facts:
    version: tuple[int, str]
    frame: pd.DataFrame  # person (int32), month (datetime64), CODED columns, wait_days (float)

    @property
    def months(self) -> tuple[date, date] | None:
        if self.frame.empty:
            return None
        month = self.frame["month"]
        return month.min().date(), month.max().date()


_lock = threading.Lock()
_cached: dict[str, Facts] = {}


def version(session: Session) -> tuple[int, str]:
    """The newest change mark: its id, and its time (a database rebuilt in place starts its
    ids again; its marks' times tell it apart)."""
    newest = session.scalar(select(func.max(StatRefresh.id)))
    if newest is None:
        return (0, "")
    return (int(newest), str(session.get(StatRefresh, newest).at))  # type: ignore[union-attr]


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


def load(session: Session) -> pd.DataFrame:
    columns = ["person_token", "month", *CODED, "wait_days"]
    table = StatFact.__table__
    result = session.execute(select(*(table.c[name] for name in columns)))
    rows = result.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if frame.empty:
        frame = frame.astype({"month": "datetime64[ns]"})
    people, _ = pd.factorize(frame["person_token"])
    frame["person"] = people.astype(np.int32)
    frame = frame.drop(columns=["person_token"])
    frame["month"] = pd.to_datetime(frame["month"])
    frame["org_id"] = frame["org_id"].astype(str)
    for name in CODED:
        frame[name] = frame[name].astype("category")
    frame["wait_days"] = pd.to_numeric(frame["wait_days"], errors="coerce")
    return frame


def forget() -> None:
    """Drop every cached frame (tests that rebuild a database in place)."""
    with _lock:
        _cached.clear()
