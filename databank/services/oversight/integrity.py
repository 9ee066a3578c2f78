"""Verifying the access log end to end: `databank audit verify`.

`verify` streams every entry in seq order, recomputes its leaf and the tree, checks the copies in
the indexed columns against the hashed body, compares the root at every checkpoint and checks the
checkpoint's signature, and names the first bad seq and why. It trusts nothing in the database but
the signing key's public half.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from databank.audit import native
from databank.audit.bulk_scan import _check, forget_shapes
from databank.audit.checkpoint import CheckpointError, verify_checkpoint
from databank.audit.merkle import Frontier
from databank.audit.scan import CHUNK, PARALLEL_MIN, Problem, VerifyReport, _Chunk
from databank.db import sqlite_unwritten
from databank.models import AuditCheckpoint, AuditEntry, AuditHead
from databank.services.auditlog.signer import signer_of

_Job = tuple[int, int, bytes | None, frozenset[int]]

# A verifying process's own connection (processes never share one), and the SQLite file its C
# pass reads (None: the Python passes), decided by the process that started it.
_worker_engine: Any = None
_worker_native: str | None = None


def _worker_start(url: str, native_path: str | None) -> None:
    global _worker_engine, _worker_native  # one engine per worker process
    from databank.db import create_engine

    _worker_engine = create_engine(url)
    _worker_native = native_path


def _worker_scan(job: _Job) -> _Chunk:
    lo, hi, head_last_leaf, sizes = job
    native_path = _worker_native
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
    forget_shapes()
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
    # Not "fork": a forked child inherits a copy of every thread's state (DuckDB's, OpenBLAS's,
    # OpenDP's, loaded by then in a long-lived process) and crashed collecting it (a segfault
    # seen in the suite). The fork server is a fresh interpreter that imports this module once,
    # then forks each worker from that clean state.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # Not `multiprocessing.Pool`: leaving it early (verify stops at the first problem) terminates
    # its workers, and one killed while sending a result keeps the result queue's lock, which hung
    # the next `put` for good (seen in CI). Here, leaving early cancels the chunks not started and
    # waits for the few running ones; no worker is killed.
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_start,
        initargs=(url, _native_path(_engine(session))),
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

    # The columns verify checks, read afresh (the append path updates them with Core statements).
    head = session.execute(
        select(AuditHead.size, AuditHead.frontier, AuditHead.last_leaf).where(AuditHead.id == 1)
    ).one_or_none()
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
