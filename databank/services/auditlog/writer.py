"""Appends entries to the Merkle access log in the caller's transaction ("no log, no data").

Every append locks the log's head row, numbers the entries gaplessly from the head's size, adds
their leaves to the tree's frontier and inserts them at once (a failing write raises before the
calling service returns any data); a signed checkpoint follows every N entries, every few minutes
of activity, and right after a break-glass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, SessionTransaction

from databank.audit.checkpoint import Checkpoint, sign_checkpoint
from databank.audit.entries import EntryIn, actor_part, entry_body, person_scope
from databank.audit.merkle import Frontier, leaf_hash
from databank.crypto.handles import PersonHandles
from databank.domain.audit_vocab import AuditEvent
from databank.models import AuditCheckpoint, AuditEntry
from databank.services.actors import Actor
from databank.services.auditlog import alerting
from databank.services.auditlog.signer import signer_of
from databank.services.auditlog.store import Driver, Head
from databank.services.context import handles_of, policy_of

CHECKPOINT_EVERY = 1000  # entries
CHECKPOINT_INTERVAL = timedelta(minutes=5)


@lru_cache(maxsize=4096)
def actor_body(actor: Actor | None) -> str:
    """The body's "actor", kept per actor (an immutable value): every access a user makes
    writes the same."""
    if actor is None:
        return actor_part(None, None, (), "")
    return actor_part(actor.user_id, actor.org_id, actor.roles, actor.channel)


def _row(
    actor_json: str,
    actor: Actor | None,
    entry: EntryIn,
    at: datetime,
    at_text: str,
    policy_version: str,
    seq: int,
    prev: str,
    person: uuid.UUID | None,
) -> dict[str, Any]:
    """The entry's row; its body names the person by `person` (`logged_person`)."""
    body = entry_body(actor_json, entry, at_text, policy_version, seq, prev, person)
    return {
        "seq": seq,
        "at": at,
        "event": entry.event,
        "actor_user_id": None if actor is None else actor.user_id,
        "actor_org_id": None if actor is None else actor.org_id,
        "owner_org_id": entry.owner_org_id,
        "person_id": person,
        "purpose": entry.purpose,
        "decision": entry.decision,
        "area": entry.area,
        "body": body,
    }


def logged_person(handles: PersonHandles, actor: Actor | None, entry: EntryIn) -> uuid.UUID | None:
    """How the log names the entry's person: as the record's holder sees them (its handle), never
    by the pooled id (`audit.entries.person_scope`)."""
    if entry.person_id is None:
        return None
    scope = person_scope(entry.owner_org_id, None if actor is None else actor.org_id)
    return handles.handle(scope, entry.person_id)


_PENDING = "audit_pending"  # Session.info key: entries waiting for the commit, when deferred
_Batch = tuple["Actor | None", list[EntryIn], datetime]


def defer_appends(session: Session) -> None:
    """Make this session's appends wait for its commit and go in as one write: one head lock
    (held from just before the commit, not from the first access on), one insert, one head update.

    For a web request, which may log several decisions (case, timeline, consent, identity) before
    it commits. Still "no log, no data": the entries are written by the commit that ends the
    access's transaction, and if they cannot be, the commit fails and nothing is returned. A
    rollback drops them with the rest of the transaction, as it would written rows.
    """
    session.info[_PENDING] = []


def append(session: Session, actor: Actor | None, entries: Iterable[EntryIn]) -> int:
    """Append the entries in the current transaction (now, or at its commit if deferred).
    Returns how many there are."""
    entries = list(entries)
    if not entries:
        return 0
    at = datetime.now(UTC)  # the time of the decision, even when written at the commit
    pending: list[_Batch] | None = session.info.get(_PENDING)
    if pending is not None:
        pending.append((actor, entries, at))
        return len(entries)
    return _write(session, [(actor, entries, at)])


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[_Batch] | None = session.info.get(_PENDING)
    if pending and not session.in_nested_transaction():  # the outermost commit only
        batches = pending[:]
        pending.clear()
        _write(session, batches)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Batch] | None = session.info.get(_PENDING)
    if pending and previous_transaction.parent is None:  # not a savepoint's rollback
        pending.clear()


