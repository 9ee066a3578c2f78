"""The cross-org timeline of a person: their other cases, pooled on the same pseudonym, as the
holders' policies release them to the reader, merged by time. Decided and logged by access.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import Action, Purpose, SubjectStatus
from databank.models import Case, Subject
from databank.services import access
from databank.services.access import sharing
from databank.services.access.directory import org_names, orgs_of
from databank.services.actors import Actor
from databank.services.records import cases


@dataclass(frozen=True)
class TimelineCase:
    """One of the person's other cases, with what its holder's policy withheld from the actor."""

    case_id: uuid.UUID
    org_slug: str
    org_name: str
    released: frozenset[str]
    withheld: frozenset[str]


@dataclass(frozen=True)
class TimelineItem:
    """The opening, a need or an encounter of another case, as released (a location at the
    released level: the district, never the point, where a partner's policy says so)."""

    at: datetime
    kind: str  # "opened", "need" or "encounter"
    source: TimelineCase
    place: cases.Place | None = None  # where the case or the encounter is placed
    encounter: cases.EncounterView | None = None
    need: cases.NeedView | None = None

    def __repr__(self) -> str:
        return f"TimelineItem(kind={self.kind}, case={self.source.case_id}, <hidden>)"


@dataclass(frozen=True)
class Timeline:
    items: tuple[TimelineItem, ...]
    cases: tuple[TimelineCase, ...]


# What a timeline shows of another organisation's case (dates, places, needs, encounters and
# their notes): only these are asked for, so the log records no more than was released.
TIMELINE_FIELDS = ("status", "needs", "health", "notes", "encounters", "location")


def person_timeline(
    session: Session, actor: Actor, purpose: Purpose, view: cases.CaseView
) -> Timeline:
    """The person's other cases (any org, pooled on the same pseudonym) as the policies release
    them to the actor for this purpose, merged into one timeline sorted by time.

    SQL keeps out every case the actor's org may not see at all (as a caseload does); the rest
    are decided in one batch and logged, one entry per case; a case with nothing released is
    left out. Locations are coarsened by the same code as the case page (cases.view_of).
    """
    visible = sharing.visible_cases_clause(session, actor.org_id, actor.org_kind, purpose)
    found = session.execute(
        select(Case, Subject)
        .join(Subject, Subject.id == Case.subject_id)
        .where(
            Subject.person_id == view.person_id,
            Case.id != view.id,
            Subject.status == SubjectStatus.ACTIVE,
            visible,
        )
        .order_by(Case.opened_at, Case.id)
    ).all()
    if not found:
        return Timeline((), ())
    grants = access.authorize_many(
        session,
        actor,
        Action.READ,
        purpose,
        [access.Resource.of_case(case) for case, _subject in found],
        fields=TIMELINE_FIELDS,
        result_count=len(found),
        partial_ok=True,
    )
    shown = [(pair, grant) for pair, grant in zip(found, grants, strict=True) if grant.fields]
    if not shown:
        return Timeline((), ())
    names = org_names(session, (case.org_id for (case, _subject), _grant in shown))
    orgs = orgs_of(session)
    items: list[TimelineItem] = []
    sources: list[TimelineCase] = []
    rows = cases.case_rows_many(session, [pair for pair, _grant in shown])
    for (case, subject), grant in shown:
        other = cases.view_of(session, case, subject, grant, rows[case.id])
        source = TimelineCase(
            case.id,
            orgs.get(session, case.org_id).slug,
            names.get(case.org_id, ""),
            other.released,
            other.withheld,
        )
        sources.append(source)
        if other.opened_at is not None:
            items.append(TimelineItem(other.opened_at, "opened", source, other.place))
        items.extend(
            TimelineItem(e.occurred_at, "encounter", source, e.place, encounter=e)
            for e in other.encounters
        )
        items.extend(TimelineItem(n.identified_at, "need", source, need=n) for n in other.needs)
    order = {"opened": 0, "need": 1, "encounter": 2}
    items.sort(key=lambda item: (item.at, order[item.kind]))
    return Timeline(tuple(items), tuple(sources))
