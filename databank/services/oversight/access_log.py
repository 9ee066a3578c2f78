"""The auditor console's reads of the access log: search, a person's history, status, export.

Auditors review metadata only: everything here comes from entry bodies (ids, codes, decisions),
never from a case, and nothing here can decrypt. Scope is decided here, in the SQL of every query
(threat: an org's auditor browsing the rest of the platform's activity): a platform auditor sees
the whole log, an org's auditor the entries about its org's records and those by its own users.
Every view, verification and export is itself logged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from databank.audit.scan import Problem
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision, Purpose
from databank.domain.errors import ValidationFailed
from databank.models import AuditCheckpoint, AuditEntry, AuditHead, Organisation
from databank.services import access, auditlog
from databank.services.access import roles
from databank.services.actors import Actor
from databank.services.auditlog import alerting
from databank.services.oversight import integrity
from databank.services.oversight.logged_people import LoggedPeople
from databank.services.records.anchors import ViewerHandles

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# One export is held in memory; past this the auditor narrows the dates instead.
EXPORT_LIMIT = 100_000
# "Who saw this person's data": reads, searches, writes, exports (allowed or refused), emergencies.
HISTORY_PREFIXES = ("access.", "break_glass.")
DECISIONS = tuple(d.value for d in Decision)
ExportFormat = Literal["csv", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl")


@dataclass(frozen=True)
class EntryFilter:
    """What to look for. Ids, codes and dates only: a filter never holds a name or a place."""

    actor_user_id: uuid.UUID | None = None
    actor_org_id: uuid.UUID | None = None
    owner_org_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None  # the pseudonymous person id, never an identity
    event: str | None = None  # exact ("access.read"), or a prefix: "access." or "access.*"
    purpose: str | None = None
    decision: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC
    limit: int = DEFAULT_LIMIT
    before_seq: int | None = None  # paging backwards: entries older than this seq

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        if not 1 <= self.limit <= MAX_LIMIT:
            errors["limit"] = [f"must be between 1 and {MAX_LIMIT}"]
        if self.before_seq is not None and self.before_seq < 0:
            errors["before_seq"] = ["must be 0 or more"]
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                errors[name] = ["must carry a time zone (UTC)"]
        if self.since and self.until and not errors and self.since >= self.until:
            errors["until"] = ["must be after since"]
        if self.decision is not None and self.decision not in DECISIONS:
            errors["decision"] = [f"must be one of: {', '.join(DECISIONS)}"]
        if errors:
            raise ValidationFailed("the filter has invalid fields", errors)

    def names(self) -> list[str]:
        """The filters in use (not their values), for the log entry of the view."""
        skip = {"limit", "before_seq"}
        return sorted(k for k, v in vars(self).items() if v is not None and k not in skip)


@dataclass(frozen=True)
class EntryView:
    """One entry's metadata as its hashed body states it. Ids are the body's own text."""

    seq: int
    at: datetime
    event: str
    actor_user_id: str | None
    actor_org_id: str | None
    actor_roles: tuple[str, ...]
    actor_channel: str | None
    record_type: str | None
    record_id: str | None
    record_owner: str | None
    person_id: str | None
    purpose: str | None
    decision: str | None
    rule: str | None
    fields_released: tuple[str, ...]
    fields_withheld: tuple[str, ...]
    count: int | None
    location_level: int | None
    area: str | None
    break_glass: bool
    policy_version: str | None


@dataclass(frozen=True)
class EntryPage:
    entries: tuple[EntryView, ...]  # newest first
    next_before_seq: int | None  # pass as before_seq for the next (older) page; None at the end


@dataclass(frozen=True)
class CheckpointView:
    size: int
    created_at: datetime
    signed_note: str


@dataclass(frozen=True)
class VerifySummary:
    ok: bool
    size: int
    checkpoints: int
    seq: int | None  # the first bad seq
    kind: str | None
    reason: str | None
    seconds: float


@dataclass(frozen=True)
class LogStatus:
    size: int
    checkpoint: CheckpointView | None
    unsigned_tail: int
    verify: VerifySummary | None


def require_auditor(session: Session, actor: Actor) -> None:
    """Only auditors reach the console; a refusal is logged (by the caller's transaction)."""
    access.require_any_role(actor, roles.AUDITORS, AuditEvent.AUDIT_VIEW)


# Written by another org than the owner of its record, or by none: the rows of the partial
# owner-org index (models.audit.OTHER_OWNER), whose terms a query must repeat to read through it.
_OTHER_OWNER = AuditEntry.owner_org_id.is_distinct_from(AuditEntry.actor_org_id)


def _about(org: uuid.UUID) -> ColumnElement[bool]:
    """Entries about the org's records: those it wrote itself (through the actor-org index) and
    those another org or none wrote (through the partial owner-org index)."""
    return or_(
        and_(AuditEntry.actor_org_id == org, AuditEntry.owner_org_id == org),
        and_(AuditEntry.owner_org_id == org, _OTHER_OWNER),
    )


def _scope(actor: Actor) -> ColumnElement[bool]:
    org = roles.audit_scope(actor)
    if org is None:
        return true()
    # About its records or by its users: by its users (the actor-org index), or about its records
    # and written by another org or none (the partial owner-org index).
    return or_(
        AuditEntry.actor_org_id == org,
        and_(AuditEntry.owner_org_id == org, _OTHER_OWNER),
    )


def _conditions(
    flt: EntryFilter, person_forms: Sequence[uuid.UUID] = ()
) -> list[ColumnElement[bool]]:
    """The filter's terms; the person's as every value an entry may name them by
    (`LoggedPeople.forms`)."""
    where: list[ColumnElement[bool]] = []
    for name in ("actor_user_id", "actor_org_id"):
        value = getattr(flt, name)
        if value is not None:
            where.append(getattr(AuditEntry, name) == value)
    if flt.person_id is not None:
        where.append(AuditEntry.person_id.in_(person_forms))
    if flt.owner_org_id is not None:
        where.append(_about(flt.owner_org_id))
    if flt.event:
        if flt.event.endswith(("*", ".")):
            # A prefix; autoescape, or the "_" of event names would be a LIKE wildcard.
            prefix = flt.event.removesuffix("*")
            where.append(AuditEntry.event.startswith(prefix, autoescape=True))
        else:
            where.append(AuditEntry.event == flt.event)
    if flt.purpose is not None:
        where.append(AuditEntry.purpose == flt.purpose)
    if flt.decision is not None:
        where.append(AuditEntry.decision == flt.decision)
    if flt.since is not None:
        where.append(AuditEntry.at >= flt.since)
    if flt.until is not None:
        where.append(AuditEntry.at < flt.until)
    if flt.before_seq is not None:
        where.append(AuditEntry.seq < flt.before_seq)
    return where


def _filtered(
    session: Session, flt: EntryFilter, people: LoggedPeople, actor: Actor
) -> list[ColumnElement[bool]]:
    if flt.person_id is None:
        return _conditions(flt)
    return [*_conditions(flt, people.forms(session, flt.person_id)), _held(actor)]


def _held(actor: Actor) -> ColumnElement[bool]:
    """A person's entries, for an org's auditor: those about the org's own records of them.

    Threat: linkage merges pooled persons across organisations; the person's pseudonyms then
    include the other organisation's, and an org auditor's history of the person would start
    listing its staff's reads of the other organisation's record, telling the org that someone
    else knows the person (issue 16). Reads of other organisations' records stay in the log
    and in the org's view of it, under that holder's handle, just not in the person's history."""
    org = roles.audit_scope(actor)
    return true() if org is None else _about(org)


PersonShown = Callable[[str, str | None], str]


def _as_seen_by(
    session: Session, people: LoggedPeople, actor: Actor, bodies: Sequence[bytes]
) -> PersonShown:
    """How an export names a person: the actor's organisation's handle, on its own records or
    (scoped to the holder) on another organisation's; the export's people named in one go."""
    naming = ViewerHandles(session, actor.org_id)
    pairs = []
    for body in bodies:
        data = json.loads(bytes(body))
        person = people.pooled(data)
        if person is not None:
            holder = (data.get("record") or {}).get("owner")
            pairs.append((_org(holder), uuid.UUID(person)))
    naming.expect(pairs)

    def shown(person: str, holder: str | None) -> str:
        return str(naming.shown(uuid.UUID(person), _org(holder)))

    return shown


def _org(holder: str | None) -> uuid.UUID | None:
    return uuid.UUID(holder) if holder else None


def _parsed(body: bytes, people: LoggedPeople, shown: PersonShown | None) -> dict[str, Any]:
    """An entry's body as data, its person the pooled id, or named as `shown` names it."""
    data: dict[str, Any] = json.loads(bytes(body))
    if data.get("person") is not None:
        data["person"] = people.pooled(data)
        if shown is not None:
            data["person"] = shown(data["person"], (data.get("record") or {}).get("owner"))
    return data


def _body_as_seen(body: bytes, people: LoggedPeople, shown: PersonShown) -> bytes:
    data = _parsed(body, people, shown)
    if data.get("person") is None:
        return bytes(body)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _view(body: bytes, people: LoggedPeople, shown: PersonShown | None = None) -> EntryView:
    data = _parsed(body, people, shown)
    actor = data.get("actor") or {}
    record = data.get("record") or {}
    fields = data.get("fields") or {}
    return EntryView(
        seq=int(data["seq"]),
        at=datetime.fromisoformat(data["at"]),
        event=data["event"],
        actor_user_id=actor.get("user"),
        actor_org_id=actor.get("org"),
        actor_roles=tuple(actor.get("roles") or ()),
        actor_channel=actor.get("channel"),
        record_type=record.get("type"),
        record_id=record.get("id"),
        record_owner=record.get("owner"),
        person_id=data.get("person"),
        purpose=data.get("purpose"),
        decision=data.get("decision"),
        rule=data.get("rule"),
        fields_released=tuple(fields.get("released") or ()),
        fields_withheld=tuple(fields.get("withheld") or ()),
        count=data.get("count"),
        location_level=data.get("location_level"),
        area=data.get("area"),
        break_glass=bool(data.get("break_glass")),
        policy_version=data.get("policy_version"),
    )


def _log(
    session: Session,
    actor: Actor,
    event: AuditEvent,
    count: int | None,
    person_id: uuid.UUID | None = None,
    **extra: Any,
) -> None:
    """The auditor's own trace: what part of the log was looked at, and with which filters."""
    part = roles.audit_scope(actor)
    entry = auditlog.EntryIn(
        event,
        RecordType.AUDIT_LOG,
        None,
        part,
        person_id,
        Purpose.AUDIT.value,
        Decision.ALLOW,
        result_count=count,
        extra=extra,
    )
    auditlog.append(session, actor, [entry])


def search(session: Session, actor: Actor, flt: EntryFilter) -> EntryPage:
    """A page of entries in the actor's scope matching the filter, newest first. Logged."""
    require_auditor(session, actor)
    people = LoggedPeople.of(session)
    rows = session.scalars(
        select(AuditEntry.body)
        .where(_scope(actor), *_filtered(session, flt, people, actor))
        .order_by(AuditEntry.seq.desc())
        .limit(flt.limit + 1)
    ).all()
    entries = tuple(_view(body, people) for body in rows[: flt.limit])
    more = len(rows) > flt.limit
    _log(session, actor, AuditEvent.AUDIT_VIEW, len(entries), flt.person_id, filters=flt.names())
    return EntryPage(entries, entries[-1].seq if more else None)


def person_history(session: Session, actor: Actor, person_id: uuid.UUID) -> list[EntryView]:
    """Who reached (or tried to reach) this person's data, when and why: for a subject access
    request. Oldest first, in the actor's scope (for an org's auditor, its own records of the
    person: `_held`). Logged, naming the person's pseudonym."""
    require_auditor(session, actor)
    people = LoggedPeople.of(session)
    bodies = session.scalars(
        select(AuditEntry.body)
        .where(
            _scope(actor),
            _held(actor),
            AuditEntry.person_id.in_(people.forms(session, person_id)),
            or_(*(AuditEntry.event.startswith(p, autoescape=True) for p in HISTORY_PREFIXES)),
        )
        .order_by(AuditEntry.seq)
    ).all()
    history = [_view(body, people) for body in bodies]
    _log(session, actor, AuditEvent.AUDIT_VIEW, len(history), person_id, filters=["person_history"])
    return history


def org_labels(session: Session, entries: Iterable[EntryView]) -> dict[str, str]:
    """The names of the organisations the entries name, to show instead of their ids."""
    ids = {
        uuid.UUID(value)
        for e in entries
        for value in (e.actor_org_id, e.record_owner)
        if value is not None
    }
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    ).all()
    return {str(org_id): name for org_id, name in rows}


