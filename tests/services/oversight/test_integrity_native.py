"""`audit verify`'s bulk pass in C (databank/audit/_fastscan.c), on SQLite files.

It only ever vouches for a chunk the exact Python pass accepts, with the very same subtree,
frontiers and links; anything else it leaves to the Python passes, so verify's report (first bad
seq, kind, reason) is the same with it and without it (DATABANK_VERIFY_NATIVE=0). Every tampering
here is committed, as the C pass reads the file through a connection of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from databank.audit import bulk_scan, native, scan
from databank.audit.merkle import leaf_hash
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, OrgKind, Role
from databank.models import AuditEntry, AuditHead
from databank.services import auditlog
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.oversight import integrity
from databank.services.runtime import Runtime
from tests.support import migrated_runtime, postgres_url, register_and_read

IN_CI = os.environ.get("CI") == "true"


def test_the_c_pass_is_built_in_ci() -> None:
    """CI builds it (gcc, libsqlite3-dev, libssl-dev): there it must be there, not skipped."""
    if not IN_CI and not native.built():
        pytest.skip("the C pass is not built here (no compiler or headers at install)")
    assert native.built()


pytestmark = [
    pytest.mark.skipif(not native.built() and not IN_CI, reason="the C pass is not built here"),
    pytest.mark.skipif(
        postgres_url() is not None, reason="SQLite files: the SQLite pass runs these (same tests)"
    ),
]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A committed log in a SQLite file: registrations and reads, sign-ins by nobody, and reads
    of one kind by two users, checkpoints at sizes inside chunks of 4."""
    runtime = migrated_runtime(f"sqlite:///{tmp_path / 'log.sqlite'}", tmp_path / "instance")
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, "charity", "Charity", OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
        register_and_read(session, actor, 6, sign=True)
        users = [
            Actor(uuid.uuid4(), org.id, org.kind, frozenset({role}), channel)
            for role, channel in ((Role.HOUSING_OFFICER, "web"), (Role.AUDITOR, "api"))
        ]
        for i in range(30):
            auditlog.append(
                session,
                users[i % 2] if i % 5 else None,
                [
                    auditlog.EntryIn(
                        event=AuditEvent.ACCESS_READ if i % 5 else AuditEvent.LOGIN,
                        record_type=RecordType.CASE if i % 5 else None,
                        record_id=uuid.uuid4() if i % 5 else None,
                        owner_org_id=org.id if i % 5 else None,
                        person_id=uuid.uuid4() if i % 5 else None,
                        purpose="outreach" if i % 5 else None,
                        decision=Decision.ALLOW,
                        fields_released=("status",),
                        area="u05kq" if i % 3 else None,
                    )
                ],
            )
    yield runtime
    runtime.dispose()


def _size(session: Session) -> int:
    head = session.execute(select(AuditHead)).scalar_one()
    session.refresh(head)
    assert head.size is not None
    return head.size


def _tamper(runtime: Runtime, statement: object, params: dict[str, object] | None = None) -> None:
    with runtime.transaction() as session:
        session.execute(statement, params or {})  # type: ignore[call-overload]


def _body(runtime: Runtime, seq: int) -> bytes:
    with runtime.transaction() as session:
        body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    return body


def _chunk_by_chunk(runtime: Runtime) -> int:
    """Every chunk (of 2, 4 and 64 entries) by the C pass and by the exact pass: where the C
    pass vouches, the exact pass finds no problem and the very same chunk. Returns how many
    chunks had a problem, each of which the C pass left to the exact pass."""
    path = runtime.engine.url.database
    assert path
    problems = 0
    with runtime.transaction() as session:
        size = _size(session)
        head = session.execute(select(AuditHead)).scalar_one()
        dbapi = session.connection().connection
        for chunk in (2, 4, 64):
            for lo in range(0, size, chunk):
                hi = min(lo + chunk, size)
                sizes = frozenset(range(lo + 1, hi + 1))
                rows = scan._rows(dbapi, "sqlite", lo, hi)
                exact = scan._scan(rows, lo, hi, head.last_leaf, sizes)
                c_pass = bulk_scan._native_check(path, lo, hi, sizes)
                if c_pass is not None:
                    assert exact.problem is None
                    assert replace(c_pass, native=False) == exact
                problems += exact.problem is not None
    return problems


