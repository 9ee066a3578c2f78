"""Verifying the access log end to end, and proving an org's entries to an outside auditor.

`verify` streams every entry in seq order, recomputes its leaf and the tree, checks the copies in
the indexed columns against the hashed body, compares the root at every checkpoint and checks the
checkpoint's signature, and names the first bad seq and why. It trusts nothing in the database but
the signing key's public half.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from binascii import hexlify
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import add, eq, itemgetter
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from databank.audit import native
from databank.audit.bundle import make_bundle
from databank.audit.checkpoint import CheckpointError, public_key_line, verify_checkpoint
from databank.audit.merkle import Frontier, inclusion_proofs, leaf_hash
from databank.db import sqlite_unwritten
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


# The fast pass. `_scan` takes a turn of the interpreter per entry and searches every body for
# each indexed copy, a search through the whole body each time: profiling showed those searches
# take the largest part of its time after the fetch. `_fast_scan` checks the same things a batch
# of entries at a time, in loops that run in C (`map` over bytes methods, comprehensions), and
# looks for each copy where a template entry of the batch holds it, reading a few bytes of each
# body instead of all of them. It only ever accepts what `_scan` accepts: whatever it cannot
# vouch for sends the chunk back to `_scan`, whose report (first bad seq, kind, reason) is then
# the one given.
FAST_BATCH = 512  # rows per fetch: their bodies stay in the CPU's cache between the passes
_sha256 = hashlib.sha256
_LEAF, _NODE = b"\x00", b"\x01"
_SEQ_TAIL = b'"seq":%d}'
_NAMED_PREV = b'"prev":"%s"'
_QUOTE, _BRACE, _ZERO = ord('"'), ord("}"), ord("0")
_SEQ_KEY = np.frombuffer(b'"seq":', dtype=np.uint8)
# A full row's repeating columns (`_COMBO`), whose fragments `_Fragments` caches.
_combo = itemgetter(1, 2, 3, 4, 6, 7, 8)
# The fast pass's rows (`_FAST_COLUMNS`): seq, body, person, the JSON array of `_COMBO`.
_person, _key = itemgetter(2), itemgetter(3)


class _PersonFragments(dict[object, bytes]):
    """The person column as its fragment in the body, made on first sight (persons repeat);
    `map(fragments.__getitem__, column)` then runs in C."""

    def __missing__(self, value: object) -> bytes:
        fragment = f'"person":{_uuid_text(value)}'.encode()
        self[value] = fragment
        return fragment


def _unwitnessed(found: list[bool], rows: Iterable[int]) -> Iterator[int]:
    """The rows whose flag in `found` is False."""
    return (i for i, ok in zip(rows, found, strict=True) if not ok)


class _Shapes(dict[tuple[object, int], tuple[Any, Any]]):
    """Where a body holds its indexed copies, learnt once per shape and looked up after that.

    A shape is the columns' combination (the JSON array `_FAST_COLUMNS` reads) and where the
    body's chain link starts. Bodies of one shape mostly hold each copy at the same offsets: the
    copies before the link follow fields of set lengths, and those after it come right after the
    link (the purpose) or after a record id, which a kind of entry always has or never has (the
    owner). So the first body of a shape is searched for its copies, and the others are only cut
    where it held them. (With the body's length in the shape too, the bench's mixed log had twice
    as many shapes to learn, and verified 7 % slower.)

    The offsets are where to look, never what is proven: a body is witnessed only when the cut
    gives back the very fragments, and one that does not is checked the exact way. Entries of
    mixed kinds and actors share few shapes in a batch but many across the log, and a search of
    every body for every copy cost more than the fetch (profiled).
    """

    def learn(
        self, shape: tuple[object, int], body: bytes, fragments: _Fragments
    ) -> tuple[Any, Any] | None:
        """The cut and the fragments it must give for bodies of this shape, taken from `body`;
        None if `body` itself lacks a copy (the exact pass then names it)."""
        shared = fragments.of(shape[0])
        if shared is None:
            return None
        copies = tuple(fragment for _name, fragment in shared)
        found_at = list(map(body.find, copies))
        if min(found_at) < 0:
            return None
        # Copies close together are cut as one stretch of the body (the bytes between them, as
        # this body has them, included): fewer cuts per row. Whatever the stretch holds, a body
        # giving back this body's stretch holds every copy inside it.
        spans: list[list[int]] = []
        for start, end in sorted((at, at + len(f)) for at, f in zip(found_at, copies, strict=True)):
            if spans and start - spans[-1][1] <= _SPAN_GAP:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        cut = itemgetter(*(slice(start, end) for start, end in spans))
        stretches = tuple(body[start:end] for start, end in spans)
        learnt = (cut, stretches if len(stretches) > 1 else stretches[0])
        if len(self) < 100_000:
            self[shape] = learnt
        return learnt


# A process's fragments and shapes, kept from chunk to chunk: what they hold follows from their
# keys alone (a shape's offsets are only where to look), and both are bounded in size.
_FRAGMENTS = _Fragments()
_SHAPES = _Shapes()
_SPAN_GAP = 32  # bytes between two copies cut as one stretch
_NO_SHAPE = (itemgetter(slice(0, 0)), None)  # a cut that never gives what it must
_cut = itemgetter.__call__


def _witness_columns(
    rows: list[Any],
    bodies: list[bytes],
    links: list[int],
    fragments: _Fragments,
    persons: _PersonFragments,
    shapes: _Shapes,
) -> set[int] | None:
    """The rows (indices) whose indexed copies are not proven to be in their bodies, which the
    caller checks one by one; None if the person's copy cannot be placed at all.

    A body holding a fragment at some offset proves `fragment in body`, which is all
    `_column_problem` asks. The repeating columns' copies are cut where their shape's first
    body held them (`_Shapes`): a lookup, a cut and a compare per row, in loops that run in C.
    """
    n = len(rows)
    keys = list(zip(map(_key, rows), links, strict=True))
    known: list[Any] = list(map(shapes.get, keys))
    unproven: set[int] = set()
    if None in known:
        for i, shape in enumerate(known):
            if shape is None:
                learnt = shapes.get(keys[i]) or shapes.learn(keys[i], bodies[i], fragments)
                if learnt is None:
                    unproven.add(i)
                known[i] = learnt or _NO_SHAPE
    cut = list(map(_cut, map(itemgetter(0), known), bodies))
    found = list(map(eq, cut, map(itemgetter(1), known)))
    if found.count(True) != n:
        unproven.update(_unwitnessed(found, range(n)))
    # The person varies by row; its copy ends a fixed distance before the link.
    person = list(map(persons.__getitem__, map(_person, rows)))
    at = bodies[0].find(person[0])
    if at < 0:
        return None
    before = at + len(person[0]) - links[0]
    found = list(map(bytes.endswith, bodies, person, repeat(0), map(add, links, repeat(before))))
    if not all(found):
        unproven.update(_unwitnessed(found, range(n)))
    return unproven


def _chained(bodies: list[bytes], links: list[int], named: list[bytes]) -> list[bool] | None:
    """Whether each body names its leaf in `named` (the leaf hashes before them) as `prev`:
    None if all do, else one flag per body. `links` are where each body's first `"prev":"`
    starts; the leaf's hex and a closing quote right after it is just what `_prev_of` would
    read there. Where every link is at the same offset, one `itemgetter` cuts the names out and
    they are compared all at once."""
    link = links[0]
    if links.count(link) == len(links) and link >= 0:
        names = b"".join(map(itemgetter(slice(link + 8, link + 72)), bodies))
        quotes = list(map(itemgetter(slice(link + 72, link + 73)), bodies))
        if names == hexlify(b"".join(named)) and quotes.count(b'"') == len(quotes):
            return None
    claims = map(_NAMED_PREV.__mod__, map(hexlify, named))
    chained = list(map(bytes.startswith, bodies, claims, links))
    return None if all(chained) else chained


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """The levels of the tree over these leaf hashes, bottom up: each level the node hashes over
    pairs of the level below (an odd last node is in no perfect subtree above it)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = iter(levels[-1])
        levels.append(
            [
                _sha256(_NODE + left + right).digest()
                for left, right in zip(below, below, strict=False)
            ]
        )
    return levels


