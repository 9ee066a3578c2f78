"""Lists of cases: a caseload's page, filtered and sorted, as the policy lets the actor see it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank import policy
from databank.domain import geo
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, CaseStatus, LocationLevel, Purpose
from databank.domain.errors import BadRequest
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import Case, Need
from databank.services import access
from databank.services.access import sharing
from databank.services.access.directory import orgs_of
from databank.services.actors import Actor
from databank.services.records.cases import Place, place_of


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
    purpose: Purpose,
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
    purpose: Purpose,
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
    if sort not in CASE_SORTS:
        raise BadRequest("unknown sort", {"sort": [f"one of: {', '.join(CASE_SORTS)}"]})
    cells = (district,) if isinstance(district, str) else district
    if cells is not None and not (cells and all(_is_district_cell(c) for c in cells)):
        raise BadRequest("bad district", {"district": ["a 5-character geohash cell"]})
    # First the list itself: a role without access to case content is refused once, here.
    access.authorize(
        session,
        actor,
        Action.SEARCH,
        purpose,
        access.Resource(RecordType.CASE_LIST, None, actor.org_id),
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
        filter_field = policy.need_field(need)
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
            place=place_of(min(g.location_level, LocationLevel.DISTRICT), c.area_geohash, None),
        )
        for c, g in zip(found, grants, strict=True)
        if g.fields and filters_released(g)
    ]
    return CasePage(lines, more)
