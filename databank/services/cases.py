"""Cases and what happens in them: open, close, record an encounter with needs, refer, read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.crypto import SealingKey
from databank.domain.enums import (
    Action,
    CaseStatus,
    NeedSeverity,
    NeedStatus,
    PersonStatus,
    Purpose,
    ReferralStatus,
)
from databank.domain.errors import Conflict, Erased, NotFound
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import Case, Encounter, Identity, Need, Organisation, Person, Referral
from databank.services import access, rows
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, EncounterIn, Point
from databank.services.runtime import keyring_of
from databank.services.sealing import RowSealer

CASE_FIELDS = (
    "status",
    "living_situation",
    "flags",
    "area",
    "location",
    "notes",
    "needs",
    "encounters",
)


@dataclass(frozen=True)
class NeedView:
    id: uuid.UUID
    category: NeedCategory
    severity: NeedSeverity
    status: NeedStatus
    identified_at: datetime


@dataclass(frozen=True)
class EncounterView:
    id: uuid.UUID
    occurred_at: datetime
    area_geohash: str | None
    point: Point | None
    notes: str | None
    services_given: tuple[str, ...]
    worker_id: uuid.UUID | None

    def __repr__(self) -> str:
        return f"EncounterView(id={self.id}, <hidden>)"


@dataclass(frozen=True)
class CaseView:
    id: uuid.UUID
    person_id: uuid.UUID
    org_id: uuid.UUID
    status: CaseStatus
    opened_at: datetime
    closed_at: datetime | None
    living_situation: EthosCategory
    hud_living_situation: int | None
    is_minor: bool
    is_domestic_abuse_survivor: bool
    area_geohash: str | None
    point: Point | None
    notes: str | None
    needs: tuple[NeedView, ...]
    encounters: tuple[EncounterView, ...]

    def __repr__(self) -> str:
        return f"CaseView(id={self.id}, status={self.status}, <hidden>)"


def _load_case(session: Session, case_id: uuid.UUID) -> tuple[Case, Person]:
    found = session.execute(
        select(Case, Person).join(Person, Person.id == Case.person_id).where(Case.id == case_id)
    ).one_or_none()
    if found is None:
        raise NotFound("no such case")
    return found[0], found[1]


def _authorized_case(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    case_id: uuid.UUID,
    fields: tuple[str, ...],
) -> tuple[Case, Person]:
    """Load a case and decide (and log) the actor's access to those of its fields."""
    case, person = _load_case(session, case_id)
    access.authorize(
        session,
        actor,
        action,
        purpose,
        access.Resource("case", case.id, case.org_id, case.person_id),
        fields=fields,
    )
    return case, person


def _case_key(session: Session, case: Case, person: Person) -> SealingKey:
    if person.status is PersonStatus.ERASED:
        raise Erased("this person's data was erased")
    return keyring_of(session).subject_key_for(session, case.org_id, case.person_id)


def open_case(
    session: Session, actor: Actor, purpose: Purpose | str, person_id: uuid.UUID, case: CaseIn
) -> uuid.UUID:
    """Open a case for a person the actor's org has registered."""
    purpose = access.parse_purpose(purpose)
    identity_id = session.execute(
        select(Identity.id).where(Identity.person_id == person_id, Identity.org_id == actor.org_id)
    ).scalar_one_or_none()
    person = session.get(Person, person_id)
    if identity_id is None or person is None:
        raise NotFound("no such person in your organisation's records")
    if person.status is PersonStatus.ERASED:
        raise Erased("this person's data was erased")
    key = keyring_of(session).subject_key_for(session, actor.org_id, person_id)
    row = rows.case_row(key, actor.org_id, person_id, case, actor.user_id, datetime.now(UTC))
    access.authorize(
        session,
        actor,
        Action.CREATE,
        purpose,
        access.Resource("case", row["id"], actor.org_id, person_id),
    )
    rows.insert_rows(session, {Case.__table__: [row]})  # type: ignore[dict-item]
    case_id: uuid.UUID = row["id"]
    return case_id


def close_case(
    session: Session, actor: Actor, purpose: Purpose | str, case_id: uuid.UUID, reason: str
) -> None:
    purpose = access.parse_purpose(purpose)
    case, _person = _authorized_case(session, actor, Action.UPDATE, purpose, case_id, ("status",))
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is already closed")
    case.status = CaseStatus.CLOSED
    case.closed_at = datetime.now(UTC)
    case.close_reason = reason[:32]


def record_encounter(
    session: Session,
    actor: Actor,
    purpose: Purpose | str,
    case_id: uuid.UUID,
    encounter: EncounterIn,
) -> uuid.UUID:
    """An encounter in the street (or office), with the needs seen, on an open case."""
    purpose = access.parse_purpose(purpose)
    case, person = _authorized_case(
        session, actor, Action.UPDATE, purpose, case_id, ("encounters",)
    )
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is closed; open a new one to record an encounter")
    key = _case_key(session, case, person)
    row = rows.encounter_row(
        key, case.org_id, case.person_id, case.id, encounter, actor.user_id, datetime.now(UTC)
    )
    rows.insert_rows(
        session,
        {
            Encounter.__table__: [row],  # type: ignore[dict-item]
            Need.__table__: rows.need_rows(case.id, encounter.needs, encounter.occurred_at),  # type: ignore[dict-item]
        },
    )
    encounter_id: uuid.UUID = row["id"]
    return encounter_id


