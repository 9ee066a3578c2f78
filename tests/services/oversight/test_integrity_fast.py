"""`audit verify`'s bulk pass: on an intact log it finds just what the exact pass finds, and it
hands any problem to the exact pass, so the report (first bad seq, kind, reason) is the same."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from databank.audit import bulk_scan, merkle, scan
from databank.audit.merkle import Frontier
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Role
from databank.models import AuditEntry, AuditHead
from databank.services import auditlog
from databank.services.oversight import integrity
from tests.conftest import ActorMaker, OrgMaker
from tests.support import register_and_read

UNIFORM = 40  # entries at the end of the log written as the benchmark writes them


@pytest.fixture
def log(session: Session, make_org: OrgMaker, actor_for: ActorMaker) -> int:
    """Mixed activity (registrations, reads: bodies of varied shapes and columns), then a run
    of uniform reads like a busy day's, persons repeating. Returns the log's size."""
    actor = actor_for(make_org())
    register_and_read(session, actor, 5)
    person = uuid.uuid4()
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                event=AuditEvent.ACCESS_READ,
                record_type=RecordType.CASE,
                record_id=uuid.uuid4(),
                owner_org_id=actor.org_id,
                person_id=person if i % 3 else uuid.uuid4(),
                purpose="outreach",
                decision=Decision.ALLOW,
                rule="platform.owner_content",
                fields_released=("status", "notes"),
                location_level=4,
            )
            for i in range(UNIFORM)
        ],
    )
    size = session.scalar(select(func.count()).select_from(AuditEntry))
    assert size is not None
    return size


def _passes(
    session: Session, lo: int, hi: int, batch: int = 3
) -> tuple[scan._Chunk | None, scan._Chunk, scan._Chunk]:
    """The chunk lo..hi-1 by the bulk pass (in batches of `batch`), the exact pass, and both
    together as verify runs them, checkpoints at every size inside it."""
    dbapi = session.connection().connection
    dialect = session.get_bind().dialect.name
    head = session.execute(select(AuditHead)).scalar_one()
    session.refresh(head)
    sizes = frozenset(range(lo + 1, hi + 1))
    fast = bulk_scan._fast_check(dbapi, dialect, lo, hi, head.last_leaf, sizes, batch)
    rows = scan._rows(dbapi, dialect, lo, hi)
    exact = scan._scan(rows, lo, hi, head.last_leaf, sizes)
    checked = bulk_scan._check(dbapi, dialect, lo, hi, head.last_leaf, sizes)
    return fast, exact, checked


def _chunks(size: int, chunk: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk, size)) for lo in range(0, size, chunk)]


@pytest.mark.parametrize("count", range(1, 38))
def test_frontier_read_off_the_levels_is_the_frontier(count: int) -> None:
    leaves = [os.urandom(32) for _ in range(37)]
    frontier = Frontier()
    frontier.extend(leaves[:count])
    levels = bulk_scan._levels(leaves)
    assert bulk_scan._frontier_at(levels, count) == frontier.hashes


@pytest.mark.parametrize("batch", [1, 3, 7, 512])
@pytest.mark.parametrize("chunk", [1, 4, 16, 64])
def test_bulk_pass_agrees_on_an_intact_log(
    session: Session, log: int, chunk: int, batch: int
) -> None:
    for lo, hi in _chunks(log, chunk):
        fast, exact, checked = _passes(session, lo, hi, batch)
        assert exact.problem is None
        assert fast == exact  # subtree, frontier at every size inside, links at both ends
        assert checked == exact


def test_bulk_pass_proves_uniform_entries_without_the_exact_checks(
    session: Session, log: int
) -> None:
    """Entries alike but for their persons, times and ids are proven in bulk (else the bulk pass
    would be no quicker than the exact one)."""
    dbapi = session.connection().connection
    dialect = session.get_bind().dialect.name
    columns = scan._FAST_COLUMNS[dialect]
    [rows] = scan._batches(dbapi, dialect, log - UNIFORM, log - 1, UNIFORM, columns)
    bodies = [row[1] for row in rows]
    links = [body.find(b'"prev":"') for body in bodies]
    named = [merkle.leaf_hash(body) for body in bodies[:-1]]
    assert bulk_scan._chained(bodies[1:], links[1:], named) is None
    fragments, persons = scan._Fragments(), bulk_scan._PersonFragments()
    assert (
        bulk_scan._witness_columns(rows, bodies, links, fragments, persons, bulk_scan._Shapes())
        == set()
    )


def test_bodies_of_one_shape_are_proven_as_one_array(session: Session, log: int) -> None:
    """Uniform entries of one length, their link at one offset, are checked a batch at a time
    with no per-entry step (the benchmark's log is all such entries)."""
    dbapi = session.connection().connection
    dialect = session.get_bind().dialect.name
    lo = log - UNIFORM + 1  # the first uniform entry's leaf is the one the rest must name
    columns = scan._FAST_COLUMNS[dialect]
    [rows] = scan._batches(dbapi, dialect, lo, log - 1, UNIFORM - 1, columns)
    rows = [row for row in rows if len(row[1]) == len(rows[0][1])]
    assert len(rows) >= UNIFORM // 2  # seqs of one width: bodies of one length
    rows = rows[: len(rows) - 1] if rows[-1][0] != rows[0][0] + len(rows) - 1 else rows
    bodies = [row[1] for row in rows]
    links = [body.find(b'"prev":"') for body in bodies]
    named = [merkle.leaf_hash(body) for body in bodies[:-1]]
    fragments, persons = scan._Fragments(), bulk_scan._PersonFragments()
    args = (rows, bodies, links, named, 1, rows[0][0], fragments, persons)
    assert bulk_scan._same_shape(*args)
    # Any one byte the array checks, changed, and that way no longer vouches for the batch.
    last = bodies[-1]
    for at in (
        last.index(b'"purpose":"') + 12,  # a column's copy
        last.index(b'"person":"') + 12,  # a digit of the person
        last.index(b'"person":"') + 18,  # a dash of the person
        links[-1] + 20,  # the link to the leaf before
        len(last) - 2,  # the seq
    ):
        changed = last[:at] + (b"0" if last[at : at + 1] != b"0" else b"1") + last[at + 1 :]
        assert not bulk_scan._same_shape(
            rows, [*bodies[:-1], changed], links, named, 1, rows[0][0], fragments, persons
        )


def test_seq_rewritten_in_a_body_of_the_same_length_goes_to_the_exact_pass(
    session: Session, log: int
) -> None:
    """A body given another seq of as many digits, every link after it re-chained: only the
    seq column and the signed root tell."""
    _as_attacker(session)
    seq = log - 12
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    forged = body.replace(b'"seq":%d}' % seq, b'"seq":%d}' % (seq + 1))
    assert len(forged) == len(body)
    _forge_and_rechain(session, seq, forged, log)
    assert _assert_same_reports(session, log) == 2


def _forge_and_rechain(session: Session, seq: int, forged: bytes, size: int) -> None:
    """Put `forged` in as entry `seq`'s body and re-chain every entry after it to it, as an
    attacker who can write the table would (only the signed roots still tell)."""
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
    for following in range(seq + 1, size):
        body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == following))
        assert body is not None
        start = body.index(b'"prev":"') + 8
        name = merkle.leaf_hash(forged).hex().encode()
        forged = body[:start] + name + body[start + 64 :]
        session.execute(update(AuditEntry).where(AuditEntry.seq == following).values(body=forged))