def _frontier_at(levels: Sequence[Any], count: int) -> tuple[bytes, ...]:
    """The frontier of the first `count` leaves of a subtree whose levels are given (level 0
    the leaves, level k the nodes over 2**k leaves): one perfect subtree per set bit of count,
    largest first, as `Frontier` keeps it."""
    hashes = []
    start = 0
    for height in range(count.bit_length() - 1, -1, -1):
        if count >> height & 1:
            hashes.append(levels[height][start >> height])
            start += 1 << height
    return tuple(hashes)


# Where the 32 hex digits of a person id stand in its fragment `"person":"8-4-4-4-12"` (47
# bytes), and where its fixed bytes (key, quotes, dashes) stand.
_PERSON_HEX = np.array(
    [10 + i + (i > 7) + (i > 11) + (i > 15) + (i > 19) for i in range(32)], dtype=np.intp
)
_PERSON_FIXED = np.setdiff1d(np.arange(47), _PERSON_HEX)


def _people_at(rows: Any, at: int, batch: list[Any], persons: _PersonFragments) -> bool:
    """Whether every row holds its own person's fragment at `at` (where the first row holds
    its own). SQLite gives the ids as 32 hex digits: they are compared with the bodies as one
    array, the dashes and quotes around them with the first body's; other ids (PostgreSQL's
    UUIDs, nulls) are made into fragments one by one."""
    ids = list(map(_person, batch))
    n = len(ids)
    if isinstance(ids[0], str):
        try:
            digits = "".join(ids).encode("ascii")
        except (TypeError, UnicodeEncodeError):
            digits = b""
        if len(digits) == 32 * n and list(map(len, ids)).count(32) == n:
            fixed = _PERSON_FIXED + at
            return bool(
                (rows[:, fixed] == rows[0, fixed]).all()
                and (
                    rows[:, _PERSON_HEX + at] == np.frombuffer(digits, np.uint8).reshape(n, 32)
                ).all()
            )
    people = list(map(persons.__getitem__, ids))
    width = len(people[0])
    if list(map(len, people)).count(width) != n:
        return False
    return bool(rows[:, at : at + width].tobytes() == b"".join(people))


