"""The log writes each body out key by key (`writer._row`): the very bytes `canonical_body`
gives for the fields of design section 7, whatever the values."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from databank.audit import canonical_body, canonical_value
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, OrgKind, Purpose, Role
from databank.services import auditlog
from databank.services.actors import Actor
from databank.services.auditlog import EntryIn, writer

# Strings a body may carry, and some it should never need but must still write canonically.
TEXTS = ["", "case", "access.read", "u05kq", 'a "quote"', "back\\slash", "tab\there", "\x00\x1f",
         "é", "Ünïcödé ✓", "\u2028", "😀"]  # fmt: skip


def _text(rng: random.Random) -> str:
    if rng.random() < 0.005:
        return "\ud800"  # a lone surrogate: not text UTF-8 can carry
    return rng.choice(TEXTS) + "".join(rng.choice('ab"\\\n') for _ in range(rng.randrange(3)))


def _maybe(rng: random.Random, value: Any) -> Any:
    return None if rng.random() < 0.3 else value


def _extra(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {}
    return {
        _text(rng): rng.choice(
            [
                1,
                -7,
                2**70,
                1.5,
                True,
                None,
                [],
                [_text(rng)],
                {"z": 1, "a": [2, None]},
                uuid.uuid4(),
            ]
        )
        for _ in range(rng.randrange(1, 4))
    }


def _entry(rng: random.Random) -> EntryIn:
    return EntryIn(
        # The vocabulary's members, and any string (the encoder writes both alike).
        event=rng.choice(
            [AuditEvent.ACCESS_READ, AuditEvent.ACCESS_EXPORT, "login.failed", _text(rng)]
        ),
        record_type=_maybe(rng, rng.choice([RecordType.CASE, "person", _text(rng)])),
        record_id=_maybe(rng, uuid.uuid4()),
        owner_org_id=_maybe(rng, uuid.uuid4()),
        person_id=_maybe(rng, uuid.uuid4()),
        purpose=_maybe(rng, rng.choice([Purpose.OUTREACH, "food_aid", _text(rng)])),
        decision=_maybe(rng, rng.choice([*Decision, "partial"])),
        rule=_maybe(rng, _text(rng)),
        fields_released=[_text(rng) for _ in range(rng.randrange(4))],
        fields_withheld=tuple(_text(rng) for _ in range(rng.randrange(3))),
        result_count=_maybe(rng, rng.randrange(-3, 10**12)),
        location_level=_maybe(rng, rng.randrange(0, 4)),
        area=_maybe(rng, _text(rng)),
        break_glass=rng.random() < 0.2,
        extra=_extra(rng),
    )


def _reference(actor: Actor | None, entry: EntryIn, at: datetime, seq: int, prev: str,
               policy_version: str, salt: str) -> bytes:  # fmt: skip
    """The body as design section 7 lays it out, through the canonical encoder."""

    def ref(value: object) -> object:
        return str(value) if isinstance(value, uuid.UUID) else value

    body: dict[str, Any] = {
        "seq": seq,
        "prev": prev,
        "at": at.isoformat(),
        "event": entry.event,
        "actor": None
        if actor is None
        else {
            "user": ref(actor.user_id),
            "org": str(actor.org_id),
            "roles": sorted(r.value for r in actor.roles),
            "channel": actor.channel,
        },
        "record": {
            "type": entry.record_type,
            "id": ref(entry.record_id),
            "owner": ref(entry.owner_org_id),
        },
        "person": ref(entry.person_id),
        "purpose": entry.purpose,
        "decision": entry.decision,
        "rule": entry.rule,
        "fields": {
            "released": list(entry.fields_released),
            "withheld": list(entry.fields_withheld),
        },
        "count": entry.result_count,
        "location_level": entry.location_level,
        "area": entry.area,
        "break_glass": entry.break_glass,
        "policy_version": policy_version,
        "salt": salt,
    }
    if entry.extra:
        body["extra"] = entry.extra
    return canonical_body(body)


def test_written_bodies_are_the_canonical_bytes() -> None:
    rng = random.Random(20261204)
    actors: list[Actor | None] = [
        None,
        Actor(uuid.uuid4(), uuid.uuid4(), OrgKind.CHARITY, frozenset({Role.OUTREACH_WORKER})),
        Actor(
            None, uuid.uuid4(), OrgKind.COUNCIL, frozenset({Role.AUDITOR, Role.ORG_ADMIN}), "api"
        ),
    ]
    at = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    written = refused = 0
    for seq in range(600):
        actor = rng.choice(actors)
        entry = _entry(rng)
        moment = at + timedelta(microseconds=rng.randrange(10**12))
        prev = rng.randbytes(32).hex()
        version = _text(rng)
        actor_json = auditlog.actor_body(actor)
        try:
            row = writer._row(
                actor_json,
                actor,
                entry,
                moment,
                moment.isoformat(),
                version,
                seq,
                prev,
                entry.person_id,  # the body names whatever person it is given (`logged_person`)
            )
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 bytes for it, either way
            with pytest.raises(UnicodeEncodeError):
                _reference(actor, entry, moment, seq, prev, version, "0" * 16)
            refused += 1
            continue
        salt = json.loads(row["body"])["salt"]
        assert len(salt) == 16
        assert int(salt, 16) >= 0
        assert row["body"] == _reference(actor, entry, moment, seq, prev, version, salt), entry
        written += 1
    assert written > 400
    assert refused > 0


def test_a_value_is_written_as_inside_a_canonical_body() -> None:
    values: list[Any] = [None, True, False, 0, -1, 2**80, 0.1, "x\"y", "é", uuid.uuid4(),
                         Purpose.OUTREACH, AuditEvent.ACCESS_READ, RecordType.CASE,
                         Decision.PARTIAL, [1, "a"], {"b": 1, "a": None}]  # fmt: skip
    for value in values:
        whole = canonical_body({"k": value}).decode()
        assert whole == '{"k":' + canonical_value(value) + "}", value
