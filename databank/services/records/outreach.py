"""What an outreach worker's pages read: recent contacts, a person's page, partners to refer to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank import policy
from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, CaseStatus, Purpose
from databank.domain.errors import NotFound
from databank.models import Case, Encounter, Need, Subject
from databank.services import access
from databank.services.actors import Actor
from databank.services.records import caseload, cases, consents, people
from databank.services.records.cases import CaseView
from databank.services.records.consents import ConsentView
from databank.services.records.open_needs import open_needs_of

RECENT_DAYS = 30
RECENT_LIMIT = 20


@dataclass(frozen=True)
class Contact:
    """One line of the recent-contacts list: the own org's identity of a person met lately."""

    person_id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date
    last_seen_at: datetime
    open_case_id: uuid.UUID | None = None  # for the "new encounter" shortcut

    def __repr__(self) -> str:  # names stay out of logs and tracebacks
        return f"Contact(person_id={self.person_id}, <hidden>)"


def recent_contacts(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    days: int = RECENT_DAYS,
    limit: int = RECENT_LIMIT,
) -> list[Contact]:
    """People the actor's org met (or registered) in the last `days`, most recent first.

    Only the own org's identities are listed, each decided and logged like any identity read;
    a person whose identity the policy withholds is left out.
    """
    access.authorize(
        session,
        actor,
        Action.SEARCH,
        purpose,
        access.Resource(RecordType.RECENT_CONTACTS, None, actor.org_id),
        fields=("identity",),
    )
    since = datetime.now(UTC) - timedelta(days=days)
    last_seen: dict[uuid.UUID, datetime] = {}
    met = (
        select(Subject.person_id, func.max(Encounter.occurred_at))
        .join(Case, Case.id == Encounter.case_id)
        .join(Subject, Subject.id == Case.subject_id)
        .where(Encounter.org_id == actor.org_id, Encounter.occurred_at >= since)
    )
    opened = (
        select(Subject.person_id, func.max(Case.opened_at))
        .join(Subject, Subject.id == Case.subject_id)
        .where(Case.org_id == actor.org_id, Case.opened_at >= since)
    )
    for query in (met, opened):
        for person_id, at in session.execute(query.group_by(Subject.person_id)).all():
            if person_id not in last_seen or at > last_seen[person_id]:
                last_seen[person_id] = at
    newest = sorted(last_seen, key=lambda p: last_seen[p], reverse=True)[:limit]
    if not newest:
        return []
    open_cases = dict(
        session.execute(
            select(Subject.person_id, Case.id)
            .join(Subject, Subject.id == Case.subject_id)
            .where(
                Case.org_id == actor.org_id,
                Case.status == CaseStatus.OPEN,
                Subject.person_id.in_(newest),
            )
            .order_by(Case.opened_at, Case.id)  # the newest open case of a person is kept
        ).all()
    )
    found = []
    listed: set[uuid.UUID] = set()
    for row, key in caseload.own_identities(session, actor, purpose, newest):
        if row.person_id in listed:  # the org's second record of a person: one line each
            continue
        listed.add(row.person_id)
        view = people.open_identity(row, key, contact=False)
        found.append(
            Contact(
                row.person_id,
                view.given_name,
                view.family_name,
                view.birth_date,
                last_seen[row.person_id],
                open_cases.get(row.person_id),
            )
        )
    return sorted(found, key=lambda c: c.last_seen_at, reverse=True)


@dataclass(frozen=True)
class PersonPage:
    """A person as the own org's outreach worker may see them: identity, cases, consents."""

    identity: people.IdentityView
    cases: tuple[CaseView, ...]  # newest first; what each case's policy releases
    consents: tuple[ConsentView, ...]

    @property
    def open_case(self) -> CaseView | None:
        return next((c for c in self.cases if c.status is CaseStatus.OPEN), None)

    def __repr__(self) -> str:
        return f"PersonPage(person_id={self.identity.person_id}, <hidden>)"


def person_page(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID
) -> PersonPage:
    """Everything on a person's page, each part read (and logged) by the service that owns it.

    Only the actor's own org's records: another org's person is not found (read_identity), and
    the attempt logged.
    """
    identity = people.read_identity(session, actor, purpose, person_id)
    # The cases of every record the org holds of the person (two subjects pooled by linkage).
    found = [
        (row[0], row[1])
        for row in session.execute(
            select(Case, Subject)
            .join(Subject, Subject.id == Case.subject_id)
            .where(Subject.person_id == identity.person_id, Case.org_id == actor.org_id)
            .order_by(Case.opened_at.desc(), Case.id)
        )
    ]
    # Each case decided and logged as a case read, in one batch; rows fetched in one query each.
    grants = (
        access.authorize_many(
            session,
            actor,
            Action.READ,
            purpose,
            [access.Resource.of_case(case) for case, _subject in found],
            fields=cases.CASE_FIELDS,
        )
        if found
        else []
    )
    rows = cases.case_rows_many(session, found)
    views = tuple(
        cases.view_of(session, case, subject, grant, rows[case.id])
        for (case, subject), grant in zip(found, grants, strict=True)
    )
    given = tuple(consents.consents_for(session, actor, purpose, person_id))
    return PersonPage(identity, views, given)


def own_case_person(
    session: Session, actor: Actor, action: Action, purpose: Purpose, case_id: uuid.UUID
) -> uuid.UUID:
    """The person of a case the actor's own org holds (an id, for the forms' links back).

    Another org's case is not found, exactly like one that does not exist, and the attempt
    (`action`: the form read, or what its sending would do) is logged for its owner."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(access.NO_SUCH_CASE)
    if case.org_id != actor.org_id:
        resource = access.Resource.of_case(case)
        access.refuse_unheld(actor, action, purpose, [resource], access.NO_SUCH_CASE)
    return case.person_id


def may_override_consent(
    session: Session, actor: Actor, purpose: Purpose, case_id: uuid.UUID
) -> bool:
    """Whether the policies would let the actor refer this case without consent.

    Only to decide whether to offer the override field: the override itself is decided and
    logged again by cases.refer when it is used.
    """
    case = session.get(Case, case_id)
    if case is None:
        return False
    explanation = access.explain(
        session,
        actor,
        Action.OVERRIDE_CONSENT,
        purpose,
        access.Resource.of_case(case),
        "referrals",
    )
    return explanation.allowed


def open_needs(
    session: Session, actor: Actor, purpose: Purpose, case_id: uuid.UUID
) -> tuple[cases.NeedView, ...]:
    """The needs still open on a case, as the policy releases them: what an encounter form
    starts with ticked, at their urgency (decided and logged as a read of the case's needs)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(access.NO_SUCH_CASE)
    grant = access.authorize(
        session,
        actor,
        Action.READ,
        purpose,
        access.Resource.of_case(case),
        fields=("needs", "health"),
    )
    held = [n for n in open_needs_of(session, [case.id])[case.id].values() if isinstance(n, Need)]
    return tuple(
        cases.NeedView(n.id, n.category, n.severity, n.status, n.identified_at)
        for n in sorted(held, key=lambda n: n.identified_at)
        if grant.has(policy.need_field(n.category))
    )