def _reports(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> integrity.VerifyReport:
    """verify's report with the C pass, which is the same without it (one process, then two
    in chunks of 4); the one with it is returned."""
    with runtime.transaction() as session:
        with_c = integrity.verify(session, workers=1)
    with runtime.transaction() as session:
        with_c_parallel = integrity.verify(session, workers=2, chunk=4)
    monkeypatch.setenv(native.SWITCH, "0")
    with runtime.transaction() as session:
        without = integrity.verify(session, workers=1)
    with runtime.transaction() as session:
        without_parallel = integrity.verify(session, workers=2, chunk=4)
    monkeypatch.delenv(native.SWITCH)
    assert without.extra["native_chunks"] == without_parallel.extra["native_chunks"] == 0
    for report in (with_c_parallel, without, without_parallel):
        assert (report.problem, report.size, report.signed_size, report.checkpoints) == (
            with_c.problem,
            with_c.size,
            with_c.signed_size,
            with_c.checkpoints,
        )
    return with_c


def test_the_c_pass_vouches_for_an_intact_log(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _chunk_by_chunk(runtime) == 0
    report = _reports(runtime, monkeypatch)
    assert report.ok, report.problem
    assert report.size >= 40
    assert report.checkpoints >= 6
    assert report.extra["native_chunks"] == 1  # the whole log, one chunk


def test_the_levels_are_rfc_6962s(runtime: Runtime) -> None:
    path = runtime.engine.url.database
    assert path
    with runtime.transaction() as session:
        size = _size(session)
        bodies = session.scalars(select(AuditEntry.body).order_by(AuditEntry.seq)).all()
    found = native.scan(path, 0, size)
    assert found is not None
    levels, first_claim = found
    leaves = [leaf_hash(body) for body in bodies]
    assert levels == [b"".join(level) for level in bulk_scan._levels(leaves)]
    assert first_claim == b""  # entry 0 names no leaf before it


def _salted(body: bytes) -> bytes:
    return body.replace(b'"salt":"', b'"salt":"0')


@pytest.mark.parametrize("seq", [0, 1, 9, 22, -1])
def test_an_altered_body_is_left_to_the_exact_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, seq: int
) -> None:
    with runtime.transaction() as session:
        size = _size(session)
    seq %= size
    forged = _salted(_body(runtime, seq))
    _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
    # The next entry's link tells, in the chunks that hold both (the last one: the head).
    assert _chunk_by_chunk(runtime) >= (0 if seq == size - 1 else 2)
    report = _reports(runtime, monkeypatch)
    assert report.problem is not None
    assert report.problem.seq == seq


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event", "access.deny"),
        ("purpose", "research"),
        ("decision", "deny"),
        ("area", "u05kr"),
        ("area", None),
        ("person_id", uuid.uuid4().hex),
        ("owner_org_id", uuid.uuid4().hex),
        ("actor_org_id", None),
        ("actor_user_id", uuid.uuid4().hex),
        ("purpose", 'out"reach'),  # a quote: the fragment the body would hold is escaped
        ("purpose", "outreach\\"),
        ("purpose", "outréach"),
        ("event", "x" * 200),  # longer than the C pass makes fragments of
        ("purpose", b"outreach"),  # a blob where text is kept
        ("purpose", 5),
        ("area", 1.5),
    ],
)
def test_an_edited_column_is_left_to_the_exact_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, column: str, value: object
) -> None:
    with runtime.transaction() as session:
        seq = _size(session) - 4  # a read by a user, with a person and an owner
    _tamper(
        runtime,
        text(f"UPDATE audit_entries SET {column} = :value WHERE seq = :seq"),  # noqa: S608
        {"value": value, "seq": seq},
    )
    assert _chunk_by_chunk(runtime) == 3  # one chunk of each size holds it
    report = _reports(runtime, monkeypatch)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (seq, "body")


