"""The exact pass of `audit verify` over a chunk of the log: one entry at a time, every check.

Seq continuity, the `prev` chain, the indexed copies against the hashed body, the leaves into the
chunk's subtree; the first problem stops the pass and is named. Pure: it reads the rows a DB-API
cursor gives and trusts nothing but the bodies' hashes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from databank.audit.merkle import Frontier, leaf_hash

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
        self._cache: dict[object, tuple[tuple[str, bytes], ...] | None] = {}

    def clear(self) -> None:
        self._cache.clear()

    def of(self, key: object) -> tuple[tuple[str, bytes], ...] | None:
        """The fragments of the columns `key` stands for: a tuple of the seven (`_combo` of a
        row), or the JSON array of them the database wrote (`_FAST_COLUMNS`); None if that
        array holds anything but strings and nulls (the exact pass then judges the entry)."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        columns = _combo_values(key)
        shared: tuple[tuple[str, bytes], ...] | None = None
        if columns is not None:
            event, actor_user, actor_org, owner, purpose, decision, area = columns
            found = [
                ("event", f'"event":{_json_str(event)}'.encode()),
                ("owner", f'"owner":{_uuid_text(owner)}'.encode()),
                ("purpose", f'"purpose":{_json_str(purpose)}'.encode()),
                ("decision", f'"decision":{_json_str(decision)}'.encode()),
                ("area", f'"area":{_json_str(area)}'.encode()),
            ]
            # An entry with no actor has `"actor":null`; one by an actor without a user (a
            # system or bench actor of an org) has `"user":null` in its actor.
            if actor_org is not None:
                found.append(("actor_org", f'"org":{_uuid_text(actor_org)}'.encode()))
            else:
                found.append(("actor_org", b'"actor":null'))
            if actor_user is not None:
                found.append(("actor_user", f'"user":{_uuid_text(actor_user)}'.encode()))
            elif actor_org is not None:
                found.append(("actor_user", b'"user":null'))
            shared = tuple(found)
        if len(self._cache) < 100_000:
            self._cache[key] = shared
        return shared


def _combo_values(key: object) -> tuple[Any, ...] | None:
    if isinstance(key, tuple):
        return key
    values = json.loads(key) if isinstance(key, str) else None
    if (
        isinstance(values, list)
        and len(values) == len(_COMBO)
        and all(value is None or isinstance(value, str) for value in values)
    ):
        return tuple(values)
    return None


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
# A full row's repeating columns (`_COMBO`), whose fragments `_Fragments` caches.
_combo = itemgetter(1, 2, 3, 4, 6, 7, 8)
# The columns whose values repeat across entries, in the order `_combo` takes them from a row.
_COMBO = ("event", "actor_user_id", "actor_org_id", "owner_org_id", "purpose", "decision", "area")
# What the fast pass reads of an entry: those seven as one value, the JSON array the database
# makes of them. Equal columns give equal arrays (and the array, once per distinct value, gives
# the columns back), and one value per row costs the driver and the interpreter a fraction of
# seven: the fetch was the largest part of verify's time (profiled).
_FAST_COLUMNS = {
    "sqlite": f"seq, body, person_id, json_array({', '.join(_COMBO)})",
    "postgresql": f"seq, body, person_id, json_build_array({', '.join(_COMBO)})::text",
}
# Entries per chunk: the unit of work of a verifying process. A power of two, so that every full
# chunk is one perfect subtree of the log's Merkle tree, whose root the process computes itself.
CHUNK = 65_536
# Below this many entries a single process is quicker than starting others.
PARALLEL_MIN = 200_000


def _batches(
    dbapi: Any, dialect: str, lo: int, hi: int, size: int, columns: str = _COLUMNS
) -> Generator[list[Any], None, None]:
    """The entries from seq lo on, in seq order, as many as lo..hi holds (so one more than the
    chunk: whichever entry comes next, even past a gap), straight from the driver's cursor, in
    lists of `size` rows.

    Profiling showed SQLAlchemy's result layer cost four times the driver's own fetch here, and
    verify reads every entry, so this one query goes to the DB-API cursor directly.
    """
    marker = "?" if dialect == "sqlite" else "%s"
    query = (
        f"SELECT {columns} FROM audit_entries "  # noqa: S608 - constants only
        f"WHERE seq >= {marker} ORDER BY seq LIMIT {marker}"
    )
    cursor = dbapi.cursor()
    try:
        cursor.execute(query, (lo, hi - lo + 1))
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()


