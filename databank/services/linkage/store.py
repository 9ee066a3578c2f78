"""A subject's encodings as the zone stores them, and the pool as the matcher reads it.

One row of `linkage_records` per subject holds its keyed encodings (linkage/encoding.py: keyed
tokens, Bloom filters) serialised as compact binary, with the encoding schema's version beside.
Nothing here is a clear identifier: the zone encodes from the identifiers a service hands it
(registration, a correction) and keeps only the result.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from databank.domain.enums import SubjectStatus
from databank.linkage.encoding import (
    BLOOM_COLUMNS,
    ENCODING_SCHEMA_VERSION,
    TOKEN_COLUMNS,
    TOKEN_HEX,
)
from databank.models import Subject
from databank.models.linkage import LinkageRecord

if TYPE_CHECKING:
    import pandas as pd

TOKEN_BYTES = TOKEN_HEX // 2
# One presence bit per token and filter column, in 4 bytes.
assert len(TOKEN_COLUMNS) + len(BLOOM_COLUMNS) <= 32  # noqa: S101
FLAG_COLUMNS = ("dob_jan1",)
_FORMAT = 1  # the stored layout below (not the encoding schema, which is stored beside it)


def serialise(row: dict[str, Any]) -> bytes:
    """One encoded record (a row of the encoder's frame) as the bytes the zone stores: binary,
    not text (keyed tokens and filters written as base64 or hex text would make runs of letters
    in which a name can turn up by chance, and a scan of the raw database for clear names could
    not tell them apart). Layout: format, a presence bit per token and filter, the flags, then
    each present token (8 bytes) and filter (2-byte length, bytes)."""
    present = 0
    body = bytearray()
    # Absent values come as None, or as NaN from a frame column that holds no value at all.
    for i, column in enumerate(TOKEN_COLUMNS):
        value = row.get(column)
        if isinstance(value, str):
            present |= 1 << i
            body += bytes.fromhex(value)
    for i, column in enumerate(BLOOM_COLUMNS, start=len(TOKEN_COLUMNS)):
        value = row.get(column)
        if isinstance(value, bytes | bytearray):
            present |= 1 << i
            body += len(value).to_bytes(2, "big") + bytes(value)
    flags = sum(1 << i for i, c in enumerate(FLAG_COLUMNS) if row.get(c))
    return bytes([_FORMAT]) + present.to_bytes(4, "big") + bytes([flags]) + bytes(body)


def deserialise(data: bytes) -> dict[str, Any]:
    if not data or data[0] != _FORMAT:
        raise ValueError("unknown stored encoding format")
    present = int.from_bytes(data[1:5], "big")
    flags = data[5]
    at = 6
    row: dict[str, Any] = {}
    for i, column in enumerate(TOKEN_COLUMNS):
        if present >> i & 1:
            row[column] = data[at : at + TOKEN_BYTES].hex()
            at += TOKEN_BYTES
        else:
            row[column] = None
    for i, column in enumerate(BLOOM_COLUMNS, start=len(TOKEN_COLUMNS)):
        if present >> i & 1:
            length = int.from_bytes(data[at : at + 2], "big")
            row[column] = bytes(data[at + 2 : at + 2 + length])
            at += 2 + length
        else:
            row[column] = None
    for i, column in enumerate(FLAG_COLUMNS):
        row[column] = bool(flags >> i & 1)
    return row


def frame(rows: Sequence[tuple[uuid.UUID, bytes]]) -> pd.DataFrame:
    """The matcher's frame of (subject, stored encoding) rows: `record_id` is the subject id."""
    import pandas as pd

    columns = ("record_id", *TOKEN_COLUMNS, *BLOOM_COLUMNS, *FLAG_COLUMNS)
    records = [{"record_id": str(subject), **deserialise(data)} for subject, data in rows]
    return pd.DataFrame.from_records(records, columns=columns)


# An active subject whose stored encoding is of the current schema: a member of the pool.
_ACTIVE = Subject.status == SubjectStatus.ACTIVE
_CURRENT = and_(
    LinkageRecord.encoding.is_not(None),
    LinkageRecord.schema_version == ENCODING_SCHEMA_VERSION,
)


def pool_rows(
    session: Session, subject_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, bytes]]:
    """Every active subject's stored encoding of the current schema (the pool), oldest first;
    only those of `subject_ids` when given (a pool kept in memory reads what it lacks)."""
    query = (
        select(LinkageRecord.subject_id, LinkageRecord.encoding)
        .join(Subject, Subject.id == LinkageRecord.subject_id)
        .where(_ACTIVE, _CURRENT, LinkageRecord.encoding.is_not(None))
        .order_by(LinkageRecord.created_at, LinkageRecord.subject_id)
    )
    if subject_ids is None:
        return [(s, bytes(e)) for s, e in session.execute(query) if e]
    found: list[tuple[uuid.UUID, bytes]] = []
    wanted = list(subject_ids)
    for start in range(0, len(wanted), 500):
        part = query.where(LinkageRecord.subject_id.in_(wanted[start : start + 500]))
        found.extend((s, bytes(e)) for s, e in session.execute(part) if e)
    return found


def pool_ids(session: Session) -> list[uuid.UUID]:
    """The pool's subjects (as `pool_rows`), without their encodings: what a link job reads to
    see what its kept pool lacks."""
    query = (
        select(LinkageRecord.subject_id)
        .join(Subject, Subject.id == LinkageRecord.subject_id)
        .where(_ACTIVE, _CURRENT, LinkageRecord.encoding.is_not(None))
    )
    return list(session.scalars(query))


def _count(session: Session, condition: ColumnElement[bool]) -> int:
    query = (
        select(func.count())
        .select_from(LinkageRecord)
        .join(Subject, Subject.id == LinkageRecord.subject_id)
        .where(_ACTIVE, condition)
    )
    return session.scalar(query) or 0


def encoded(session: Session) -> int:
    """Active subjects with an encoding of the current schema (the pool's size)."""
    return _count(session, _CURRENT)


def waiting(session: Session) -> int:
    """Active subjects with no encoding of the current schema (enrolled before it)."""
    stale = LinkageRecord.schema_version.is_distinct_from(ENCODING_SCHEMA_VERSION)
    return _count(session, or_(LinkageRecord.encoding.is_(None), stale))