def refer(
    session: Session,
    actor: Actor,
    purpose: Purpose | str,
    case_id: uuid.UUID,
    to_org_id: uuid.UUID,
    referral_purpose: Purpose,
    need: NeedCategory | None = None,
    note: str | None = None,
) -> uuid.UUID:
    """Refer a case to a partner organisation for a purpose (consent rules come with policies)."""
    purpose = access.parse_purpose(purpose)
    case, person = _authorized_case(session, actor, Action.UPDATE, purpose, case_id, ("referrals",))
    if session.get(Organisation, to_org_id) is None:
        raise NotFound("no such organisation")
    if referral_purpose is not purpose:
        # The partner will use the case for the referral's purpose: that use is decided too
        # (a referral "for enforcement" is refused and logged like any other forbidden use).
        access.authorize(
            session,
            actor,
            Action.UPDATE,
            referral_purpose,
            access.Resource("case", case.id, case.org_id, case.person_id),
            fields=("referrals",),
        )
    key = _case_key(session, case, person)
    referral_id = uuid.uuid4()
    seal = RowSealer(key, case.org_id, "referrals", referral_id, case.person_id).seal
    session.add(
        Referral(
            id=referral_id,
            case_id=case.id,
            person_id=case.person_id,
            from_org_id=case.org_id,
            to_org_id=to_org_id,
            purpose=referral_purpose,
            status=ReferralStatus.PENDING,
            need_category=need,
            note_ciphertext=seal("note_ciphertext", note),
            created_by_id=actor.user_id,
        )
    )
    return referral_id


def read_case(
    session: Session, actor: Actor, purpose: Purpose | str, case_id: uuid.UUID
) -> CaseView:
    """A case with its needs and encounters, decrypted, after the access decision is logged."""
    purpose = access.parse_purpose(purpose)
    case, person = _authorized_case(session, actor, Action.READ, purpose, case_id, CASE_FIELDS)
    key = _case_key(session, case, person)
    unseal = RowSealer(key, case.org_id, "cases", case.id, case.person_id).open
    location = unseal("location_ciphertext", case.location_ciphertext)
    needs = session.execute(
        select(Need).where(Need.case_id == case.id).order_by(Need.identified_at)
    ).scalars()
    encounters = session.execute(
        select(Encounter).where(Encounter.case_id == case.id).order_by(Encounter.occurred_at)
    ).scalars()
    return CaseView(
        id=case.id,
        person_id=case.person_id,
        org_id=case.org_id,
        status=case.status,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        living_situation=case.living_situation,
        hud_living_situation=case.hud_living_situation,
        is_minor=case.is_minor,
        is_domestic_abuse_survivor=case.is_domestic_abuse_survivor,
        area_geohash=case.area_geohash,
        point=Point.from_text(location) if location else None,
        notes=unseal("notes_ciphertext", case.notes_ciphertext),
        needs=tuple(
            NeedView(n.id, n.category, n.severity, n.status, n.identified_at) for n in needs
        ),
        encounters=tuple(_open_encounter(key, e) for e in encounters),
    )


def _open_encounter(key: SealingKey, row: Encounter) -> EncounterView:
    unseal = RowSealer(key, row.org_id, "encounters", row.id, row.person_id).open
    location = unseal("location_ciphertext", row.location_ciphertext)
    return EncounterView(
        id=row.id,
        occurred_at=row.occurred_at,
        area_geohash=row.area_geohash,
        point=Point.from_text(location) if location else None,
        notes=unseal("notes_ciphertext", row.notes_ciphertext),
        services_given=tuple(row.services_given),
        worker_id=row.worker_id,
    )


def list_cases(
    session: Session,
    actor: Actor,
    purpose: Purpose | str,
    status: CaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[uuid.UUID, uuid.UUID, CaseStatus, datetime, str | None]]:
    """The actor org's caseload: ids, status, dates and district only (no identifiers)."""
    purpose = access.parse_purpose(purpose)
    query = select(Case.id, Case.person_id, Case.status, Case.opened_at, Case.area_geohash).where(
        Case.org_id == actor.org_id
    )
    if status is not None:
        query = query.where(Case.status == status)
    found = session.execute(query.order_by(Case.opened_at.desc()).limit(limit).offset(offset)).all()
    access.authorize(
        session,
        actor,
        Action.SEARCH,
        purpose,
        access.Resource("case_list", None, actor.org_id),
        fields=("status", "area"),
        result_count=len(found),
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in found]