def _same_shape(
    batch: list[Any],
    bodies: list[bytes],
    links: list[int],
    named: list[bytes],
    skip: int,
    size: int,
    fragments: _Fragments,
    persons: _PersonFragments,
) -> bool:
    """Whether a batch whose bodies all have one length and their chain link at one offset
    passes every check of the fast pass: checked as one array of bytes, a row per body, with
    no turn of the interpreter per entry. False proves nothing wrong, only that this way does
    not apply (the caller then checks the batch entry by entry).

    Each check reads the bytes `_column_problem` and `_prev_of` would find at the offsets
    where the first body holds them: its copies of the indexed columns (the same columns in
    every row, so the same fragments), the person (a fragment per row), the link after
    `"prev":"` (the leaf before each entry) and the `"seq":N}` tail (N counted in the array).
    """
    n, length, link = len(bodies), len(bodies[0]), links[0]
    if link < 0 or links.count(link) != n or list(map(len, bodies)).count(length) != n:
        return False
    combos = list(map(_key, batch))
    if combos.count(combos[0]) != n:
        return False
    template = bodies[0]
    person_at = template.find(persons[_person(batch[0])])
    shared = fragments.of(_key(batch[0]))
    if shared is None:
        return False
    copies = [fragment for _name, fragment in shared]
    found_at = [template.find(fragment) for fragment in copies]
    if person_at < 0 or min(found_at) < 0:
        return False
    first, last = size, size + n - 1
    digits = len(str(last))
    if len(str(first)) != digits:  # the tail's length changes inside the batch
        return False
    rows = np.frombuffer(b"".join(bodies), dtype=np.uint8).reshape(n, length)
    # The indexed copies: every row holds the first body's bytes where that body holds them.
    at = np.concatenate([np.arange(a, a + len(f)) for a, f in zip(found_at, copies, strict=True)])
    if not (rows[:, at] == rows[0, at]).all():
        return False
    # The person, each row its own, where the first body holds its own.
    if not _people_at(rows, person_at, batch, persons):
        return False
    # The chain: after each `"prev":"`, the hex of the leaf before, then a closing quote.
    if n > skip:
        names = rows[skip:, link + 8 : link + 72].tobytes()
        if names != hexlify(b"".join(named)) or not (rows[skip:, link + 72] == _QUOTE).all():
            return False
    # The seq: `"seq":`, the row's seq in decimal (counted here), the body's closing brace.
    start = length - len(_SEQ_TAIL % first)
    if start < 0:
        return False
    if not (rows[:, start : start + 6] == _SEQ_KEY).all() or not (rows[:, -1] == _BRACE).all():
        return False
    seqs = np.arange(first, last + 1, dtype=np.int64)[:, None]
    decimal = seqs // 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64) % 10 + _ZERO
    return bool((rows[:, start + 6 : -1] == decimal).all())


