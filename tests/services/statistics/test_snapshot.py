"""The facts frame is every fact row as written, whichever way it is read: a few columns joined
into one text per group (the fast way), or a column at a time when a value holds the separator."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from databank.models import StatFact, StatRefresh
from databank.services.statistics import snapshot
from tests.conftest import OrgMaker

ROWS = [  # (person, month, area, need, wait_days)
    (1, date(2026, 3, 1), "lyon-1", "food", None),
    (2, date(2026, 3, 1), "lyon-2", "shelter", 4),
    (1, date(2026, 4, 1), "lyon-1", "shelter", None),
    (3, date(2025, 12, 1), "other", "food", 31),
]


def _write(session: Session, org_id: object, rows: list[tuple[object, ...]]) -> None:
    session.add_all(
        StatFact(
            subject_token=bytes([person]) * 16,  # type: ignore[list-item]
            person_token=bytes([person]) * 16,  # type: ignore[list-item]
            org_id=org_id,
            org_kind="council",
            month=month,
            area=area,
            age_band="25_34",
            sex="female",
            need=need,
            need_status="open",
            living="roofless",
            hud_living="homeless",
            outcome="none",
            wait_band="none" if wait is None else "days_31_plus",
            wait_days=wait,
        )
        for person, month, area, need, wait in rows
    )
    session.flush()


@pytest.mark.parametrize("odd_area", [None, "odd\x1farea"], ids=["grouped", "a column a group"])
def test_the_frame_holds_every_fact_as_written(
    session: Session, make_org: OrgMaker, odd_area: str | None
) -> None:
    org = make_org()
    rows = list(ROWS)
    if odd_area:  # a value holding the separator: read again a column at a time
        rows.append((4, date(2026, 3, 1), odd_area, "food", None))
    _write(session, org.id, rows)
    frame = snapshot.load(session)
    frame = frame[frame["org_id"] == str(org.id)]  # other tests' facts may be there too
    frame = frame.sort_values(["month", "area", "need"], ignore_index=True)
    expected = sorted(rows, key=lambda r: (r[1], r[2], r[3]))
    assert list(frame["area"]) == [r[2] for r in expected]
    assert list(frame["need"]) == [r[3] for r in expected]
    assert list(frame["month"]) == [pd.Timestamp(r[1]) for r in expected]
    assert frame["month"].dtype == np.dtype("datetime64[ns]")
    assert len(frame) == len(rows)  # the organisation as the ORM writes a UUID, with dashes
    assert isinstance(frame["area"].dtype, pd.CategoricalDtype)
    assert list(frame["area"].cat.categories) == sorted(frame["area"].cat.categories)
    assert {r[2] for r in rows} <= set(frame["area"].cat.categories)
    waits = [None if pd.isna(w) else int(w) for w in frame["wait_days"]]
    assert waits == [r[4] for r in expected]
    # One integer a person, the same for each of their rows.
    people = dict(zip(frame["person"], [r[0] for r in expected], strict=True))
    assert len(set(people.values())) == len(people) == len({r[0] for r in rows})


def test_a_transaction_committing_after_a_later_one_is_seen(session: Session) -> None:
    """Marks' ids are drawn before their transactions commit: on PostgreSQL one can commit after
    a transaction that drew a later id. The version must still move when it does, or the frame
    would miss its facts until some other write (SQLite runs one writer at a time: no race)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: marks commit in the order of their ids")
    engine = session.get_bind().engine
    early, late = Session(engine), Session(engine)
    try:
        first = StatRefresh(subjects=1)
        early.add(first)
        early.flush()  # draws its id, not yet committed
        second = StatRefresh(subjects=1)
        late.add(second)
        late.commit()
        assert second.id > first.id
        with Session(engine) as reader:
            seen = snapshot.version(reader)
        early.commit()
        with Session(engine) as reader:
            assert snapshot.version(reader) != seen
    finally:
        early.rollback()
        late.rollback()
        with Session(engine) as cleanup:
            ids = [m.id for m in (first, second) if m.id is not None]
            cleanup.query(StatRefresh).filter(StatRefresh.id.in_(ids)).delete()
            cleanup.commit()
        early.close()
        late.close()


def _canonical(frame: pd.DataFrame, people: np.ndarray) -> list[tuple[object, ...]]:
    """The frame's rows as values, each person as its token: what any two frames of the same
    facts agree on, whatever integers and category lists they hold."""
    columns = [c for c in frame.columns if c != "person"]
    values = zip(*(frame[c].astype(object).tolist() for c in columns), strict=True)
    tokens = (tuple(int(h) for h in p) for p in people)
    return sorted(
        (tuple("nan" if pd.isna(v) else str(v) for v in row), t)
        for row, t in zip(values, tokens, strict=True)
    )


def _counting_full_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = snapshot._load_all

    def counted(session: Session) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        calls.append(1)
        return real(session)

    monkeypatch.setattr(snapshot, "_load_all", counted)
    return calls


def _mark(session: Session, *people: int) -> None:
    tokens = b"".join(bytes([p]) * 16 for p in people)
    session.add(StatRefresh(subjects=len(people), subject_tokens=tokens))
    session.flush()


def test_a_change_reads_its_records_only_and_equals_a_full_load(
    session: Session, make_org: OrgMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mark names the records a write rebuilt: the cached frame drops their rows and reads
    theirs again (a new area, a person merged into another, a record gone, a new record), and
    comes out as a full load would, without one; a mark that names nothing loads everything."""
    snapshot.forget()
    loads = _counting_full_loads(monkeypatch)
    org = make_org()
    _write(session, org.id, ROWS)
    _mark(session, 1, 2, 3)
    snapshot.facts(session)
    assert len(loads) == 1
    # Record 2 moves to a new area and its person becomes person 1's (a merge); record 3 is
    # erased; record 5 is new, of a new person.
    gone = [b"\x02" * 16, b"\x03" * 16]
    session.query(StatFact).filter(StatFact.subject_token.in_(gone)).delete()
    _write(session, org.id, [(2, date(2026, 3, 1), "lyon-9", "shelter", 4),
                             (5, date(2026, 5, 1), "lyon-1", "food", None)])  # fmt: skip
    session.query(StatFact).filter(StatFact.subject_token == b"\x02" * 16).update(
        {StatFact.person_token: b"\x01" * 16}
    )
    _mark(session, 2, 3, 5)
    after = snapshot.facts(session)
    assert len(loads) == 1  # taken in, not loaded again
    frame, _subjects, people = snapshot._load_all(session)
    assert _canonical(after.frame, after.people) == _canonical(frame, people)
    assert after.frame["person"].dtype == np.int32
    assert after.frame["month"].dtype == np.dtype("datetime64[ns]")
    assert isinstance(after.frame["area"].dtype, pd.CategoricalDtype)
    assert list(after.frame.index) == list(range(len(after.frame)))  # joins on it stay exact
    # One integer a person, and one person an integer.
    numbered = zip(after.frame["person"], after.people, strict=True)
    pairs = {(int(n), tuple(int(h) for h in p)) for n, p in numbered}
    assert len({n for n, _ in pairs}) == len({p for _, p in pairs}) == len(pairs)
    assert len(loads) == 2  # the one asked for above
    session.add(StatRefresh(subjects=0, subject_tokens=None))  # a rebuild names nothing
    session.flush()
    snapshot.facts(session)
    assert len(loads) == 3
