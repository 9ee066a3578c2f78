"""Cases and what happens in them: open, record an encounter with needs, refer, read (their
later changes, closing included, are in lifecycle.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank import policy
from databank.crypto import SealingKey
from databank.domain import geo
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import (
    CONSENTABLE_PURPOSES,
    Action,
    CaseStatus,
    LocationLevel,
    NeedSeverity,
    NeedStatus,
    Purpose,
    ReferralStatus,
    SubjectStatus,
)
from databank.domain.errors import Conflict, Erased, NotFound, ValidationFailed
from databank.domain.vocab import CloseReason, Destination, EthosCategory, NeedCategory
from databank.models import Case, Encounter, Need, Referral, Subject
from databank.services import access
from databank.services.access import sharing
from databank.services.access.directory import orgs_of
from databank.services.actors import Actor
from databank.services.inputs import AREA_PREFIX, CaseIn, EncounterIn, Point, when_happened
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.records import open_needs, sealed_rows, subjects

# The policy fields a case page asks for (the case's own: identity, contact and consents are the
# person's, asked for apart); what is released decides what is decrypted and shown.
CASE_FIELDS = tuple(f for f in policy.FIELDS if f not in {"identity", "contact", "consents"})


@dataclass(frozen=True)
class NeedView:
    id: uuid.UUID
    category: NeedCategory
    severity: NeedSeverity
    status: NeedStatus
    identified_at: datetime
    resolved_at: datetime | None = None

    def __repr__(self) -> str:  # a need can be health data: keep it out of logs and tracebacks
        return f"NeedView(id={self.id}, <hidden>)"


@dataclass(frozen=True)
class Place:
    """A location as released: the finest level the policy allows, coarsened server-side."""

    level: LocationLevel
    geohash: str | None  # at the released level (7 characters street, 5 district, 4 city)
    point: Point | None  # only at LocationLevel.EXACT
    area: str | None = None  # the area picked without a point (its code), street level or finer

    def __repr__(self) -> str:
        return f"Place(level={self.level.name}, <hidden>)"


@dataclass(frozen=True)
class EncounterView:
    id: uuid.UUID
    occurred_at: datetime
    place: Place | None
    notes: str | None
    services_given: tuple[str, ...]
    worker_id: uuid.UUID | None

    def __repr__(self) -> str:
        return f"EncounterView(id={self.id}, <hidden>)"


@dataclass(frozen=True)
class CaseView:
    """A case as the actor may see it: fields the policy withheld are None and listed."""

    id: uuid.UUID
    person_id: uuid.UUID
    org_id: uuid.UUID
    status: CaseStatus | None
    opened_at: datetime | None
    closed_at: datetime | None
    close_reason: CloseReason | None
    destination: Destination | None  # where a case closed as housed or sheltered went
    living_situation: EthosCategory | None
    hud_living_situation: int | None
    is_minor: bool | None
    is_domestic_abuse_survivor: bool | None
    place: Place | None
    notes: str | None
    needs: tuple[NeedView, ...]
    encounters: tuple[EncounterView, ...]
    released: frozenset[str]
    withheld: frozenset[str]
    break_glass: bool = False
    # What the policy decided on (the case's own facts, flags included, even when the view withholds
    # them): further decisions about the same case (its consents) start from it. Never shown.
    resource: access.Resource | None = field(default=None, repr=False, compare=False)

    @property
    def area_geohash(self) -> str | None:
        return self.place.geohash if self.place else None

    @property
    def point(self) -> Point | None:
        return self.place.point if self.place else None

    def __repr__(self) -> str:
        return f"CaseView(id={self.id}, status={self.status}, <hidden>)"


def place_of(level: int, area: str | None, sealed: str | None) -> Place | None:
    """Coarsen a location to the released level; nothing finer ever leaves this function."""
    text = sealed if sealed and level >= LocationLevel.STREET else ""
    picked = text.removeprefix(AREA_PREFIX) if text.startswith(AREA_PREFIX) else None
    point = Point.from_text(text) if text and picked is None else None
    released = geo.release_place(level, area, (point.lat, point.lon) if point else None)
    if released is None:
        return None
    given, cell, exact = released
    return Place(given, cell, point if exact else None, picked)


def person_of_case(session: Session, case_id: uuid.UUID) -> uuid.UUID:
    """The pooled pseudonym of a case (an id, not personal data): to open a break-glass on."""
    person_id = session.execute(
        select(Subject.person_id)
        .join(Case, Case.subject_id == Subject.id)
        .where(Case.id == case_id)
    ).scalar()
    if person_id is None:
        raise NotFound("no such case")
    return person_id


def _load_case(session: Session, case_id: uuid.UUID) -> tuple[Case, Subject]:
    found = session.execute(
        select(Case, Subject).join(Subject, Subject.id == Case.subject_id).where(Case.id == case_id)
    ).one_or_none()
    if found is None:
        raise NotFound("no such case")
    return found[0], found[1]


def _authorize_case(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    case: Case,
    fields: tuple[str, ...],
) -> access.Grant:
    return access.authorize(
        session,
        actor,
        action,
        purpose,
        access.Resource.of_case(case),
        fields=fields,
    )


def _authorized_case(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    case_id: uuid.UUID,
    fields: tuple[str, ...],
) -> tuple[Case, Subject]:
    """Load a case and decide (and log) the actor's access to those of its fields."""
    case, subject = _load_case(session, case_id)
    _authorize_case(session, actor, action, purpose, case, fields)
    return case, subject