def _rows(dbapi: Any, dialect: str, lo: int, hi: int) -> Iterator[Any]:
    """The rows of `_batches` one by one."""
    for batch in _batches(dbapi, dialect, lo, hi, _BATCH):
        yield from batch


@dataclass
class _Chunk:
    """What one pass over the entries lo..hi-1 found, using nothing but the entries themselves.

    `subtree` is the frontier of the chunk's own leaves; because lo is a multiple of the chunk
    size, the log's frontier at any size inside the chunk is the frontier of the full chunks
    before it followed by this one (`at_checkpoints` keeps it at each checkpoint's size). The
    link from the first entry to the one before it crosses into the previous chunk, so it is
    left to the caller: `first_claim` is the leaf the first entry names as its predecessor, and
    `first_intact` whether the entry after it still names the first entry's leaf (which tells,
    if that link is broken, whether the first entry or the one before it changed).
    """

    lo: int
    count: int = 0
    subtree: tuple[bytes, ...] = ()
    at_checkpoints: dict[int, tuple[bytes, ...]] = field(default_factory=dict)
    first_claim: bytes | None = None
    first_intact: bool = True
    last_leaf: bytes = b""
    problem: Problem | None = None
    native: bool = False  # vouched for by the C pass


def _scan(
    rows: Iterator[Any],
    lo: int,
    hi: int,
    head_last_leaf: bytes | None,
    checkpoint_sizes: frozenset[int],
) -> _Chunk:
    """Check the entries lo..hi-1: no gap, each body chained to the one before, the indexed
    copies equal to the body; hash them into the chunk's subtree. `rows` may run one entry past
    hi (used to tell which of two entries changed); the first problem stops the pass."""
    chunk = _Chunk(lo)
    fragments = _Fragments()
    subtree = Frontier()
    append = subtree.append
    prev_hex, last = b"", b""
    size = lo
    current = next(rows, None)
    while current is not None and size < hi:  # the hot loop: a turn per entry
        following = next(rows, None)
        seq, body = current[0], current[9]
        if seq != size:
            chunk.problem = Problem(size, "gap", f"expected seq {size}, found {seq}")
            break
        leaf = leaf_hash(body)
        leaf_hex = leaf.hex().encode()
        claimed = _prev_of(body)
        if size == lo:
            chunk.first_claim = claimed
            chunk.first_intact = _still_named(
                following and following[9], leaf, leaf_hex, head_last_leaf
            )
        elif claimed is not None and claimed != prev_hex:
            # Either this entry or the one before it changed: the next link tells which.
            intact = _still_named(following and following[9], leaf, leaf_hex, head_last_leaf)
            culprit = seq - 1 if intact else seq
            chunk.problem = Problem(
                culprit, "body", f"entry {culprit} is not the one the log chained"
            )
            break
        problem = _column_problem(current, body, fragments)
        if problem is not None:
            chunk.problem = problem
            break
        append(leaf)
        size += 1
        prev_hex, last = leaf_hex, leaf
        if size in checkpoint_sizes:
            chunk.at_checkpoints[size] = subtree.hashes
        current = following
    if size > lo:
        chunk.last_leaf = last
    chunk.count = size - lo
    chunk.subtree = subtree.hashes
    if chunk.problem is None and size < hi:  # cannot happen below the highest seq; kept honest
        chunk.problem = Problem(size, "gap", f"expected seq {size}, found none")
    return chunk


def _still_named(
    following: bytes | None, leaf: bytes, leaf_hex: bytes, head_last_leaf: bytes | None
) -> bool:
    """Whether the entry after this one (its body; None for the last: then the head) still
    names this leaf."""
    if following is not None:
        return _prev_of(following) == leaf_hex
    return head_last_leaf == leaf


def _column_problem(row: Any, body: bytes, fragments: _Fragments) -> Problem | None:
    """The first indexed copy of a full row (`_COLUMNS`) that its hashed body does not hold."""
    return _copies_problem(row[0], row[5], _combo(row), body, fragments)


def _copies_problem(
    seq: int, person: object, key: object, body: bytes, fragments: _Fragments
) -> Problem | None:
    if not body.endswith(b'"seq":%d}' % seq):
        return Problem(seq, "body", "column seq does not match the hashed body")
    if f'"person":{_uuid_text(person)}'.encode() not in body:
        return Problem(seq, "body", "column person does not match the hashed body")
    copies = fragments.of(key)
    if copies is None:
        return Problem(seq, "body", "the indexed columns cannot be read back")
    for name, fragment in copies:
        if fragment not in body:
            return Problem(seq, "body", f"column {name} does not match the hashed body")
    return None
