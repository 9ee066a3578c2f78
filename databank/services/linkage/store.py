"""A subject's encodings as the zone stores them, and the pool as the matcher reads it.

One row of `linkage_records` per subject holds its keyed encodings (linkage/encoding.py: keyed
tokens as hex, Bloom filters as bytes) serialised as compact JSON with the encoding schema's
version. Nothing here is a clear identifier: the zone encodes from the identifiers a service hands
it (registration, a correction) and keeps only the result.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import SubjectStatus
from databank.linkage.encoding import BLOOM_COLUMNS, ENCODING_SCHEMA_VERSION, TOKEN_COLUMNS
from databank.models import Subject
from databank.models.linkage import LinkageRecord

if TYPE_CHECKING:
    import pandas as pd

FLAG_COLUMNS = ("dob_jan1",)


def serialise(row: dict[str, Any]) -> bytes:
    """One encoded record (a row of the encoder's frame) as the bytes the zone stores."""
    document = {
        "t": {c: row.get(c) for c in TOKEN_COLUMNS},
        "b": {
            c: None if row.get(c) is None else base64.b64encode(row[c]).decode("ascii")
            for c in BLOOM_COLUMNS
        },
        "f": {c: bool(row.get(c)) for c in FLAG_COLUMNS},
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("ascii")


def deserialise(data: bytes) -> dict[str, Any]:
    document = json.loads(data)
    row: dict[str, Any] = dict(document["t"])
    for column, value in document["b"].items():
        row[column] = None if value is None else base64.b64decode(value)
    row.update(document["f"])
    return row


def frame(rows: Sequence[tuple[uuid.UUID, bytes]]) -> pd.DataFrame:
    """The matcher's frame of (subject, stored encoding) rows: `record_id` is the subject id."""
    import pandas as pd

    columns = ("record_id", *TOKEN_COLUMNS, *BLOOM_COLUMNS, *FLAG_COLUMNS)
    records = [{"record_id": str(subject), **deserialise(data)} for subject, data in rows]
    return pd.DataFrame.from_records(records, columns=columns)


def pool_rows(session: Session, exclude: Iterable[uuid.UUID] = ()) -> list[tuple[uuid.UUID, bytes]]:
    """Every active subject's stored encoding of the current schema (the pool), oldest first."""
    query = (
        select(LinkageRecord.subject_id, LinkageRecord.encoding)
        .join(Subject, Subject.id == LinkageRecord.subject_id)
        .where(
            Subject.status == SubjectStatus.ACTIVE,
            LinkageRecord.encoding.is_not(None),
            LinkageRecord.schema_version == ENCODING_SCHEMA_VERSION,
        )
        .order_by(LinkageRecord.created_at, LinkageRecord.subject_id)
    )
    left_out = set(exclude)
    return [(s, bytes(e)) for s, e in session.execute(query) if s not in left_out and e]


def waiting(session: Session) -> int:
    """Active subjects with no encoding of the current schema (enrolled before it)."""
    from sqlalchemy import func, or_

    return (
        session.scalar(
            select(func.count())
            .select_from(LinkageRecord)
            .join(Subject, Subject.id == LinkageRecord.subject_id)
            .where(
                Subject.status == SubjectStatus.ACTIVE,
                or_(
                    LinkageRecord.encoding.is_(None),
                    LinkageRecord.schema_version != ENCODING_SCHEMA_VERSION,
                ),
            )
        )
        or 0
    )


def birth_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
