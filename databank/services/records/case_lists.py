"""Lists of cases: a caseload's page, filtered and sorted, as the policy lets the actor see it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
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

    The policy decides first. SQL keeps out every case the org may not see at all and narrows
    the rest by the filters (status, need category, district geohash cell or an area's cells,
    ETHOS category); then each candidate is decided, and a case is listed only where the policy
    releases its status (the whole-record field, which carries the date the list is sorted on)
    and every field a filter is on: a case matched on a withheld field would reveal it. `limit`
    and `offset` count listed cases only, so a page's size and whether another follows depend on
    nothing the actor may not see. The listed cases are read (and logged) like any read, and so
    are the candidates of this page the policy refuses outright.
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
    fields = [access.WHOLE_RECORD, "location"]
    if status is not None:
        query = query.where(Case.status == status)
    if living_situation is not None:
        query = query.where(Case.living_situation == living_situation)
        fields.append("living_situation")
    if cells is not None:  # stored areas are 5 characters (district) or 4 (city)
        query = query.where(Case.area_geohash.in_(cells))
    if need is not None:
        fields.append(policy.need_field(need))
        query = query.where(
            select(Need.id).where(Need.case_id == Case.id, Need.category == need).exists()
        )

    def listed(g: access.Grant) -> bool:
        return all(g.has(f) for f in fields if f != "location") and (
            district is None or g.location_level >= LocationLevel.DISTRICT
        )

    shown, refused, more = _scan(
        session, actor, purpose, query.order_by(*CASE_SORTS[sort]), fields, listed, limit, offset
    )
    # The page's cases are read, and so are the candidates the policy refused outright: both
    # logged with the decisions the walk made, before anything is returned.
    access.record(session, actor, [d for _c, d in shown + refused], result_count=len(shown))
    orgs = orgs_of(session)
    lines = [
        CaseSummary(
            id=c.id,
            person_id=c.person_id,
            org_id=c.org_id,
            owner=orgs.get(session, c.org_id).slug,
            status=c.status,
            opened_at=c.opened_at,
            # Lists show district at most: no sealed point is opened for a list.
            place=place_of(
                min(d.grant.location_level, LocationLevel.DISTRICT), c.area_geohash, None
            ),
        )
        for c, d in shown
    ]
    return CasePage(lines, more)


# Candidates decided per round trip while looking for a page's cases.
SCAN_BATCH = 200
# A candidate case and the decision made on it.
_Candidate = tuple[Case, access.Decided]


def _scan(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    ordered: Select[Case],
    fields: Sequence[str],
    listed: Callable[[access.Grant], bool],
    limit: int,
    offset: int,
) -> tuple[list[_Candidate], list[_Candidate], bool]:
    """Walk the candidates in order, deciding each (not logged yet), until the page is full and
    one more listed case is found: the page's cases, the candidates refused outright among them,
    and whether another page follows."""
    shown: list[_Candidate] = []
    refused: list[_Candidate] = []
    skipped = 0
    # One query, read in batches as the walk goes (not one query per batch, each re-skipping
    # the rows before it).
    batch = max(SCAN_BATCH, limit + 1)
    streamed = session.execute(ordered.execution_options(yield_per=batch)).scalars()
    try:
        for rows in streamed.partitions():
            decided = access.decide_many(
                session,
                actor,
                Action.READ,
                purpose,
                [access.Resource.of_case(c) for c in rows],
                fields,
            )
            for case, made in zip(rows, decided, strict=True):
                if not listed(made.grant):
                    if not made.grant.fields and skipped >= offset:
                        refused.append((case, made))
                elif skipped < offset:
                    skipped += 1
                elif len(shown) == limit:
                    return shown, refused, True
                else:
                    shown.append((case, made))
    finally:
        streamed.close()
    return shown, refused, False