def test_a_body_kept_as_text_is_left_to_the_exact_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps a text value in the blob column: the same bytes, of another type."""
    _tamper(runtime, text("UPDATE audit_entries SET body = CAST(body AS TEXT) WHERE seq = 7"))
    path = runtime.engine.url.database
    assert path
    assert native.scan(path, 4, 8) is None
    assert native.scan(path, 0, 4) is not None


@pytest.mark.parametrize("deleted", [[3], [4, 5], [8, 9, 10, 11]])
def test_a_gap_is_left_to_the_exact_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, deleted: list[int]
) -> None:
    _tamper(runtime, delete(AuditEntry).where(AuditEntry.seq.in_(deleted)))
    assert _chunk_by_chunk(runtime) >= 1
    report = _reports(runtime, monkeypatch)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (deleted[0], "gap")


def test_swapped_bodies_are_left_to_the_exact_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _body(runtime, 12), _body(runtime, 13)
    _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == 12).values(body=second))
    _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == 13).values(body=first))
    assert _chunk_by_chunk(runtime) >= 3
    report = _reports(runtime, monkeypatch)
    assert report.problem is not None
    assert report.problem.seq == 12


def _forge_and_rechain(runtime: Runtime, seq: int, forged: bytes) -> None:
    """Entry `seq` given the body `forged`, every link after it re-chained to it, as an attacker
    who can write the table would: only the signed roots still tell."""
    with runtime.transaction() as session:
        size = _size(session)
        session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
        for following in range(seq + 1, size):
            body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == following))
            assert body is not None
            start = body.index(b'"prev":"') + 8
            forged = body[:start] + leaf_hash(forged).hex().encode() + body[start + 64 :]
            session.execute(
                update(AuditEntry).where(AuditEntry.seq == following).values(body=forged)
            )


@pytest.mark.parametrize(
    "forge",
    [
        # another seq of as many digits in the body
        lambda body, seq: body.replace(b'"seq":%d}' % seq, b'"seq":%d}' % (seq + 1)),
        # a second "prev" before the real link: verify reads the first
        lambda body, seq: body.replace(b'"actor":{', b'"actor":{"prev":"00",', 1),
        # no link at all, as entries older than the chain
        lambda body, seq: body.replace(b'"prev":"', b'"pre_":"', 1),
        # the salt only: a rewritten history the signed roots refuse
        lambda body, seq: _salted(body),
    ],
)
def test_a_rechained_forgery_is_left_to_the_python_passes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, forge: object
) -> None:
    seq = 21
    _forge_and_rechain(runtime, seq, forge(_body(runtime, seq), seq))  # type: ignore[operator]
    report = _reports(runtime, monkeypatch)
    assert report.problem is not None
    assert report.problem.kind in ("body", "root")


def test_a_session_that_wrote_is_verified_by_the_python_passes(runtime: Runtime) -> None:
    """The C pass reads through a connection of its own, which would not see this session's
    uncommitted change: verify must see it, so the C pass stays out."""
    with runtime.transaction() as session:
        report = integrity.verify(session, workers=1)
        assert report.ok, report.problem
        assert report.extra["native_chunks"] == 1
        forged = _salted(session.get_one(AuditEntry, 5).body)
        session.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(body=forged))
        report = integrity.verify(session, workers=1)
        assert report.extra["native_chunks"] == 0
        assert report.problem is not None
        assert report.problem.seq == 5
        session.rollback()


def test_the_switch_turns_the_c_pass_off(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.SWITCH, "0")
    assert not native.available()
    with runtime.transaction() as session:
        report = integrity.verify(session, workers=1)
    assert report.ok
    assert report.extra["native_chunks"] == 0


def test_a_chunk_past_the_log_is_not_vouched_for(runtime: Runtime) -> None:
    path = runtime.engine.url.database
    assert path
    with runtime.transaction() as session:
        size = _size(session)
    assert native.scan(path, size - 2, size) is not None
    assert native.scan(path, size - 2, size + 1) is None  # an entry missing at the end
    assert native.scan(str(Path(path).with_name("missing.sqlite")), 0, 2) is None
    with pytest.raises(ValueError, match="lo < hi"):
        native.scan(path, 3, 3)


def test_no_one_byte_change_is_vouched_for(runtime: Runtime) -> None:
    """Single bytes changed at random places of random bodies (seeded), each committed: the C
    pass never vouches for a chunk the exact pass finds a problem in (`_chunk_by_chunk`), and
    it vouches for the very same chunk where the exact pass finds none."""
    import random

    rnd = random.Random(20261204)
    with runtime.transaction() as session:
        size = _size(session)
    for _ in range(40):
        seq = rnd.randrange(size)
        body = _body(runtime, seq)
        at = rnd.randrange(len(body))
        forged = body[:at] + bytes([rnd.choice(b'0a"\\:,{}-x\x00\xff')]) + body[at + 1 :]
        _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == seq).values(body=forged))
        _chunk_by_chunk(runtime)
        _tamper(runtime, update(AuditEntry).where(AuditEntry.seq == seq).values(body=body))
    assert _chunk_by_chunk(runtime) == 0
