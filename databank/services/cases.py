"""Cases and what happens in them: open, close, record an encounter with needs, refer, read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.crypto import SealingKey
from databank.domain import geo
from databank.domain.enums import (
    Action,
    CaseStatus,
    LocationLevel,
    NeedSeverity,
    NeedStatus,
    PersonStatus,
    Purpose,
    ReferralStatus,
)
from databank.domain.errors import BadRequest, Conflict, Erased, NotFound, ValidationFailed
from databank.domain.vocab import CloseReason, EthosCategory, NeedCategory
from databank.models import Case, Encounter, Identity, Need, Person, Referral
from databank.services import access, rows, sharing
from databank.services.actors import Actor
from databank.services.context import keyring_of, orgs_of
from databank.services.inputs import CaseIn, EncounterIn, Point
from databank.services.sealing import RowSealer

# The policy fields a case page asks for; what is released decides what is decrypted and shown.
CASE_FIELDS = (
    "status",
    "living_situation",
    "flags",
    "needs",
    "health",
    "notes",
    "encounters",
    "location",
    "referrals",
)
# Needs in these categories are health data: released only with the "health" field.
HEALTH_NEEDS = frozenset({NeedCategory.HEALTH, NeedCategory.MENTAL_HEALTH, NeedCategory.ADDICTION})


def need_field(category: NeedCategory | str | None) -> str:
    """The case field that releases a need of this category: "health" or "needs"."""
    return "health" if category in HEALTH_NEEDS else "needs"


@dataclass(frozen=True)
class NeedView:
    id: uuid.UUID
    category: NeedCategory
    severity: NeedSeverity
    status: NeedStatus
    identified_at: datetime

    def __repr__(self) -> str:  # a need can be health data: keep it out of logs and tracebacks
        return f"NeedView(id={self.id}, <hidden>)"


@dataclass(frozen=True)
class Place:
    """A location as released: the finest level the policy allows, coarsened server-side."""

    level: LocationLevel
    geohash: str | None  # at the released level (7 characters street, 5 district, 4 city)
    point: Point | None  # only at LocationLevel.EXACT

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


def _place(level: int, area: str | None, sealed: str | None) -> Place | None:
    """Coarsen a location to the released level; nothing finer ever leaves this function."""
    if level <= LocationLevel.NONE:
        return None
    point = Point.from_text(sealed) if sealed else None
    if level >= LocationLevel.EXACT and point is not None:
        return Place(LocationLevel.EXACT, geo.encode(point.lat, point.lon, 7), point)
    if level >= LocationLevel.STREET and point is not None:
        return Place(LocationLevel.STREET, geo.encode(point.lat, point.lon, 7), None)
    if area is None:
        return None
    if level >= LocationLevel.DISTRICT:
        return Place(LocationLevel.DISTRICT, area[:5], None)
    return Place(LocationLevel.CITY, area[:4], None)


def person_of_case(session: Session, case_id: uuid.UUID) -> uuid.UUID:
    """The pooled pseudonym of a case (an id, not personal data): to open a break-glass on."""
    person_id = session.execute(select(Case.person_id).where(Case.id == case_id)).scalar()
    if person_id is None:
        raise NotFound("no such case")
    return person_id


def _load_case(session: Session, case_id: uuid.UUID) -> tuple[Case, Person]:
    found = session.execute(
        select(Case, Person).join(Person, Person.id == Case.person_id).where(Case.id == case_id)
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
) -> tuple[Case, Person]:
    """Load a case and decide (and log) the actor's access to those of its fields."""
    case, person = _load_case(session, case_id)
    _authorize_case(session, actor, action, purpose, case, fields)
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
    try:
        code = CloseReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in CloseReason)
        raise ValidationFailed(
            "the closing has invalid fields", {"reason": [f"use one of: {known}"]}
        ) from None
    if case.status is CaseStatus.CLOSED:
        raise Conflict("the case is already closed")
    case.status = CaseStatus.CLOSED
    case.closed_at = datetime.now(UTC)
    case.close_reason = code.value


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
    override: bool = False,
) -> uuid.UUID:
    """Refer a case to a partner for a purpose.

    The person must have consented to sharing with that partner (or its kind) for that purpose;
    without consent, only a user whom the policies grant the consent override may refer, and the
    override is decided and logged as its own entry.
    """
    purpose = access.parse_purpose(purpose)
    case, person = _load_case(session, case_id)
    _authorize_case(session, actor, Action.REFER, purpose, case, ("referrals",))
    if to_org_id == case.org_id:
        raise ValidationFailed(
            "a case cannot be referred to its own organisation",
            {"to_org": ["choose a partner organisation"]},
        )
    partner = orgs_of(session).get(session, to_org_id)
    if referral_purpose is not purpose:
        # The partner will use the case for the referral's purpose: that use is decided too
        # (a referral "for enforcement" is refused and logged like any other forbidden use).
        _authorize_case(session, actor, Action.REFER, referral_purpose, case, ("referrals",))
    consented = sharing.has_consent(
        session, case.person_id, case.org_id, partner.id, partner.kind, referral_purpose
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
    """A case with its needs and encounters as the policies release them, logged before return.

    Withheld fields are never decrypted; a location is coarsened to the released level here,
    so no finer value can reach a page, an export or an error message.
    """
    purpose = access.parse_purpose(purpose)
    case, person = _load_case(session, case_id)
    # The sealed rows are fetched before the decision: fetching releases nothing, and the
    # decision's log entry locks the log's head until commit, so less happens while it is held.
    rows = _case_rows(session, case, person)
    grant = _authorize_case(session, actor, Action.READ, purpose, case, CASE_FIELDS)
    return view_of(session, case, person, grant, rows)


@dataclass(frozen=True)
class _CaseRows:
    """A case's sealed rows and key, fetched but not opened."""

    key: SealingKey | None  # None: the person was erased
    needs: tuple[Need, ...]
    encounters: tuple[Encounter, ...]


def case_rows_many(
    session: Session, found: Sequence[tuple[Case, Person]]
) -> dict[uuid.UUID, _CaseRows]:
    """The sealed rows and keys of several cases, in one query per table (and one key query per
    holding organisation), for pages that show several cases at once."""
    live = [(case, person) for case, person in found if person.status is not PersonStatus.ERASED]
    ids = [case.id for case, _person in live]
    keys: dict[tuple[uuid.UUID, uuid.UUID], SealingKey] = {}
    for org_id in {case.org_id for case, _person in live}:
        people_of_org = [case.person_id for case, _person in live if case.org_id == org_id]
        for person_id, key in (
            keyring_of(session).subject_keys(session, org_id, people_of_org).items()
        ):
            keys[(org_id, person_id)] = key
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
            keys.get((case.org_id, case.person_id)),
            tuple(needs.get(case.id, ())),
            tuple(encounters.get(case.id, ())),
        )
        for case, _person in found
    }


