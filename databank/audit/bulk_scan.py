"""The bulk passes of `audit verify`: a batch of entries at a time in C-level loops, or in C.

They only ever accept what the exact pass (`scan`) accepts; whatever they cannot vouch for sends
the chunk back to it, and its report is the one given.
"""

from __future__ import annotations

import hashlib
import sqlite3
from binascii import hexlify
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from operator import add, eq, itemgetter
from typing import Any

import numpy as np

from databank.audit import native
from databank.audit.scan import (
    _FAST_COLUMNS,
    _PREV,
    _batches,
    _Chunk,
    _copies_problem,
    _Fragments,
    _prev_of,
    _rows,
    _scan,
    _still_named,
    _uuid_text,
)

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


def forget_shapes() -> None:
    """Start learning shapes afresh (a new run of verify is timed as a new process's)."""
    _SHAPES.clear()
    _FRAGMENTS.clear()


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