def _fast_scan(
    batches: Iterable[list[Any]],
    lo: int,
    hi: int,
    head_last_leaf: bytes | None,
    checkpoint_sizes: frozenset[int],
) -> _Chunk | None:
    """What `_scan` gives for the entries lo..hi-1 when they have no problem, worked out a batch
    at a time; None if anything is wrong or not proven (then `_scan` gives the exact report).

    The chunk's subtree is built level by level, each level a list of node hashes over pairs of
    the level below, and the frontier at any size inside the chunk is read off those levels.
    """
    fragments, shapes = _FRAGMENTS, _SHAPES
    persons = _PersonFragments()
    leaves: list[bytes] = []
    first_body = b""
    stream: list[Any] = []  # the chunk's first rows and the one after hi: the links at its ends
    size = lo
    for batch in batches:
        if len(stream) < 2:
            stream.extend(batch[:2])
        if size + len(batch) > hi:
            batch = batch[: hi - size]
            if not batch:
                continue
        n = len(batch)
        if list(map(itemgetter(0), batch)) != list(range(size, size + n)):
            return None
        bodies = list(map(itemgetter(1), batch))
        # RFC 6962 leaves, as merkle.leaf_hash makes them (a function call per entry costs here).
        hashed = [_sha256(_LEAF + body).digest() for body in bodies]
        links = list(map(bytes.find, bodies, repeat(_PREV)))
        # Each body names the leaf before it; the chunk's first link is left to the caller.
        # `startswith` at the first `"prev":"` holds just when `_prev_of` gives that leaf.
        skip = 1 if size == lo else 0
        named = hashed[:-1] if skip else leaves[-1:] + hashed[:-1]
        if not _same_shape(batch, bodies, links, named, skip, size, fragments, persons):
            seqs = map(_SEQ_TAIL.__mod__, range(size, size + n))
            if not all(map(bytes.endswith, bodies, seqs)):
                return None  # column seq against the body
            chained = _chained(bodies[skip:], links[skip:], named) if n > skip else None
            if chained is not None:
                for i in _unwitnessed(chained, range(skip, n)):
                    if _prev_of(bodies[i]) is not None:
                        return None  # a broken link (a body naming none is older than the chain)
            unproven = _witness_columns(batch, bodies, links, fragments, persons, shapes)
            if unproven is None:
                unproven = set(range(n))
            for i in sorted(unproven):
                row = batch[i]
                if _copies_problem(row[0], _person(row), _key(row), bodies[i], fragments):
                    return None
        if size == lo:
            first_body = bodies[0]
        leaves.extend(hashed)
        size += n
    if size != hi or size == lo:
        return None
    levels = _levels(leaves)
    chunk = _Chunk(lo, count=size - lo, subtree=_frontier_at(levels, size - lo))
    for at in checkpoint_sizes:
        if lo < at <= size:
            chunk.at_checkpoints[at] = _frontier_at(levels, at - lo)
    following = stream[1][1] if len(stream) > 1 else None
    chunk.first_claim = _prev_of(first_body)
    chunk.first_intact = _still_named(following, leaves[0], hexlify(leaves[0]), head_last_leaf)
    chunk.last_leaf = leaves[-1]
    return chunk


def _fast_check(
    dbapi: Any,
    dialect: str,
    lo: int,
    hi: int,
    head_last_leaf: bytes | None,
    sizes: frozenset[int],
    batch: int = FAST_BATCH,
) -> _Chunk | None:
    """The bulk pass over the chunk lo..hi-1, None if it finds or doubts anything. Data it
    cannot even handle (a body that is not bytes, a column SQLite cannot put in a JSON array,
    say) is the exact pass's to judge too, so that both ways always give the same report."""
    batches = _batches(dbapi, dialect, lo, hi, batch, _FAST_COLUMNS[dialect])
    try:
        return _fast_scan(batches, lo, hi, head_last_leaf, sizes)
    except (TypeError, ValueError, IndexError, AttributeError, sqlite3.Error):
        return None
    finally:
        batches.close()