def _case_key(session: Session, case: Case, subject: Subject) -> SealingKey:
    subjects.require_active(subject)
    return keyring_of(session).subject_key_for(session, case.org_id, subject.id)


def open_case(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID, case: CaseIn
) -> uuid.UUID:
    """Open a case for a person the actor's org has registered (another org's person is not
    found, the attempt logged). The case goes to the org's main record of the person."""
    subject = subjects.own_subject(
        session, actor, Action.CREATE, purpose, person_id, RecordType.CASE
    )
    subjects.require_active(subject)
    key = keyring_of(session).subject_key_for(session, actor.org_id, subject.id)
    row = sealed_rows.case_row(
        key, actor.org_id, subject.id, subject.binding, case, actor.user_id, datetime.now(UTC)
    )
    access.authorize(
        session,
        actor,
        Action.CREATE,
        purpose,
        access.Resource(RecordType.CASE, row["id"], actor.org_id, subject.person_id),
    )
    sealed_rows.insert_rows(session, {Case.__table__: [row]})  # type: ignore[dict-item]
    case_id: uuid.UUID = row["id"]
    return case_id


def record_encounter(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    case_id: uuid.UUID,
    encounter: EncounterIn,
) -> uuid.UUID:
    """An encounter in the street (or office), with the needs seen, on an open case."""
    case, subject = _authorized_case(
        session, actor, Action.UPDATE, purpose, case_id, ("encounters",)
    )
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is closed; open a new one to record an encounter")
    key = _case_key(session, case, subject)
    row = sealed_rows.encounter_row(
        key, case.org_id, subject.binding, case.id, encounter, actor.user_id, datetime.now(UTC)
    )
    # A need already open on the case is the same need (its urgency updated), not a second one.
    held = open_needs.open_needs_of(session, [case.id])[case.id]
    sealed_rows.insert_rows(
        session,
        {
            Encounter.__table__: [row],  # type: ignore[dict-item]
            Need.__table__: open_needs.merge(  # type: ignore[dict-item]
                session, case.id, held, encounter.needs, encounter.occurred_at, actor.user_id
            ),
        },
    )
    encounter_id: uuid.UUID = row["id"]
    return encounter_id