def _case_rows(session: Session, case: Case, person: Person) -> _CaseRows:
    return case_rows_many(session, [(case, person)])[case.id]


def view_of(
    session: Session,
    case: Case,
    person: Person,
    grant: access.Grant,
    rows: _CaseRows | None = None,
) -> CaseView:
    """The case as `grant` releases it (the caller authorized and logged the read for it).

    Withheld fields are never decrypted; a location is coarsened to the released level here.
    """
    if rows is None:
        rows = _case_rows(session, case, person)
    if rows.key is None:
        raise Erased("this person's data was erased")
    key = rows.key
    unseal = RowSealer(key, case.org_id, "cases", case.id, case.person_id).open
    level = grant.location_level
    wants_point = level >= LocationLevel.STREET
    needs: tuple[NeedView, ...] = ()
    if grant.has("needs") or grant.has("health"):
        needs = tuple(
            NeedView(n.id, n.category, n.severity, n.status, n.identified_at)
            for n in rows.needs
            if grant.has(need_field(n.category))
        )
    encounters: tuple[EncounterView, ...] = ()
    if grant.has("encounters"):
        encounters = tuple(
            _open_encounter(key, e, level, grant.has("notes")) for e in rows.encounters
        )
    shows = grant.has
    return CaseView(
        id=case.id,
        person_id=case.person_id,
        org_id=case.org_id,
        status=case.status if shows("status") else None,
        opened_at=case.opened_at if shows("status") else None,
        closed_at=case.closed_at if shows("status") else None,
        living_situation=case.living_situation if shows("living_situation") else None,
        hud_living_situation=case.hud_living_situation if shows("living_situation") else None,
        is_minor=case.is_minor if shows("flags") else None,
        is_domestic_abuse_survivor=case.is_domestic_abuse_survivor if shows("flags") else None,
        place=_place(
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


def _open_encounter(key: SealingKey, row: Encounter, level: int, notes: bool) -> EncounterView:
    unseal = RowSealer(key, row.org_id, "encounters", row.id, row.person_id).open
    sealed = (
        unseal("location_ciphertext", row.location_ciphertext)
        if level >= LocationLevel.STREET
        else None
    )
    return EncounterView(
        id=row.id,
        occurred_at=row.occurred_at,
        place=_place(level, row.area_geohash, sealed),
        notes=unseal("notes_ciphertext", row.notes_ciphertext) if notes else None,
        services_given=tuple(row.services_given),
        worker_id=row.worker_id,
    )


@dataclass(frozen=True)
class CaseSummary:
    """One line of a caseload: what the policy releases of the case, never identifiers."""

    id: uuid.UUID
    person_id: uuid.UUID
    org_id: uuid.UUID
    owner: str  # the owning organisation's slug
    status: CaseStatus | None
    opened_at: datetime | None
    place: Place | None


# Caseload orders: none sorts on personal data (names are sealed, so SQL could not anyway), nor
# on a field a partner's policy may withhold (the order would reveal it).
CASE_SORTS = {
    "opened_desc": (Case.opened_at.desc(), Case.id),
    "opened_asc": (Case.opened_at.asc(), Case.id),
}


def _is_district_cell(value: str) -> bool:
    try:
        return len(value) == 5 and geo.coarsen(value, 5) == value
    except ValueError:
        return False


@dataclass(frozen=True)
class CasePage:
    lines: list[CaseSummary]
    more: bool  # visible cases follow this page (a policy may still hide some of them)


def list_cases(
    session: Session,
    actor: Actor,
    purpose: Purpose | str,
    status: CaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
    own_only: bool = False,
    *,
    need: NeedCategory | None = None,
    district: str | Sequence[str] | None = None,
    living_situation: EthosCategory | None = None,
    sort: str = "opened_desc",
) -> list[CaseSummary]:
    """The lines of `case_page` (same arguments)."""
    return case_page(
        session,
        actor,
        purpose,
        status,
        limit,
        offset,
        own_only,
        need=need,
        district=district,
        living_situation=living_situation,
        sort=sort,
    ).lines


def case_page(
    session: Session,
    actor: Actor,
    purpose: Purpose | str,
    status: CaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
    own_only: bool = False,
    *,
    need: NeedCategory | None = None,
    district: str | Sequence[str] | None = None,
    living_situation: EthosCategory | None = None,
    sort: str = "opened_desc",
) -> CasePage:
    """The cases the actor's org may see for this purpose: its own, consented and referred ones.

    SQL keeps out every case the org may not see at all, and applies the filters (status, need
    category, district geohash cell or an area's cells, ETHOS category); then each row gets its
    field decisions, logged like any read. A row matched by a filter on a field the policy
    withholds from the actor is left out: otherwise the filter would reveal the withheld value.
    """
    purpose = access.parse_purpose(purpose)
    if sort not in CASE_SORTS:
        raise BadRequest("unknown sort", {"sort": [f"one of: {', '.join(CASE_SORTS)}"]})
    cells = (district,) if isinstance(district, str) else district
    if cells is not None and not (cells and all(_is_district_cell(c) for c in cells)):
        raise BadRequest("bad district", {"district": ["a 5-character geohash cell"]})
    # First the list itself: a role without access to case content is refused once, here.
    access.authorize(
        session, actor, Action.SEARCH, purpose, access.Resource("case_list", None, actor.org_id)
    )
    if own_only:
        visible = Case.org_id == actor.org_id
    else:
        visible = sharing.visible_cases_clause(session, actor.org_id, actor.org_kind, purpose)
    query = select(Case).where(visible)
    fields = ["status", "location"]
    if status is not None:
        query = query.where(Case.status == status)
    if living_situation is not None:
        query = query.where(Case.living_situation == living_situation)
        fields.append("living_situation")
    if cells is not None:  # stored areas are 5 characters (district) or 4 (city)
        query = query.where(Case.area_geohash.in_(cells))
    filter_field = None
    if need is not None:
        filter_field = need_field(need)
        fields.append(filter_field)
        query = query.where(
            select(Need.id).where(Need.case_id == Case.id, Need.category == need).exists()
        )
    # One row past the page tells whether another page follows (limit and offset count the
    # visible rows, before the field decisions below may leave some out).
    found = list(
        session.execute(query.order_by(*CASE_SORTS[sort]).limit(limit + 1).offset(offset))
        .scalars()
        .all()
    )
    more = len(found) > limit
    found = found[:limit]
    if not found:
        return CasePage([], more)
    orgs = orgs_of(session)
    grants = access.authorize_many(
        session,
        actor,
        Action.READ,
        purpose,
        [access.Resource.of_case(c) for c in found],
        fields=tuple(fields),
        result_count=len(found),
        partial_ok=True,
    )

    def filters_released(g: access.Grant) -> bool:
        return (
            (status is None or g.has("status"))
            and (living_situation is None or g.has("living_situation"))
            and (district is None or g.location_level >= LocationLevel.DISTRICT)
            and (filter_field is None or g.has(filter_field))
        )

    lines = [
        CaseSummary(
            id=c.id,
            person_id=c.person_id,
            org_id=c.org_id,
            owner=orgs.get(session, c.org_id).slug,
            status=c.status if g.has("status") else None,
            opened_at=c.opened_at if g.has("status") else None,
            # Lists show district at most: no sealed point is opened for a list.
            place=_place(min(g.location_level, LocationLevel.DISTRICT), c.area_geohash, None),
        )
        for c, g in zip(found, grants, strict=True)
        if g.fields and filters_released(g)
    ]
    return CasePage(lines, more)