class _Packed:
    """A level of a subtree as the C pass gives it: its node hashes, 32 bytes each, in one
    bytes object; `level[i]` is node i, as in the lists `_levels` makes."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __getitem__(self, i: int) -> bytes:
        return self.data[32 * i : 32 * i + 32]


def _native_check(path: str, lo: int, hi: int, sizes: frozenset[int]) -> _Chunk | None:
    """The bulk pass in C (`databank.audit.native`) over the chunk lo..hi-1 of the SQLite
    file at `path`: None if it doubts anything. It checks every link inside the chunk, so the
    second entry names the first one's leaf (`first_intact`); chunks of one entry are left to
    the Python passes, which look at the entry after the chunk for that."""
    if hi - lo < 2:
        return None
    found = native.scan(path, lo, hi)
    if found is None:
        return None
    packed, first_claim = found
    levels = [_Packed(level) for level in packed]
    chunk = _Chunk(lo, count=hi - lo, subtree=_frontier_at(levels, hi - lo))
    for at in sizes:
        if lo < at <= hi:
            chunk.at_checkpoints[at] = _frontier_at(levels, at - lo)
    chunk.first_claim = first_claim
    chunk.first_intact = True
    chunk.last_leaf = packed[0][-32:]
    chunk.native = True
    return chunk


def _check(
    dbapi: Any,
    dialect: str,
    lo: int,
    hi: int,
    head_last_leaf: bytes | None,
    sizes: frozenset[int],
    native_path: str | None = None,
) -> _Chunk:
    """The chunk lo..hi-1 checked in bulk (in C, given the SQLite file to read it from, else in
    Python), or exactly when the bulk pass finds or doubts anything."""
    chunk = _native_check(native_path, lo, hi, sizes) if native_path else None
    if chunk is None:
        chunk = _fast_check(dbapi, dialect, lo, hi, head_last_leaf, sizes)
    if chunk is None:
        chunk = _scan(_rows(dbapi, dialect, lo, hi), lo, hi, head_last_leaf, sizes)
    return chunk


_Job = tuple[int, int, bytes | None, frozenset[int]]

# A verifying process's own connection (processes never share one).
_worker_engine: Any = None


def _worker_start(url: str) -> None:
    global _worker_engine  # one engine per worker process
    from databank.db import create_engine

    _worker_engine = create_engine(url)


def _worker_scan(job: _Job) -> _Chunk:
    lo, hi, head_last_leaf, sizes = job
    native_path = _native_path(_worker_engine)
    connection = _worker_engine.raw_connection()
    try:
        dbapi, dialect = connection.dbapi_connection, _worker_engine.dialect.name
        return _check(dbapi, dialect, lo, hi, head_last_leaf, sizes, native_path)
    finally:
        connection.close()


def _native_path(engine: Engine) -> str | None:
    """The SQLite file the C bulk pass can read the log from through a connection of its own,
    or None: not SQLite, not a plain file, or the pass not here (`native.available`)."""
    url = engine.url
    if engine.dialect.name != "sqlite" or url.query or not native.available():
        return None
    database = url.database
    return database if database and database != ":memory:" else None


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _can_share(session: Session) -> bool:
    """Other processes can read the log only from a database they can open themselves."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        return True
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"