def refer(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    case_id: uuid.UUID,
    to_org_id: uuid.UUID,
    referral_purpose: Purpose,
    need: NeedCategory | None = None,
    note: str | None = None,
    override: bool = False,
    justification: str | None = None,
    justification_prefix: str = "Consent override: ",
    sent_at: datetime | None = None,
) -> uuid.UUID:
    """Refer a case to a partner for a purpose (`sent_at`: when, if recorded later).

    The person must have consented to sharing with that partner (or its kind) for that purpose;
    without consent, only a user whom the policies grant the consent override may refer, with a
    written justification, and the override is decided and logged as its own entry. The
    justification is kept with the referral, sealed like its note (`justification_prefix`, in the
    user's language, introduces it there), never in the log.
    """
    why = (justification or "").strip()
    if override and not why:
        # Whatever door the referral comes through (page, API, import), an override says why.
        raise ValidationFailed(
            "a consent override needs a justification",
            {"justification": ["say why the person's consent is not asked for"]},
        )
    case, subject = _load_case(session, case_id)
    _authorize_case(session, actor, Action.REFER, purpose, case, ("referrals",))
    if to_org_id == case.org_id:
        raise ValidationFailed(
            "a case cannot be referred to its own organisation",
            {"to_org": ["choose a partner organisation"]},
        )
    partner = orgs_of(session).get(session, to_org_id)
    if not referral_purpose.is_consentable and not referral_purpose.is_forbidden:
        # Statistics, audit, vital interest: no partner is referred a case for these. (A
        # forbidden purpose goes on to the policy, which refuses it, logged and alerted.)
        raise ValidationFailed(
            "a referral is made for a purpose a person can agree to",
            {"purpose": [f"one of: {', '.join(p.value for p in CONSENTABLE_PURPOSES)}"]},
        )
    if referral_purpose is not purpose:
        # The partner will use the case for the referral's purpose: that use is decided too
        # (a referral "for enforcement" is refused and logged like any other forbidden use).
        _authorize_case(session, actor, Action.REFER, referral_purpose, case, ("referrals",))
    consented = sharing.has_consent(
        session, subject.person_id, case.org_id, partner.id, partner.kind, referral_purpose
    )
    if not consented:
        if not override:
            raise ValidationFailed(
                "the person has not consented to this sharing",
                {
                    "consent": [
                        f"record consent to share with {partner.slug} for "
                        f"{referral_purpose.value} first, or use the consent override"
                    ]
                },
            )
        _authorize_case(
            session, actor, Action.OVERRIDE_CONSENT, referral_purpose, case, ("referrals",)
        )
    if override:
        note = "\n\n".join(t for t in (note, f"{justification_prefix}{why}") if t)
    key = _case_key(session, case, subject)
    sent = when_happened(sent_at, case.opened_at, "sent_at")
    referral_id = uuid.uuid4()
    seal = RowSealer(key, case.org_id, "referrals", referral_id, subject.binding).seal
    session.add(
        Referral(
            id=referral_id,
            case_id=case.id,
            from_org_id=case.org_id,
            to_org_id=to_org_id,
            purpose=referral_purpose,
            status=ReferralStatus.PENDING,
            need_category=need,
            note_ciphertext=seal("note_ciphertext", note),
            created_by_id=actor.user_id,
            created_at=sent,
        )
    )
    return referral_id


def read_case(session: Session, actor: Actor, purpose: Purpose, case_id: uuid.UUID) -> CaseView:
    """A case with its needs and encounters as the policies release them, logged before return.

    Withheld fields are never decrypted; a location is coarsened to the released level here,
    so no finer value can reach a page, an export or an error message.
    """
    case, subject = _load_case(session, case_id)
    # The sealed rows are fetched before the decision: fetching releases nothing, and the
    # decision's log entry locks the log's head until commit, so less happens while it is held.
    rows = _case_rows(session, case, subject)
    grant = _authorize_case(session, actor, Action.READ, purpose, case, CASE_FIELDS)
    return view_of(session, case, subject, grant, rows)


@dataclass(frozen=True)
class _CaseRows:
    """A case's sealed rows and key, fetched but not opened."""

    key: SealingKey | None  # None: the subject was erased
    needs: tuple[Need, ...]
    encounters: tuple[Encounter, ...]