def _as_attacker(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))


def _assert_same_reports(session: Session, size: int) -> int:
    """Every chunk (of 4, and of 64) checked both ways alike; returns how many had a problem."""
    problems = 0
    for chunk in (4, 64):
        for lo, hi in _chunks(size, chunk):
            fast, exact, checked = _passes(session, lo, hi)
            assert checked == exact
            if exact.problem is None:
                assert fast == exact
            else:
                assert fast is None
                problems += 1
    return problems


@pytest.mark.parametrize("where", [0, 5, 20, -UNIFORM + 2, -1])
def test_altered_body_goes_to_the_exact_pass(session: Session, log: int, where: int) -> None:
    seq = where % log
    _as_attacker(session)
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    forged = body.replace(b'"salt":"', b'"salt":"0')
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
    seen = _assert_same_reports(session, log)
    assert seen >= 2 or seq == log - 1  # the last entry's change is the head's to show


@pytest.mark.parametrize(
    "column", ["purpose", "event", "decision", "area", "person_id", "owner_org_id"]
)
@pytest.mark.parametrize("where", [3, -UNIFORM + 5, -2])
def test_edited_column_goes_to_the_exact_pass(
    session: Session, log: int, column: str, where: int
) -> None:
    seq = where % log
    value: object = "audit" if column in ("purpose", "event", "decision", "area") else uuid.uuid4()
    _as_attacker(session)
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values({column: value}))
    assert _assert_same_reports(session, log) == 2


