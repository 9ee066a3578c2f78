"""Lists of cases: a caseload's page, filtered and sorted, as the policy lets the actor see it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session

from databank import policy
from databank.domain import geo
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, CaseStatus, LocationLevel, Purpose
from databank.domain.errors import BadRequest
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import Case, Encounter, Need
from databank.services import access
from databank.services.access import sharing
from databank.services.access.directory import org_names, orgs_of
from databank.services.actors import Actor
from databank.services.records.cases import Place, place_of


@dataclass(frozen=True)
class CaseSummary:
    """One line of a caseload: what the policy releases of the case, never identifiers.

    `released` names the fields the line may show; a column whose field is not in it is
    withheld (None here), not empty."""

    id: uuid.UUID
    person_id: uuid.UUID
    org_id: uuid.UUID
    owner: str  # the owning organisation's slug
    owner_name: str
    status: CaseStatus | None
    opened_at: datetime | None
    place: Place | None
    released: frozenset[str] = frozenset()
    living_situation: EthosCategory | None = None
    needs: tuple[NeedCategory, ...] | None = None  # unresolved needs, health ones if released
    last_contact: datetime | None = None  # the latest encounter, if encounters are released

    def __repr__(self) -> str:  # needs can be health data: keep them out of logs
        return f"CaseSummary(id={self.id}, <hidden>)"


# What a caseload line shows besides the case's status and date (the whole-record field):
# asked for, and shown where released, but a line is listed whatever of these is withheld.
LINE_FIELDS = ("location", "living_situation", "needs", "health", "encounters")


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
    total: int  # the cases listed on every page: counted as listed, so only what may be seen


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
    subjects: Sequence[uuid.UUID] | None = None,
    reference: str | None = None,
) -> CasePage:
    """The cases the actor's org may see for this purpose: its own, consented and referred ones.

    The policy decides first. SQL keeps out every case the org may not see at all and narrows
    the rest by the filters (status, need category, district geohash cell or an area's cells,
    ETHOS category); then each candidate is decided, and a case is listed only where the policy
    releases its status (the whole-record field, which carries the date the list is sorted on)
    and every field a filter is on: a case matched on a withheld field would reveal it. `limit`
    and `offset` count listed cases only, so a page's size and whether another follows depend on
    nothing the actor may not see. The listed cases are read (and logged) like any read, and so
    are the candidates of this page the policy refuses outright. `total` counts the listed cases
    of every page the same way (the walk goes on, deciding without logging).

    A search within the org's own records: `subjects`, the org's records of a person (found by
    name through `people.find_people`, which decides and logs that search), or `reference`, the
    start of a case's id as the pages show it (hexadecimal digits, at least 4).
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
    if reference is not None and not is_reference(reference):
        raise BadRequest("bad reference", {"reference": ["4 to 32 hexadecimal digits"]})
    if own_only or subjects is not None or reference is not None:
        visible = Case.org_id == actor.org_id
    else:
        visible = sharing.visible_cases_clause(session, actor.org_id, actor.org_kind, purpose)
    query = select(Case).where(visible)
    if subjects is not None:
        query = query.where(Case.subject_id.in_(list(subjects)))
    if reference is not None:
        # A case id's text starts with the same hexadecimal digits in both databases (PostgreSQL
        # writes dashes after the 8th, SQLite stores 32 digits): compare at most the first 8.
        query = query.where(func.lower(cast(Case.id, String)).startswith(reference[:8].lower()))
    fields = [access.WHOLE_RECORD, *LINE_FIELDS]
    if status is not None:
        query = query.where(Case.status == status)
    required = [access.WHOLE_RECORD]  # what a filter is on must be released to list a case
    if living_situation is not None:
        query = query.where(Case.living_situation == living_situation)
        required.append("living_situation")
    if cells is not None:  # stored areas are 5 characters (district) or 4 (city)
        query = query.where(Case.area_geohash.in_(cells))
    if need is not None:
        required.append(policy.need_field(need))
        query = query.where(
            select(Need.id).where(Need.case_id == Case.id, Need.category == need).exists()
        )

    def listed(g: access.Grant) -> bool:
        return all(g.has(f) for f in required) and (
            district is None or g.location_level >= LocationLevel.DISTRICT
        )

    shown, refused, more, total = _scan(
        session,
        actor,
        purpose,
        query.order_by(*CASE_SORTS[sort]),
        fields,
        listed,
        (limit, offset),
        located=cells is not None,
    )
    # The page's cases are read, and so are the candidates the policy refused outright: both
    # logged with the decisions the walk made, before anything is returned.
    access.record(session, actor, [d for _c, d in shown + refused], result_count=len(shown))
    return CasePage(_lines(session, shown), more, total)


