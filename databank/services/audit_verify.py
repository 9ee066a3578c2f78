"""Verifying the access log end to end, and proving an org's entries to an outside auditor.

`verify` streams every entry in seq order, recomputes its leaf and the tree, checks the copies in
the indexed columns against the hashed body, compares the root at every checkpoint and checks the
checkpoint's signature, and names the first bad seq and why. It trusts nothing in the database but
the signing key's public half.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from databank.audit.bundle import make_bundle
from databank.audit.checkpoint import CheckpointError, public_key_line, verify_checkpoint
from databank.audit.merkle import Frontier, inclusion_proofs, leaf_hash
from databank.models import AuditCheckpoint, AuditEntry, AuditHead
from databank.services import audit_log
from databank.services.actors import Actor
from databank.services.context import signer_of

# What went wrong, and the exit code `databank audit verify` gives for it.
EXIT_CODES = {
    "ok": 0,
    "body": 3,  # an entry's body or one of its indexed copies changed
    "gap": 4,  # a seq is missing, duplicated or out of order (deleted, inserted, reordered)
    "root": 5,  # the recomputed tree does not match a signed checkpoint
    "signature": 6,  # a checkpoint's signature is not valid for the audit key
    "head": 7,  # the log is shorter or longer than its head says (truncated, appended to)
}
_BATCH = 20_000


@dataclass(frozen=True)
class Problem:
    seq: int | None
    kind: str
    reason: str


@dataclass
class VerifyReport:
    size: int = 0
    checkpoints: int = 0
    signed_size: int = 0
    problem: Problem | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def unsigned_tail(self) -> int:
        return self.size - self.signed_size

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.problem.kind] if self.problem else 0


def _json_str(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _uuid_text(value: object) -> str:
    """An id as the body writes it: PostgreSQL gives UUIDs, SQLite 32 hex characters."""
    if value is None:
        return "null"
    if isinstance(value, uuid.UUID):
        return f'"{value}"'
    raw = str(value)
    if len(raw) == 32:
        raw = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return f'"{raw}"'


class _Fragments:
    """The canonical-JSON fragments the indexed columns must appear as in the body.

    Keys are unique across the body's nesting (actor.org, record.owner, person, ...) and string
    values cannot hold an unescaped quote, so a fragment's presence pins the column's value.
    All columns but the person repeat across entries (events, purposes, orgs, users), so their
    fragments are cached as one tuple per combination.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], tuple[tuple[str, bytes], ...]] = {}

    def of(self, row: Any) -> tuple[tuple[str, bytes], ...]:
        key = (row[1], row[2], row[3], row[4], row[6], row[7], row[8])
        shared = self._cache.get(key)
        if shared is None:
            _seq, event, actor_user, actor_org, owner, _person, purpose, decision, area, _ = row
            found = [
                ("event", f'"event":{_json_str(event)}'.encode()),
                ("owner", f'"owner":{_uuid_text(owner)}'.encode()),
                ("purpose", f'"purpose":{_json_str(purpose)}'.encode()),
                ("decision", f'"decision":{_json_str(decision)}'.encode()),
                ("area", f'"area":{_json_str(area)}'.encode()),
            ]
            if actor_org is not None:
                found.append(("actor_org", f'"org":{_uuid_text(actor_org)}'.encode()))
            if actor_user is not None:
                found.append(("actor_user", f'"user":{_uuid_text(actor_user)}'.encode()))
            shared = tuple(found)
            if len(self._cache) < 100_000:
                self._cache[key] = shared
        return shared


_PREV = b'"prev":"'


def _prev_of(body: bytes) -> bytes | None:
    """The hex leaf hash a body names as its predecessor (None for entries older than the chain)."""
    start = body.find(_PREV)
    if start < 0:
        return None
    start += len(_PREV)
    return body[start : body.find(b'"', start)]


_COLUMNS = (
    "seq, event, actor_user_id, actor_org_id, owner_org_id, person_id, purpose, decision, area, "
    "body"
)


def _rows(session: Session) -> Iterator[Any]:
    """All entries in seq order, in batches, straight from the driver's cursor.

    Profiling showed SQLAlchemy's result layer cost four times the driver's own fetch here, and
    verify reads every entry, so this one query goes to the DB-API cursor directly.
    """
    dbapi = session.connection().connection
    marker = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    query = (
        f"SELECT {_COLUMNS} FROM audit_entries WHERE seq > {marker} "  # noqa: S608 - constants
        f"ORDER BY seq LIMIT {marker}"
    )
    cursor = dbapi.cursor()
    last = -1
    try:
        while True:
            cursor.execute(query, (last, _BATCH))
            batch = cursor.fetchall()
            if not batch:
                return
            yield from batch
            last = batch[-1][0]
    finally:
        cursor.close()


