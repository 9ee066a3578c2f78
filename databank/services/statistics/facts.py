"""The fact projection, kept by the services that write (issue 18, point 1).

Every runtime session collects the records its writes touch (a case, need, encounter, referral
or dated change names its case's subject; a subject whose pooled person or status changes names
itself) and, just before it commits, rebuilds their facts in the same transaction: delete the
record's fact rows, write them anew from its rows, mark the change. So a merge or a split of
pooled persons (linkage rewrites `subjects.person_id`), an erasure (no facts for an erased
record) or an own-records merge (the case moves) updates the facts with the data. Writes that
bypass the ORM (a batch intake's bulk insert) name their subjects with `touch`.

The facts name records and persons by tokens (`crypto.StatTokens`), never by id. Sex and the
birth date are read from the sealed identity here, and only their coarse bands are written.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import Session

from databank.analytics import facts as pure
from databank.db import bulk_insert
from databank.domain.areas import Areas
from databank.domain.enums import CaseEventKind, SubjectStatus
from databank.domain.errors import DecryptionFailed
from databank.models import (
    Case,
    CaseEvent,
    Encounter,
    Identity,
    Need,
    Referral,
    StatFact,
    StatRefresh,
    Subject,
)
from databank.services.access.directory import orgs_of
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.statistics.labels import area_group

_TOUCHED = "statistics_touched_subjects"
_TOUCHED_CASES = "statistics_touched_cases"
_BATCH = 400


def touch(session: Session, subject_ids: Iterable[uuid.UUID]) -> None:
    """Name records whose facts must be rebuilt before this session commits."""
    session.info.setdefault(_TOUCHED, set()).update(subject_ids)


def touch_cases(session: Session, case_ids: Iterable[uuid.UUID]) -> None:
    """Name cases whose records' facts must be rebuilt before this session commits."""
    session.info.setdefault(_TOUCHED_CASES, set()).update(case_ids)


def _areas(session: Session) -> Areas | None:
    found = session.info.get("areas")
    return found if isinstance(found, Areas) else None


KEEP = "statistics_keep_facts"  # set in the runtime's session info: these sessions keep facts


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(KEEP):
        return  # not a runtime session (a migration, a tool's raw session)
    subjects: set[uuid.UUID] = session.info.setdefault(_TOUCHED, set())
    cases: set[uuid.UUID] = session.info.setdefault(_TOUCHED_CASES, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case):
            subjects.update(_values(obj, "subject_id"))
        elif isinstance(obj, Need | Encounter | Referral | CaseEvent):
            cases.update(_values(obj, "case_id"))
        elif isinstance(obj, Subject | Identity):
            subjects.update(_values(obj, "id" if isinstance(obj, Subject) else "subject_id"))


def _values(obj: object, attribute: str) -> set[uuid.UUID]:
    """The attribute's value now and, if this flush changes it, before (a moved case)."""
    history = inspect(obj).attrs[attribute].history
    found = {v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None}
    current = getattr(obj, attribute, None)
    if current is not None:
        found.add(current)
    return found


@event.listens_for(Session, "before_commit")
def _refresh_touched(session: Session) -> None:
    if not session.info.get(KEEP) or session.in_nested_transaction():
        return
    for _ in range(3):  # a refresh's own flush may name more records (it does not, normally)
        session.flush()
        subjects: set[uuid.UUID] = session.info.pop(_TOUCHED, set())
        cases: set[uuid.UUID] = session.info.pop(_TOUCHED_CASES, set())
        if cases:
            ids = list(cases)
            for start in range(0, len(ids), _BATCH):
                subjects.update(
                    session.scalars(
                        select(Case.subject_id).where(Case.id.in_(ids[start : start + _BATCH]))
                    )
                )
        if not subjects:
            return
        refresh(session, subjects)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_TOUCHED, None)
        session.info.pop(_TOUCHED_CASES, None)


def refresh(
    session: Session,
    subject_ids: Collection[uuid.UUID],
    today: date | None = None,
    *,
    everything: bool = False,
) -> int:
    """Rebuild the facts of these records in the session's transaction; returns the rows
    written. The change mark names the records (`everything`: it names none, every cached frame
    loads the facts again)."""
    tokens = keyring_of(session).stat_tokens
    ids = list(subject_ids)
    written = 0
    named: list[bytes] = []
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        chunk_tokens = [tokens.subject(s) for s in chunk]
        named.extend(chunk_tokens)
        session.execute(delete(StatFact).where(StatFact.subject_token.in_(chunk_tokens)))
        rows = _rows(session, chunk, today or datetime.now(UTC).date())
        if rows:
            bulk_insert(session, StatFact.__table__, rows)  # type: ignore[arg-type]
        written += len(rows)
    marked = None if everything else b"".join(named)
    session.add(StatRefresh(subjects=len(ids), subject_tokens=marked))
    session.flush()
    return written


@dataclass(frozen=True)
class _Subject:
    org_id: uuid.UUID
    person_id: uuid.UUID
    binding: uuid.UUID


# Columns, not entities: a case entity also loads its sealed fields and its person and binding
# (two correlated subqueries a row), and the ORM's bookkeeping for each was most of the cost of
# an intake's facts (cProfile of bench_ingest).