def _resource(case: Case, located: bool) -> access.Resource:
    resource = access.Resource.of_case(case)
    return resource if located else dataclasses.replace(resource, area=None)


def is_reference(value: str) -> bool:
    """Whether a text can be the start of a case reference (hexadecimal, 4 to 32 digits)."""
    return 4 <= len(value) <= 32 and all(c in "0123456789abcdefABCDEF" for c in value)


def _lines(session: Session, shown: Sequence[_Candidate]) -> list[CaseSummary]:
    """The page's lines, each column filled only where its field was released."""
    ids = [c.id for c, _d in shown]
    needs: dict[uuid.UUID, list[NeedCategory]] = {}
    for case_id, category in session.execute(
        select(Need.case_id, Need.category)
        .where(Need.case_id.in_(ids), Need.resolved_at.is_(None))
        .order_by(Need.identified_at, Need.category)
    ):
        needs.setdefault(case_id, []).append(category)
    latest = select(Encounter.case_id, func.max(Encounter.occurred_at).label("at"))
    contacts: dict[uuid.UUID, datetime] = {
        row.case_id: row.at
        for row in session.execute(
            latest.where(Encounter.case_id.in_(ids)).group_by(Encounter.case_id)
        )
    }
    orgs = orgs_of(session)
    names = org_names(session, {c.org_id for c, _d in shown})
    lines = []
    for c, d in shown:
        grant = d.grant
        lines.append(
            CaseSummary(
                id=c.id,
                person_id=c.person_id,
                org_id=c.org_id,
                owner=orgs.get(session, c.org_id).slug,
                owner_name=names.get(c.org_id, ""),
                status=c.status,
                opened_at=c.opened_at,
                # Lists show district at most: no sealed point is opened for a list.
                place=place_of(
                    min(grant.location_level, LocationLevel.DISTRICT), c.area_geohash, None
                ),
                released=frozenset(f for f in LINE_FIELDS if grant.has(f)),
                living_situation=c.living_situation if grant.has("living_situation") else None,
                needs=tuple(n for n in needs.get(c.id, ()) if grant.has(policy.need_field(n)))
                if grant.has("needs")
                else None,
                last_contact=contacts.get(c.id) if grant.has("encounters") else None,
            )
        )
    return lines


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
    window: tuple[int, int],
    located: bool,
) -> tuple[list[_Candidate], list[_Candidate], bool, int]:
    """Walk every candidate in order, deciding each (not logged yet): the page's cases, the
    candidates refused outright among them (up to the page's end), whether another page
    follows, and how many cases are listed on all pages (`window`: limit and offset).

    A line is logged with its case's district only when the list was asked for a district
    (`located`): that is a question about where people are, what the district-sweep alert
    counts. A work list in date order names each line's area too, but is not that question;
    counted, an officer's ordinary pages raised a sweep on the demo's replayed day."""
    limit, offset = window
    shown: list[_Candidate] = []
    refused: list[_Candidate] = []
    skipped = after = 0
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
                [_resource(c, located) for c in rows],
                fields,
            )
            for case, made in zip(rows, decided, strict=True):
                if not listed(made.grant):
                    if not made.grant.fields and skipped >= offset and len(shown) < limit:
                        refused.append((case, made))
                elif skipped < offset:
                    skipped += 1
                elif len(shown) == limit:
                    after += 1  # counted, neither read nor logged
                else:
                    shown.append((case, made))
    finally:
        streamed.close()
    return shown, refused, after > 0, skipped + len(shown) + after