def verify(session: Session, public_key: Ed25519PublicKey | None = None) -> VerifyReport:
    """Check the whole log; the first problem found stops the check and is reported."""
    signer = signer_of(session)
    key = public_key or signer.public_key
    report = VerifyReport()
    checkpoints = {
        c.size: c
        for c in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars()
    }
    frontier = Frontier()
    started = datetime.now()

    def check_point(size: int) -> Problem | None:
        stored = checkpoints.get(size)
        if stored is None:
            return None
        try:
            signed = verify_checkpoint(stored.signed_note, key, signer.key_name)
        except CheckpointError as error:
            return Problem(size - 1, "signature", f"checkpoint at size {size}: {error}")
        if signed.size != size or signed.root != stored.root:
            return Problem(
                size - 1, "signature", f"checkpoint at size {size} does not match its note"
            )
        if frontier.root() != signed.root:
            return Problem(
                size - 1,
                "root",
                f"the entries up to seq {size - 1} do not give the "
                f"signed root of the checkpoint at size {size}",
            )
        report.checkpoints += 1
        report.signed_size = size
        return None

    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is not None:
        session.refresh(head)  # the append path updates the head with Core statements
    fragments = _Fragments()
    problem = check_point(0)
    rows = _rows(session) if problem is None else iter(())
    prev, prev_hex, size = b"", b"", 0
    append = frontier.append
    current = next(rows, None)
    while current is not None:  # the hot loop: about a million turns for a million entries
        following = next(rows, None)
        seq, body = current[0], current[9]
        if seq != size:
            problem = Problem(size, "gap", f"expected seq {size}, found {seq}")
            break
        leaf = leaf_hash(body)
        claimed = _prev_of(body)
        if claimed is not None and claimed != prev_hex:
            # Either this entry or the one before it changed: the next link tells which.
            if following is not None:
                this_intact = _prev_of(following[9]) == leaf.hex().encode()
            else:
                this_intact = head is not None and head.last_leaf == leaf
            culprit = seq - 1 if this_intact else seq
            problem = Problem(culprit, "body", f"entry {culprit} is not the one the log chained")
            break
        if not body.endswith(b'"seq":%d}' % seq):
            problem = Problem(seq, "body", "column seq does not match the hashed body")
            break
        if f'"person":{_uuid_text(current[5])}'.encode() not in body:
            problem = Problem(seq, "body", "column person does not match the hashed body")
            break
        for name, fragment in fragments.of(current):
            if fragment not in body:
                problem = Problem(seq, "body", f"column {name} does not match the hashed body")
                break
        if problem:
            break
        append(leaf)
        size += 1
        prev, prev_hex = leaf, leaf.hex().encode()
        if size in checkpoints:
            problem = check_point(size)
            if problem:
                break
        current = following
    report.size = frontier.size
    if problem is None and head is not None and head.size is not None:
        if head.size != frontier.size:
            problem = Problem(
                min(head.size, frontier.size),
                "head",
                f"the head says {head.size} entries, the table holds {frontier.size}",
            )
        elif head.last_leaf and head.last_leaf != prev:
            problem = Problem(frontier.size - 1, "body", f"entry {frontier.size - 1} changed")
        elif (
            Frontier.from_bytes(head.frontier).root() != frontier.root() if head.frontier else False
        ):
            problem = Problem(frontier.size - 1, "root", "the head's frontier does not match")
    missing = [size for size in checkpoints if size > frontier.size]
    if problem is None and missing:
        problem = Problem(
            frontier.size,
            "head",
            f"a checkpoint covers {max(missing)} entries, the table holds {frontier.size}",
        )
    report.problem = problem
    report.seconds = (datetime.now() - started).total_seconds()
    return report


def prove(
    session: Session, actor: Actor | None, org_id: uuid.UUID, since: datetime | None = None
) -> tuple[bytes, int]:
    """A bundle of the org's entries (about its cases or by its users) with inclusion proofs
    against the latest checkpoint, for checking with scripts/verify_audit_bundle.py. Logged."""
    signer = signer_of(session)
    latest = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)
    ).scalar_one_or_none()
    if latest is None or latest.size == 0:
        return make_bundle(
            signer.origin,
            latest.signed_note if latest else "",
            public_key_line(signer.key_name, signer.public_key),
            [],
        ), 0
    leaves = [
        leaf_hash(body)
        for (body,) in session.execute(
            select(AuditEntry.body).where(AuditEntry.seq < latest.size).order_by(AuditEntry.seq)
        )
    ]
    query = select(AuditEntry.seq, AuditEntry.body).where(
        AuditEntry.seq < latest.size,
        or_(AuditEntry.owner_org_id == org_id, AuditEntry.actor_org_id == org_id),
    )
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    chosen = session.execute(query.order_by(AuditEntry.seq)).all()
    proofs = inclusion_proofs(leaves, latest.size, [seq for seq, _ in chosen])
    bundle = make_bundle(
        signer.origin,
        latest.signed_note,
        public_key_line(signer.key_name, signer.public_key),
        [(seq, body, proofs[seq]) for seq, body in chosen],
    )
    # Every export of the log is itself in the log.
    audit_log.append(
        session,
        actor,
        [
            audit_log.EntryIn(
                "audit.prove",
                "organisation",
                org_id,
                org_id,
                result_count=len(chosen),
                extra={"checkpoint_size": latest.size},
            )
        ],
    )
    return bundle, len(chosen)