def _chunks(session: Session, jobs: list[_Job], workers: int) -> Iterator[_Chunk]:
    """The chunks checked in seq order: here, or by `workers` processes that each open their
    own connection (so what they check must be committed). Every run learns its shapes
    afresh (and so is timed as a run from the command line would be)."""
    _SHAPES.clear()
    _FRAGMENTS.clear()
    if workers <= 1 or len(jobs) <= 1:
        connection = session.connection()
        dbapi = connection.connection
        dialect = session.get_bind().dialect.name
        # The C pass reads through a connection of its own: only when that one sees just what
        # this session sees (it has written nothing, and holds the write lock).
        native_path = _native_path(_engine(session)) if sqlite_unwritten(connection) else None
        for lo, hi, last, sizes in jobs:
            yield _check(dbapi, dialect, lo, hi, last, sizes, native_path)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    url = _engine(session).url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    # Not `multiprocessing.Pool`: leaving it early (verify stops at the first problem) terminates
    # its workers, and one killed while sending a result keeps the result queue's lock, which hung
    # the next `put` for good (seen in CI). Here, leaving early cancels the chunks not started and
    # waits for the few running ones; no worker is killed.
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(url,)
    ) as pool:
        futures = [pool.submit(_worker_scan, job) for job in jobs]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def verify(
    session: Session,
    public_key: Ed25519PublicKey | None = None,
    *,
    workers: int | None = None,
    chunk: int | None = None,
) -> VerifyReport:
    """Check the whole log; the first problem found stops the check and is reported.

    The entries are checked in chunks of seq (fetch, leaf hash, chain link, indexed copies, the
    chunk's subtree); with `workers` > 1 (by default one per CPU, for a large log in a database
    other processes can open) by that many processes. This one joins the chunks in seq order,
    checking the root at every checkpoint. Both ways report the same problem.
    """
    chunk = chunk or CHUNK
    if chunk & (chunk - 1):
        raise ValueError("the chunk size must be a power of two")
    signer = signer_of(session)
    key = public_key or signer.public_key
    report = VerifyReport()
    checkpoints = {
        c.size: c
        for c in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars()
    }
    started = time.monotonic()

    def check_point(size: int, root: bytes) -> Problem | None:
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
        if root != signed.root:
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
    last_seq = session.scalar(select(func.max(AuditEntry.seq)))
    end = 0 if last_seq is None else last_seq + 1
    if workers is None:
        workers = (os.cpu_count() or 1) if end >= PARALLEL_MIN and _can_share(session) else 1
    report.extra["workers"] = workers
    head_last_leaf = head.last_leaf if head is not None else None
    jobs: list[_Job] = [
        (
            lo,
            min(lo + chunk, end),
            head_last_leaf,
            frozenset(s for s in checkpoints if lo < s <= lo + chunk),
        )
        for lo in range(0, end, chunk)
    ]
    full = Frontier()  # over the full chunks' subtree roots: the log's frontier at a chunk start
    tail: tuple[bytes, ...] = ()  # the frontier of the entries after the full chunks
    size, prev = 0, b""
    problem = check_point(0, Frontier().root())
    report.extra["native_chunks"] = 0
    for part in _chunks(session, jobs, workers) if problem is None else ():
        report.extra["native_chunks"] += part.native
        inner = part.problem
        if inner is not None and (inner.seq, inner.kind) == (part.lo, "gap"):
            problem = inner
            break
        if part.first_claim is not None and part.first_claim != prev.hex().encode():
            culprit = part.lo - 1 if part.first_intact else part.lo
            problem = Problem(culprit, "body", f"entry {culprit} is not the one the log chained")
            break
        for at in sorted(part.at_checkpoints):
            if at == part.lo + chunk:  # the chunk's end: its subtree is complete, joined as below
                joined = Frontier(full.size, full.hashes)
                joined.append(part.at_checkpoints[at][0])
                root = Frontier(at, joined.hashes).root()
            else:
                root = Frontier(at, full.hashes + part.at_checkpoints[at]).root()
            problem = check_point(at, root)
            if problem:
                break
        problem = problem or inner
        size, prev = part.lo + part.count, part.last_leaf or prev
        if problem is not None:
            break
        if part.count == chunk:
            [subtree_root] = part.subtree
            full.append(subtree_root)  # a perfect subtree joins the tree like a leaf one level up
        else:
            tail = part.subtree
    report.size = size
    if problem is None and head is not None and head.size is not None:
        frontier = Frontier(size, full.hashes + tail)
        if head.size != size:
            problem = Problem(
                min(head.size, size),
                "head",
                f"the head says {head.size} entries, the table holds {size}",
            )
        elif head.last_leaf and head.last_leaf != prev:
            problem = Problem(size - 1, "body", f"entry {size - 1} changed")
        elif (
            Frontier.from_bytes(head.frontier).root() != frontier.root() if head.frontier else False
        ):
            problem = Problem(size - 1, "root", "the head's frontier does not match")
    missing = [s for s in checkpoints if s > size]
    if problem is None and missing:
        problem = Problem(
            size,
            "head",
            f"a checkpoint covers {max(missing)} entries, the table holds {size}",
        )
    report.problem = problem
    report.seconds = time.monotonic() - started
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
