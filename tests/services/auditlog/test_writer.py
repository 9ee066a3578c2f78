"""The access log as stored: gapless, chained, checkpointed; any change is named by `verify`."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.orm import Session

from databank.audit import scan
from databank.audit.merkle import leaf_hash
from databank.domain.enums import Purpose
from databank.models import AuditCheckpoint, AuditEntry, AuditHead
from databank.services.oversight import integrity
from databank.services.records import cases, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import intake_record
from tests.support import register_and_read


@pytest.fixture(autouse=True, params=["one chunk", "chunks of 4"])
def chunked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check runs twice: the log in one chunk, and cut in chunks of 4 entries, so that
    each tampering also lands on the links and gaps between chunks."""
    if request.param == "chunks of 4":
        monkeypatch.setattr(integrity, "CHUNK", 4)


@pytest.fixture
def log(session: Session, make_org: OrgMaker, actor_for: ActorMaker) -> int:
    """Some activity: registrations, reads, a refusal. Returns the log's size."""
    register_and_read(session, actor_for(make_org()), 6)
    size = session.scalar(select(func.count()).select_from(AuditEntry))
    assert size is not None
    assert size >= 12
    return size


def _as_attacker(session: Session) -> None:
    """A database writer with superuser rights switches the append-only trigger off first."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))


def _body(session: Session, seq: int) -> bytes:
    body = session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq))
    assert body is not None
    return body


def test_untouched_log_verifies(session: Session, log: int) -> None:
    report = integrity.verify(session)
    assert report.ok, report.problem
    assert report.size == log
    assert report.checkpoints >= 1
    seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(log))  # gapless from 0
    head = session.get(AuditHead, 1)
    assert head is not None
    assert head.size == log


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_altered_body_is_named(session: Session, log: int, where: str) -> None:
    """Changing one byte of one entry's body names that entry."""
    seq = {"first": 0, "middle": log // 2, "last": log - 1}[where]
    _as_attacker(session)
    body = _body(session, seq).replace(b'"salt":"', b'"salt":"0')
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(body=body))
    report = integrity.verify(session)
    assert report.problem is not None
    assert report.problem.seq == seq
    assert report.exit_code != 0


@pytest.mark.parametrize("deleted", [[6], [8], [7, 8], [2, 3, 4, 5, 6, 7, 8, 9]])
def test_deleted_entry_is_named(session: Session, log: int, deleted: list[int]) -> None:
    """Deleted entries inside a chunk, at its start, and across the end of one (chunks of 4)."""
    _as_attacker(session)
    session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(deleted)))
    report = integrity.verify(session)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (deleted[0], "gap")
    assert report.exit_code == scan.EXIT_CODES["gap"]


def test_deleted_tail_is_found(session: Session, log: int) -> None:
    _as_attacker(session)
    session.execute(delete(AuditEntry).where(AuditEntry.seq == log - 1))
    report = integrity.verify(session)
    assert report.problem is not None
    assert report.problem.seq == log - 1
    assert report.problem.kind == "head"


def test_inserted_entry_is_named(session: Session, log: int) -> None:
    """An entry slipped in after the last one, chained correctly, still does not fit the head."""
    _as_attacker(session)
    last = session.execute(select(AuditEntry).where(AuditEntry.seq == log - 1)).scalar_one()
    prev = last.body.split(b'"prev":"')[1].split(b'"')[0]
    forged = last.body.replace(f'"seq":{log - 1}}}'.encode(), f'"seq":{log}}}'.encode())
    forged = forged.replace(prev, leaf_hash(last.body).hex().encode())
    assert forged != last.body
    session.execute(
        insert(AuditEntry).values(
            seq=log,
            at=last.at,
            event=last.event,
            actor_user_id=last.actor_user_id,
            actor_org_id=last.actor_org_id,
            owner_org_id=last.owner_org_id,
            person_id=last.person_id,
            purpose=last.purpose,
            decision=last.decision,
            body=forged,
        )
    )
    report = integrity.verify(session)
    assert report.problem is not None
    assert report.problem.seq == log


def test_reordered_entries_are_named(session: Session, log: int) -> None:
    """Swapping two neighbours (bodies and columns) names the first of them."""
    _as_attacker(session)
    a, b = 3, 4
    rows = {
        r.seq: dict(r._mapping)
        for r in session.execute(select(AuditEntry.__table__).where(AuditEntry.seq.in_([a, b])))
    }
    session.execute(delete(AuditEntry).where(AuditEntry.seq.in_([a, b])))
    session.execute(insert(AuditEntry), [{**rows[b], "seq": a}, {**rows[a], "seq": b}])
    report = integrity.verify(session)
    assert report.problem is not None
    assert report.problem.seq == a


def test_edited_indexed_column_is_named(session: Session, log: int) -> None:
    """The indexed copies are checked against the hashed body."""
    _as_attacker(session)
    seq = log - 3
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(purpose="audit"))
    report = integrity.verify(session)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (seq, "body")
    assert "purpose" in report.problem.reason


def test_rewritten_history_fails_the_signed_root(session: Session, log: int) -> None:
    """Rewriting an entry and every link after it still fails against the signed checkpoint."""
    _as_attacker(session)
    checkpoint = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())
    ).first()
    assert checkpoint is not None
    session.execute(update(AuditHead).values(size=None, frontier=b"", last_leaf=b""))
    session.execute(delete(AuditEntry).where(AuditEntry.seq >= 0))
    report = integrity.verify(session)
    assert report.problem is not None
    assert report.problem.kind == "head"


def test_checkpoint_signed_by_another_key_fails(session: Session, log: int) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    report = integrity.verify(session, public_key=other)
    assert report.problem is not None
    assert report.problem.kind == "signature"


def test_postgres_refuses_update_and_delete(session: Session, log: int) -> None:
    """On PostgreSQL a trigger makes the audit tables append-only."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    # The savepoint is innermost, so it is rolled back when the statement fails.
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(update(AuditEntry).where(AuditEntry.seq == 0).values(event="x"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(delete(AuditCheckpoint))


def test_no_log_no_data(session: Session, make_org: OrgMaker, actor_for: ActorMaker) -> None:
    """If the access entry cannot be written, the read fails and returns nothing."""
    actor = actor_for(make_org())
    [result] = people.intake(session, actor, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    session.execute(delete(AuditHead))  # the log can no longer be appended to
    returned = None
    with pytest.raises(NoResultFound):
        returned = cases.read_case(session, actor, Purpose.OUTREACH, result.case_id)
    assert returned is None


def test_policy_change_is_logged_once(session: Session) -> None:
    """A new policy version in force is an audit event; the same version again is not."""
    from databank.services.context import policy_of
    from databank.services.runtime import record_policy_version

    version = policy_of(session).version
    assert record_policy_version(session, version) is True
    assert record_policy_version(session, version) is False
    events = session.scalars(
        select(AuditEntry.event).where(AuditEntry.event == "policy.changed")
    ).all()
    assert events == ["policy.changed"]