def status(session: Session, actor: Actor, run_verify: bool = False) -> LogStatus:
    """Size, latest signed checkpoint and unsigned tail; with `run_verify`, the whole log is
    recomputed and checked (logged as `audit.verify`; a failure raises an integrity alert)."""
    require_auditor(session, actor)
    summary: VerifySummary | None = None
    problem: Problem | None = None
    if run_verify:
        report = integrity.verify(session)
        problem = report.problem
        summary = VerifySummary(
            ok=report.ok,
            size=report.size,
            checkpoints=report.checkpoints,
            seq=problem.seq if problem else None,
            kind=problem.kind if problem else None,
            reason=problem.reason if problem else None,
            seconds=report.seconds,
        )
    size = session.scalar(select(AuditHead.size).where(AuditHead.id == 1))
    if size is None:
        size = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    latest = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)
    ).first()
    checkpoint = (
        CheckpointView(latest.size, latest.created_at, latest.signed_note) if latest else None
    )
    result = LogStatus(size, checkpoint, size - (latest.size if latest else 0), summary)
    if summary is None:
        _log(session, actor, AuditEvent.AUDIT_VIEW, None, filters=["status"])
        return result
    _log(
        session,
        actor,
        AuditEvent.AUDIT_VERIFY,
        summary.size,
        ok=summary.ok,
        bad_seq=summary.seq,
        kind=summary.kind,
    )
    if problem is not None:
        alerting.raise_integrity_alert(session, problem.seq, problem.kind, problem.reason)
    return result


