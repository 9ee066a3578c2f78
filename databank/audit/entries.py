"""Audit entries and their canonical JSON bodies: the exact bytes that are stored and hashed."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"audit bodies hold ids, codes and counts only, not {type(value).__name__}")


# One encoder for every body (json.dumps with these options would build a new one per call, on
# the path of every logged access).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
)


def canonical_body(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same entry always gives the same bytes."""
    return _ENCODER.encode(fields).encode("utf-8")


_string = json.encoder.encode_basestring  # what the encoder writes a str as (ensure_ascii off)


def canonical_value(value: Any) -> str:
    """One value as `canonical_body` writes it inside a body: to write a body out piece by
    piece, in its keys' sorted order, and get the very same bytes."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, uuid.UUID):
        return f'"{value}"'
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)


@dataclass(frozen=True)
class EntryIn:
    """One thing to log. Ids and codes only: never a name, a search string or a location."""

    event: AuditEvent
    record_type: RecordType | None = None
    record_id: uuid.UUID | None = None
    owner_org_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    purpose: str | None = None
    decision: Decision | None = None
    rule: str | None = None
    fields_released: Sequence[str] = ()
    fields_withheld: Sequence[str] = ()
    result_count: int | None = None
    location_level: int | None = None
    area: str | None = None  # district geohash of a released location, never finer
    break_glass: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _ref(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


def actor_part(
    user_id: uuid.UUID | None, org_id: uuid.UUID | None, roles: Iterable[Enum], channel: str
) -> str:
    """The body's "actor": pseudonymous ids and role codes only ("null" for no actor)."""
    if org_id is None:
        return canonical_value(None)
    return canonical_value(
        {
            "user": _ref(user_id),
            "org": str(org_id),
            "roles": sorted(r.value for r in roles),
            "channel": channel,
        }
    )


# Whose handle names the person of an entry with neither an owner nor an actor organisation
# (`person_scope`): a key that no organisation is shown under.
NO_ORG = uuid.UUID(int=0)


def person_scope(owner_org: object, actor_org: object) -> uuid.UUID:
    """The organisation under whose handle an entry names its person: the holder of the record
    (its owner), else the acting organisation, else none (`NO_ORG`).

    Threat: the pooled person id is the join key of the whole databank. Logged as it is, two
    organisations' proof bundles (`databank audit prove --org`) could be joined on it. Logged as
    the holder's own handle (`crypto/handles.py`), an entry names the person as the holder's
    screens do, and two holders' entries about one person share nothing. Readers rebuild the
    scope from the body (record owner, actor org) to turn the handle back."""
    scope = owner_org or actor_org
    if scope is None:
        return NO_ORG
    return scope if isinstance(scope, uuid.UUID) else uuid.UUID(str(scope))


def entry_body(
    actor_json: str,
    entry: EntryIn,
    at_text: str,
    policy_version: str,
    seq: int,
    prev: str,
    person: uuid.UUID | None,
) -> bytes:
    """An entry's body, written out key by key in sorted order with the canonical encoder's own
    value encoding: the very bytes `canonical_body` gives for the same fields (tested), at half
    its cost. It runs once per access, on the path of every read and of batch intake. `person`
    is what the body names the entry's person by (its holder's handle, `person_scope`)."""
    v = canonical_value
    parts = [
        '{"actor":',
        actor_json,
        ',"area":',
        v(entry.area),
        ',"at":',
        v(at_text),
        ',"break_glass":',
        v(entry.break_glass),
        ',"count":',
        v(entry.result_count),
        ',"decision":',
        v(entry.decision),
        ',"event":',
        v(entry.event),
    ]
    if entry.extra:
        parts += (',"extra":', v(entry.extra))
    parts += (
        ',"fields":{"released":[',
        ",".join(map(v, entry.fields_released)),
        '],"withheld":[',
        ",".join(map(v, entry.fields_withheld)),
        ']},"location_level":',
        v(entry.location_level),
        ',"person":',
        v(person),
        ',"policy_version":',
        v(policy_version),
        # The previous entry's leaf hash: an altered entry breaks the chain at its successor,
        # which lets `audit verify` name the exact entry, not only the checkpoint range.
        ',"prev":"',
        prev,
        '","purpose":',
        v(entry.purpose),
        ',"record":{"id":',
        v(entry.record_id),
        ',"owner":',
        v(entry.owner_org_id),
        ',"type":',
        v(entry.record_type),
        '},"rule":',
        v(entry.rule),
        # A per-entry salt, so entries disclosed in a proof cannot be confirmed by guessing.
        ',"salt":"',
        secrets.token_hex(8),
        '","seq":',
        str(seq),
        "}",
    )
    return "".join(parts).encode("utf-8")