def _write(session: Session, batches: list[_Batch]) -> int:
    """Write the batches' entries, in order, under one lock of the head row."""
    # The version of the policies in force goes into every entry, whatever its event.
    policy_version = policy_of(session).version
    handles = handles_of(session)
    # The row lock serialises appends, so seq has no gap and the frontier no lost update.
    # Driver statements for the head and the insert, not SQLAlchemy's execution layer: this runs
    # in every read's transaction, where that layer cost more than the statements (profiled).
    driver = Driver.of(session)
    head = _locked_head(session, driver)
    frontier = Frontier.from_bytes(head.frontier) if head.frontier else Frontier()
    rows = []
    people = []  # each row's pooled person, for the alerts (break-glass holders, alert rows)
    prev = head.last_leaf
    seq = head.size
    for actor, entries, at in batches:
        actor_json = actor_body(actor)
        at_text = at.isoformat()
        for entry in entries:
            person = logged_person(handles, actor, entry)
            row = _row(
                actor_json, actor, entry, at, at_text, policy_version, seq, prev.hex(), person
            )
            people.append(entry.person_id)
            prev = leaf_hash(row["body"])
            frontier.append(prev)
            rows.append(row)
            seq += 1
    driver.insert(rows)
    alerting.evaluate(session, rows, people)
    new = replace(head, size=frontier.size, frontier=frontier.to_bytes(), last_leaf=prev)
    now = datetime.now(UTC)
    sign = (
        new.size - head.checkpoint_size >= CHECKPOINT_EVERY
        or head.checkpoint_at is None
        or now - head.checkpoint_at >= CHECKPOINT_INTERVAL
        or any(
            e.event == AuditEvent.BREAK_GLASS_START for _a, entries, _at in batches for e in entries
        )
    )
    if sign:
        new = replace(new, **checkpoint(session, frontier, now))
    driver.write_head(new, tree_only=not sign)
    return len(rows)


def _locked_head(session: Session, driver: Driver) -> Head:
    """The head row, locked until the transaction ends; adopts pre-Merkle entries once."""
    found = driver.read_head()
    if found is None:
        raise NoResultFound("the access log has no head row: it cannot be appended to")
    if found[0] is None:
        frontier, leaf = _adopt(session)
        adopted = Head(frontier.size, frontier.to_bytes(), leaf, found[3], found[4])
        driver.write_head(adopted)
        return adopted
    return Head(found[0], bytes(found[1]), bytes(found[2]), found[3], found[4])


def checkpoint(session: Session, frontier: Frontier, at: datetime) -> dict[str, Any]:
    """Sign the tree as it stands (origin, size, root) and keep the signed note.

    Returns the head's new checkpoint columns, for the caller's update of the head."""
    signer = signer_of(session)
    root = frontier.root()
    note = sign_checkpoint(
        Checkpoint(signer.origin, frontier.size, root), signer.key, signer.key_name
    )
    exists = session.execute(
        select(AuditCheckpoint.size).where(AuditCheckpoint.size == frontier.size)
    ).first()
    if exists is None:
        session.execute(
            insert(AuditCheckpoint).values(
                size=frontier.size, root=root, signed_note=note, created_at=at
            )
        )
    return {"checkpoint_size": frontier.size, "checkpoint_at": at}


def _adopt(session: Session) -> tuple[Frontier, bytes]:
    """Take the entries written before the Merkle log existed into the tree (once, under lock)."""
    frontier = Frontier()
    leaf = b""
    for (body,) in session.execute(select(AuditEntry.body).order_by(AuditEntry.seq)):
        leaf = leaf_hash(body)
        frontier.append(leaf)
    return frontier, leaf


def sign_now(session: Session) -> int:
    """Sign a checkpoint of the log as it stands (operators, `prove`, tests). Returns its size."""
    driver = Driver.of(session)
    head = _locked_head(session, driver)
    frontier = Frontier.from_bytes(head.frontier) if head.frontier else Frontier()
    driver.write_head(replace(head, **checkpoint(session, frontier, datetime.now(UTC))))
    return frontier.size