def _rows(session: Session, subject_ids: list[uuid.UUID], today: date) -> list[dict[str, Any]]:
    subjects = {
        subject_id: _Subject(org_id, person_id, binding)
        for subject_id, org_id, person_id, binding in session.execute(
            select(Subject.id, Subject.org_id, Subject.person_id, Subject.binding).where(
                Subject.id.in_(subject_ids), Subject.status == SubjectStatus.ACTIVE
            )
        )
    }
    if not subjects:
        return []
    coarse = _identities(session, subjects)
    cases = _cases(session, list(subjects))
    tokens = keyring_of(session).stat_tokens
    orgs = orgs_of(session)
    areas = _areas(session)

    def area_of(cell: str | None) -> str:
        return area_group(areas, cell)

    rows: list[dict[str, Any]] = []
    for subject_id, subject_cases in cases.items():
        subject = subjects[subject_id]
        if subject_id not in coarse:
            continue  # no identity, or its key is gone: nothing to count
        birth_date, sex = coarse[subject_id]
        base = {
            "subject_token": tokens.subject(subject_id),
            "person_token": tokens.person(subject.person_id),
            "org_id": subject.org_id,
            "org_kind": orgs.get(session, subject.org_id).kind.value,
        }
        for case in subject_cases:
            for fact in pure.case_facts(
                case, birth_date=birth_date, sex=sex, area_of=area_of, today=today
            ):
                rows.append({**base, **fact.__dict__})
    return rows


def _identities(
    session: Session, subjects: dict[uuid.UUID, _Subject]
) -> dict[uuid.UUID, tuple[date | None, str | None]]:
    """Birth date and sex of each record (read from the sealed identity; only their bands are
    written)."""
    keyring = keyring_of(session)
    by_org: dict[uuid.UUID, list[uuid.UUID]] = {}
    for subject_id, subject in subjects.items():
        by_org.setdefault(subject.org_id, []).append(subject_id)
    found: dict[uuid.UUID, tuple[date | None, str | None]] = {}
    identities = {
        row[0]: row
        for row in session.execute(
            select(
                Identity.subject_id,
                Identity.id,
                Identity.org_id,
                Identity.birth_date_ciphertext,
                Identity.sex_ciphertext,
            ).where(Identity.subject_id.in_(list(subjects)))
        )
    }
    for org_id, ids in by_org.items():
        keys = keyring.subject_keys(session, org_id, ids)
        for subject_id in ids:
            row, key = identities.get(subject_id), keys.get(subject_id)
            if row is None or key is None:
                continue
            _, identity_id, owner, born_blob, sex_blob = row
            binding = subjects[subject_id].binding
            unseal = RowSealer(key, owner, "identities", identity_id, binding)
            try:
                born = unseal.open("birth_date_ciphertext", born_blob)
                sex = unseal.open("sex_ciphertext", sex_blob)
            except DecryptionFailed:
                continue
            found[subject_id] = (date.fromisoformat(born) if born else None, sex or None)
    return found


def _cases(session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[pure.CaseRow]]:
    cases = session.execute(
        select(
            Case.id,
            Case.subject_id,
            Case.opened_at,
            Case.closed_at,
            Case.close_reason,
            Case.living_situation,
            Case.hud_living_situation,
            Case.area_geohash,
        ).where(Case.subject_id.in_(subject_ids))
    ).all()
    if not cases:
        return {}
    case_ids = [c.id for c in cases]
    needs: dict[uuid.UUID, list[pure.NeedRow]] = {}
    for n in session.execute(
        select(
            Need.case_id, Need.id, Need.category, Need.status, Need.identified_at, Need.resolved_at
        ).where(Need.case_id.in_(case_ids))
    ):
        needs.setdefault(n.case_id, []).append(
            pure.NeedRow(n.id, n.category.value, n.status.value, n.identified_at, n.resolved_at)
        )
    changes: dict[uuid.UUID, list[pure.Change]] = {}
    for e in session.execute(
        select(
            CaseEvent.case_id,
            CaseEvent.kind,
            CaseEvent.at,
            CaseEvent.need_id,
            CaseEvent.from_code,
            CaseEvent.to_code,
            CaseEvent.detail_code,
        ).where(CaseEvent.case_id.in_(case_ids))
    ):
        changes.setdefault(e.case_id, []).append(
            pure.Change(
                CaseEventKind(e.kind), e.at, e.need_id, e.from_code, e.to_code, e.detail_code
            )
        )
    places: dict[uuid.UUID, list[tuple[datetime, str | None]]] = {}
    for case_id, at, cell in session.execute(
        select(Encounter.case_id, Encounter.occurred_at, Encounter.area_geohash).where(
            Encounter.case_id.in_(case_ids)
        )
    ):
        places.setdefault(case_id, []).append((at, cell))
    referrals: dict[uuid.UUID, list[pure.ReferralRow]] = {}
    for case_id, status, sent, answered in session.execute(
        select(Referral.case_id, Referral.status, Referral.created_at, Referral.responded_at).where(
            Referral.case_id.in_(case_ids)
        )
    ):
        referrals.setdefault(case_id, []).append(pure.ReferralRow(status.value, sent, answered))
    by_subject: dict[uuid.UUID, list[pure.CaseRow]] = {}
    for c in cases:
        by_subject.setdefault(c.subject_id, []).append(
            pure.CaseRow(
                opened_at=c.opened_at,
                closed_at=c.closed_at,
                close_reason=c.close_reason,
                living_situation=c.living_situation.value,
                hud_living_situation=c.hud_living_situation,
                area_geohash=c.area_geohash,
                needs=needs.get(c.id, ()),
                changes=changes.get(c.id, ()),
                encounter_areas=places.get(c.id, ()),
                referrals=referrals.get(c.id, ()),
            )
        )
    return by_subject


def rebuild(session: Session, today: date | None = None) -> int:
    """Every record's facts anew (`databank stats rebuild`, after the migration or a change of
    the areas file); returns the rows written."""
    session.execute(delete(StatFact))
    ids = list(session.scalars(select(Subject.id).where(Subject.status == SubjectStatus.ACTIVE)))
    session.info.pop(_TOUCHED, None)
    return refresh(session, ids, today, everything=True)