# One flat column per field of the view, in its order.
CSV_COLUMNS = tuple(f.name for f in dataclasses.fields(EntryView))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheet formula injection: a cell opening with one of these would be run as a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(entries: Sequence[EntryView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_cell(getattr(entry, column)) for column in CSV_COLUMNS])
    return out.getvalue().encode()


def export(
    session: Session, actor: Actor, flt: EntryFilter, fmt: ExportFormat
) -> tuple[bytes, int]:
    """Every entry in scope matching the filter (the page size does not apply), oldest first:
    CSV of flat columns, or JSONL of the bodies as stored but for the person, which an export
    names by the auditor's organisation's handle (the pooled id never leaves the server; the
    operator's `databank audit prove` gives bodies as hashed). Logged as `audit.export`."""
    require_auditor(session, actor)
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed("unknown export format", {"format": ["must be csv or jsonl"]})
    people = LoggedPeople.of(session)
    bodies = session.scalars(
        select(AuditEntry.body)
        .where(_scope(actor), *_filtered(session, flt, people, actor))
        .order_by(AuditEntry.seq)
        .limit(EXPORT_LIMIT + 1)
    ).all()
    if len(bodies) > EXPORT_LIMIT:
        raise ValidationFailed(
            "too many entries for one export",
            {"since": [f"narrow the dates: more than {EXPORT_LIMIT} entries match"]},
        )
    shown = _as_seen_by(session, people, actor, bodies)
    if fmt == "csv":
        data = _csv([_view(body, people, shown) for body in bodies])
    else:
        data = b"".join(_body_as_seen(body, people, shown) + b"\n" for body in bodies)
    _log(
        session,
        actor,
        AuditEvent.AUDIT_EXPORT,
        len(bodies),
        flt.person_id,
        format=fmt,
        filters=flt.names(),
    )
    return data, len(bodies)