def test_edited_actor_goes_to_the_exact_pass(session: Session, log: int) -> None:
    _as_attacker(session)
    seq = log - 7
    session.execute(
        update(AuditEntry).where(AuditEntry.seq == seq).values(actor_org_id=uuid.uuid4())
    )
    assert _assert_same_reports(session, log) == 2


@pytest.mark.parametrize("deleted", [[4], [3, 4, 5], [-UNIFORM + 9], [-1]])
def test_gap_goes_to_the_exact_pass(session: Session, log: int, deleted: list[int]) -> None:
    _as_attacker(session)
    seqs = [where % log for where in deleted]
    session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(seqs)))
    seen = _assert_same_reports(session, log)
    assert seen >= 2 or seqs == [log - 1]  # a missing last entry is the head's to show


def test_a_second_prev_before_the_link_goes_to_the_exact_pass(session: Session, log: int) -> None:
    """`verify` reads the first `"prev":"` of a body. One slipped in before the real one, every
    link after it re-chained (so that only that first name and the signed root tell), is still
    the exact pass's to report."""
    _as_attacker(session)
    seq = log - 10
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    forged = body.replace(b'"actor":{', b'"actor":{"prev":"00",', 1)
    _forge_and_rechain(session, seq, forged, log)
    assert _assert_same_reports(session, log) == 2


@pytest.mark.parametrize(
    ("was", "now"),
    [
        (b'"event":"access.read"', b'"event":"access.view"'),
        (b'"purpose":"outreach"', b'"purpose":"research"'),
        (b'"decision":"allow"', b'"decision":"deny!"'),
        (b'"person":"', b'"person":"0'),
    ],
)
@pytest.mark.parametrize("last", ["of a chunk", "of the log"])
def test_body_unlike_its_columns_goes_to_the_exact_pass(
    session: Session, log: int, was: bytes, now: bytes, last: str
) -> None:
    """A chunk's last body changed is only told by its columns (the link to it is the next
    chunk's): the bulk pass must not take it for its neighbours' shape."""
    seq = log - 1 if last == "of the log" else (log - 5) // 4 * 4 + 3  # ends a chunk of 4
    _as_attacker(session)
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    assert was in body
    forged = body.replace(was, now)
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
    assert _assert_same_reports(session, log) == 2


