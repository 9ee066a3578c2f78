"""Writes access-log entries in the caller's transaction ("no log, no data").

Entries are inserted with a Core statement that executes at once, so a failing audit write raises
before the calling service returns any data.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from databank.audit import canonical_body
from databank.db import bulk_insert
from databank.models import AuditEntry
from databank.services.actors import Actor
from databank.services.context import policy_of


@dataclass(frozen=True)
class EntryIn:
    """One thing to log. Ids and codes only: never a name, a search string or a location."""

    event: str
    record_type: str | None = None
    record_id: uuid.UUID | None = None
    owner_org_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    purpose: str | None = None
    decision: str | None = None
    rule: str | None = None
    fields_released: Sequence[str] = ()
    fields_withheld: Sequence[str] = ()
    result_count: int | None = None
    location_level: int | None = None
    break_glass: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _ref(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


def _row(
    actor_body: dict[str, Any] | None,
    actor: Actor | None,
    entry: EntryIn,
    at: datetime,
    at_text: str,
    policy_version: str,
) -> dict[str, Any]:
    # Values are turned into JSON types here (not through a `default` hook): this runs once per
    # access and sits on the hot path of every read and of batch intake.
    body: dict[str, Any] = {
        "at": at_text,
        "event": entry.event,
        "actor": actor_body,
        "record": {
            "type": entry.record_type,
            "id": _ref(entry.record_id),
            "owner": _ref(entry.owner_org_id),
        },
        "person": _ref(entry.person_id),
        "purpose": entry.purpose,
        "decision": entry.decision,
        "rule": entry.rule,
        "fields": {
            "released": list(entry.fields_released),
            "withheld": list(entry.fields_withheld),
        },
        "count": entry.result_count,
        "location_level": entry.location_level,
        "break_glass": entry.break_glass,
        "policy_version": policy_version,
        # A per-entry salt, so entries disclosed in a proof cannot be confirmed by guessing.
        "salt": secrets.token_hex(8),
    }
    if entry.extra:
        body["extra"] = entry.extra
    return {
        "at": at,
        "event": entry.event,
        "actor_user_id": None if actor is None else actor.user_id,
        "actor_org_id": None if actor is None else actor.org_id,
        "owner_org_id": entry.owner_org_id,
        "person_id": entry.person_id,
        "purpose": entry.purpose,
        "decision": entry.decision,
        "body": canonical_body(body),
    }


def append(session: Session, actor: Actor | None, entries: Iterable[EntryIn]) -> int:
    """Insert the entries now, inside the current transaction. Returns how many were written."""
    at = datetime.now(UTC)
    actor_body = (
        None
        if actor is None
        else {
            "user": _ref(actor.user_id),
            "org": str(actor.org_id),
            "roles": sorted(r.value for r in actor.roles),
            "channel": actor.channel,
        }
    )
    at_text = at.isoformat()
    # The version of the policies in force goes into every entry, whatever its event.
    policy_version = policy_of(session).version
    rows = [_row(actor_body, actor, entry, at, at_text, policy_version) for entry in entries]
    bulk_insert(session, AuditEntry.__table__, rows)  # type: ignore[arg-type]
    return len(rows)