def case_rows_many(
    session: Session, found: Sequence[tuple[Case, Subject]]
) -> dict[uuid.UUID, _CaseRows]:
    """The sealed rows and keys of several cases, in one query per table (and one key query per
    holding organisation), for pages that show several cases at once."""
    live = [(case, subj) for case, subj in found if subj.status is SubjectStatus.ACTIVE]
    ids = [case.id for case, _subject in live]
    keys: dict[uuid.UUID, SealingKey] = {}
    for org_id in {case.org_id for case, _subject in live}:
        of_org = [case.subject_id for case, _subject in live if case.org_id == org_id]
        keys.update(keyring_of(session).subject_keys(session, org_id, of_org))
    needs: dict[uuid.UUID, list[Need]] = {i: [] for i in ids}
    encounters: dict[uuid.UUID, list[Encounter]] = {i: [] for i in ids}
    if ids:
        for need in session.execute(
            select(Need).where(Need.case_id.in_(ids)).order_by(Need.identified_at)
        ).scalars():
            needs[need.case_id].append(need)
        for encounter in session.execute(
            select(Encounter).where(Encounter.case_id.in_(ids)).order_by(Encounter.occurred_at)
        ).scalars():
            encounters[encounter.case_id].append(encounter)
    return {
        case.id: _CaseRows(
            keys.get(case.subject_id) if subject.status is SubjectStatus.ACTIVE else None,
            tuple(needs.get(case.id, ())),
            tuple(encounters.get(case.id, ())),
        )
        for case, subject in found
    }


def _case_rows(session: Session, case: Case, subject: Subject) -> _CaseRows:
    return case_rows_many(session, [(case, subject)])[case.id]


def view_of(
    session: Session,
    case: Case,
    subject: Subject,
    grant: access.Grant,
    rows: _CaseRows | None = None,
) -> CaseView:
    """The case as `grant` releases it (the caller authorized and logged the read for it).

    Withheld fields are never decrypted; a location is coarsened to the released level here.
    """
    if rows is None:
        rows = _case_rows(session, case, subject)
    if rows.key is None:
        raise Erased("this person's data was erased")
    key = rows.key
    unseal = RowSealer(key, case.org_id, "cases", case.id, subject.binding).open
    level = grant.location_level
    wants_point = level >= LocationLevel.STREET
    needs: tuple[NeedView, ...] = ()
    if grant.has("needs") or grant.has("health"):
        needs = tuple(
            NeedView(n.id, n.category, n.severity, n.status, n.identified_at, n.resolved_at)
            for n in rows.needs
            if grant.has(policy.need_field(n.category))
        )
    encounters: tuple[EncounterView, ...] = ()
    if grant.has("encounters"):
        encounters = tuple(
            _open_encounter(key, subject.binding, e, level, grant.has("notes"))
            for e in rows.encounters
        )
    shows = grant.has
    return CaseView(
        id=case.id,
        person_id=subject.person_id,
        org_id=case.org_id,
        status=case.status if shows("status") else None,
        opened_at=case.opened_at if shows("status") else None,
        closed_at=case.closed_at if shows("status") else None,
        close_reason=CloseReason(case.close_reason)
        if case.close_reason and shows("status")
        else None,
        destination=case.destination if shows("status") else None,
        living_situation=case.living_situation if shows("living_situation") else None,
        hud_living_situation=case.hud_living_situation if shows("living_situation") else None,
        is_minor=case.is_minor if shows("flags") else None,
        is_domestic_abuse_survivor=case.is_domestic_abuse_survivor if shows("flags") else None,
        place=place_of(
            level,
            case.area_geohash,
            unseal("location_ciphertext", case.location_ciphertext) if wants_point else None,
        ),
        notes=unseal("notes_ciphertext", case.notes_ciphertext) if shows("notes") else None,
        needs=needs,
        encounters=encounters,
        released=grant.fields,
        withheld=grant.release.withheld,
        break_glass=grant.break_glass,
        resource=access.Resource.of_case(case),
    )


def _open_encounter(
    key: SealingKey, binding: uuid.UUID, row: Encounter, level: int, notes: bool
) -> EncounterView:
    unseal = RowSealer(key, row.org_id, "encounters", row.id, binding).open
    sealed = (
        unseal("location_ciphertext", row.location_ciphertext)
        if level >= LocationLevel.STREET
        else None
    )
    return EncounterView(
        id=row.id,
        occurred_at=row.occurred_at,
        place=place_of(level, row.area_geohash, sealed),
        notes=unseal("notes_ciphertext", row.notes_ciphertext) if notes else None,
        services_given=tuple(row.services_given),
        worker_id=row.worker_id,
    )