@pytest.mark.parametrize(
    ("column", "value"), [("event", b"access.read"), ("purpose", 5), ("area", 1.5)]
)
def test_a_column_of_another_type_goes_to_the_exact_pass(
    session: Session, log: int, column: str, value: object
) -> None:
    """SQLite keeps whatever type is written to a column. A blob cannot go into the JSON array
    the bulk pass reads (the query fails), a number reads back as a number, not a string: the
    exact pass reports either, as it would any edited column."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("only SQLite keeps a value of another type in a text column")
    seq = log - 3
    session.execute(
        text(f"UPDATE audit_entries SET {column} = :value WHERE seq = :seq"),  # noqa: S608
        {"value": value, "seq": seq},
    )
    for chunk in (4, 64):
        problems = 0
        for lo, hi in _chunks(log, chunk):
            fast, exact, checked = _passes(session, lo, hi)
            assert checked == exact
            # The bulk pass may give up on a chunk next to the entry (its read runs one entry
            # past the chunk); it never passes the chunk that holds it.
            assert fast is None or fast == exact
            problems += exact.problem is not None
        assert problems == 1
    report = integrity.verify(session)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (seq, "body")
    assert column in report.problem.reason


def test_the_columns_array_gives_back_strings_and_nulls_only() -> None:
    assert scan._combo_values('["a", null, "b", "c", "d", "e", null]') == (
        "a",
        None,
        "b",
        "c",
        "d",
        "e",
        None,
    )
    assert scan._combo_values('["a", 5, "b", "c", "d", "e", null]') is None
    assert scan._combo_values('["a", "b"]') is None
    assert scan._combo_values("{}") is None


def _mixed_rows(session: Session, make_org: OrgMaker, actor_for: ActorMaker) -> list[object]:
    """Two rounds of the same mix of actors and kinds of entry (bodies of many lengths, links at
    many offsets), persons and records differing: the bulk pass's rows of them."""
    orgs = [make_org() for _ in range(3)]
    actors = [
        replace(actor_for(org, role), user_id=uuid.uuid4())
        for org in orgs
        for role in (Role.OUTREACH_WORKER, Role.AUDITOR)
    ]
    read, search, case = AuditEvent.ACCESS_READ, AuditEvent.ACCESS_SEARCH, RecordType.CASE
    kinds = [
        {"event": read, "record_type": case, "decision": Decision.ALLOW, "area": "u05kq"},
        {"event": read, "record_type": RecordType.IDENTITY, "decision": Decision.PARTIAL},
        {"event": read, "record_type": case, "decision": Decision.DENY},
        {"event": search, "decision": Decision.ALLOW, "result_count": 3},
    ]
    start = session.scalar(select(func.count()).select_from(AuditEntry))
    assert start is not None
    if start < 10:  # both rounds' seqs of two digits: their bodies of the same lengths
        auditlog.append(session, None, [auditlog.EntryIn(event=AuditEvent.LOGIN)] * (10 - start))
        start = 10
    for _round in range(2):
        for i, actor in enumerate(actors):
            auditlog.append(
                session,
                actor,
                [
                    auditlog.EntryIn(
                        record_id=uuid.uuid4() if "record_type" in kind else None,
                        owner_org_id=orgs[(i + k) % 3].id,
                        person_id=None if kind["event"] is search else uuid.uuid4(),
                        purpose="outreach",
                        **kind,  # type: ignore[arg-type]
                    )
                    for k, kind in enumerate(kinds)
                ],
            )
    size = session.scalar(select(func.count()).select_from(AuditEntry))
    assert size is not None
    dbapi = session.connection().connection
    dialect = session.get_bind().dialect.name
    columns = scan._FAST_COLUMNS[dialect]
    [rows] = scan._batches(dbapi, dialect, start, size - 1, size, columns)
    return rows[: size - start]


def test_mixed_entries_are_proven_by_shapes_learnt_once(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Entries of several actors and kinds, in no order the array way could take, are proven
    without the exact checks, each shape's copies searched for in its first body only."""
    rows = _mixed_rows(session, make_org, actor_for)
    bodies = [row[1] for row in rows]
    links = [body.find(b'"prev":"') for body in bodies]
    shapes = bulk_scan._Shapes()
    fragments, persons = scan._Fragments(), bulk_scan._PersonFragments()
    assert bulk_scan._witness_columns(rows, bodies, links, fragments, persons, shapes) == set()
    assert len({len(body) for body in bodies}) > 2  # not the array way's one shape
    assert len(shapes) == len(rows) // 2  # the second round was cut where the first was found


def test_a_learnt_shape_does_not_vouch_for_a_body_that_differs(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """A body of a known shape whose copy of a column was changed in place (same length, same
    link) is left to the exact checks; so is one whose bytes between two copies differ."""
    rows = _mixed_rows(session, make_org, actor_for)
    bodies = [row[1] for row in rows]
    links = [body.find(b'"prev":"') for body in bodies]
    half = len(rows) // 2
    shapes = bulk_scan._Shapes()
    fragments, persons = scan._Fragments(), bulk_scan._PersonFragments()
    assert not bulk_scan._witness_columns(
        rows[:half], bodies[:half], links[:half], fragments, persons, shapes
    )
    body = bodies[half]  # the same shape as bodies[0], learnt above
    assert (rows[half][3], links[half]) in shapes
    for old, new in (
        (b'"purpose":"outreach"', b'"purpose":"outreacx"'),  # a column's copy
        (b'"roles":["outreach_worker"]', b'"roles":["outreach_workex"]'),  # between two copies
    ):
        assert old in body
        changed = [*bodies[:half], body.replace(old, new), *bodies[half + 1 :]]
        unproven = bulk_scan._witness_columns(rows, changed, links, fragments, persons, shapes)
        assert unproven == {half}


def test_an_actor_org_set_to_null_is_named(session: Session, log: int) -> None:
    """A null actor column must match the body too (`"actor":null`; `"user":null` for an actor
    with no user): an org's auditor filters on these columns."""
    _as_attacker(session)
    seq = log - 7  # a read by the log's actor
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(actor_org_id=None))
    assert _assert_same_reports(session, log) == 2
    report = integrity.verify(session)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (seq, "body")
