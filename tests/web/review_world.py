"""A small pool with grey-zone pairs for the linkage review pages and API: two organisations, a
reviewer in each, staff who are not reviewers, and pairs opened with a known score (which must
never reach an answer)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import Person
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.linkage import pairs
from databank.services.records import people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.web.conftest import PASSWORD

# A score no answer may carry, in any of the ways it could be written, nor the zone's names for
# scores and weights (the pages may say in words that no score is shown).
PROBABILITY = 0.4321
SCORE_TEXTS = ("0.4321", "0,4321", "43.21", "43,21", "0.432", "probability", "match_weight", "mw_")
EVIDENCE = {
    "given": "agrees_strongly",
    "family": "agrees",
    "birth_date": "differs",
    "sex": "missing",
    "birth_place": "neutral",
    "area": "contradicts",
}
# Pairs of people different enough that linkage never joins them on its own.
NAMES = (
    (("Jeanne", "Marchal", date(1961, 2, 3)), ("Karim", "Haddad", date(1990, 11, 23))),
    (("Lucas", "Perrin", date(1975, 6, 7)), ("Aminata", "Traoré", date(2001, 1, 30))),
    (("Irina", "Kowalska", date(1983, 9, 12)), ("Ousmane", "Sow", date(1969, 4, 18))),
    (("Paul", "Lemoine", date(1958, 12, 1)), ("Fatou", "Ndiaye", date(1994, 8, 9))),
    (("Chloé", "Garnier", date(1999, 3, 27)), ("Mehdi", "Bensaïd", date(1972, 5, 15))),
    (("Hugo", "Vasseur", date(1988, 10, 4)), ("Aïcha", "Cissé", date(1979, 7, 21))),
    (("Léa", "Roussel", date(1966, 1, 11)), ("Bogdan", "Ionescu", date(1985, 2, 28))),
    (("Nina", "Charpentier", date(1993, 4, 2)), ("Yaw", "Mensah", date(1963, 9, 6))),
)


@dataclass(frozen=True)
class ReviewWorld:
    charity: uuid.UUID
    council: uuid.UUID
    pairs: list[uuid.UUID]  # review ids, oldest first
    charity_persons: list[uuid.UUID]  # the pooled person of each pair's charity side
    pooled: frozenset[str]  # every pooled person id: no answer may carry one
    names: tuple[str, ...]  # every clear name and birth date registered


def _pair_ids(runtime: Runtime, subjects: list[tuple[uuid.UUID, uuid.UUID]]) -> list[uuid.UUID]:
    from databank.models.linkage import LinkageReview  # the zone's table, read to know the ids

    with runtime.transaction() as session:
        for a, b in subjects:
            assert pairs.open_review(session, a, b, PROBABILITY, dict(EVIDENCE))
    with runtime.transaction() as session:
        found = []
        for a, b in subjects:
            first, second = (a, b) if str(a) < str(b) else (b, a)
            found.append(
                session.scalars(
                    select(LinkageReview.id).where(
                        LinkageReview.subject_a_id == first, LinkageReview.subject_b_id == second
                    )
                ).one()
            )
    return found


def build(runtime: Runtime) -> ReviewWorld:
    with runtime.transaction() as session:
        charity = organisations.create_organisation(session, "charity", "Charity", OrgKind.CHARITY)
        council = organisations.create_organisation(session, "council", "Council", OrgKind.COUNCIL)
        make = organisations.create_user
        make(session, charity, "reviewer", "Reviewer", PASSWORD, [Role.LINKAGE_REVIEWER])
        make(
            session,
            charity,
            "reviewer-worker",
            "Reviewer and worker",
            PASSWORD,
            [Role.LINKAGE_REVIEWER, Role.OUTREACH_WORKER],
        )
        make(session, council, "council-reviewer", "Reviewer", PASSWORD, [Role.LINKAGE_REVIEWER])
        make(session, charity, "worker", "Worker", PASSWORD, [Role.OUTREACH_WORKER])
        make(session, charity, "admin", "Admin", PASSWORD, [Role.ORG_ADMIN])
        make(session, council, "auditor", "Auditor", PASSWORD, [Role.AUDITOR])
        staff = {
            org.id: Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
            for org in (charity, council)
        }
        subjects: list[tuple[uuid.UUID, uuid.UUID]] = []
        persons: list[uuid.UUID] = []
        clear: list[str] = []
        for ours, theirs in NAMES:
            sides = []
            for org, (given, family, born) in ((charity, ours), (council, theirs)):
                who = identity(given_name=given, family_name=family, birth_date=born)
                [found] = people.intake(
                    session, staff[org.id], Purpose.OUTREACH, [intake_record(who)]
                )
                sides.append(found)
                clear += [given, family, born.isoformat()]
            subjects.append((sides[0].subject_id, sides[1].subject_id))
            persons.append(sides[0].person_id)
        charity_id, council_id = charity.id, council.id
    pairs = _pair_ids(runtime, subjects)
    with runtime.transaction() as session:
        pooled = frozenset(str(p) for p in session.scalars(select(Person.id)))
    return ReviewWorld(charity_id, council_id, pairs, persons, pooled, tuple(clear))


def assert_clean(world: ReviewWorld, body: str) -> None:
    """No score, no pooled id, no clear name or birth date in an answer's raw body."""
    lowered = body.lower()
    assert not [s for s in SCORE_TEXTS if s in lowered], "a score left the zone"
    assert not [p for p in world.pooled if p in body], "a pooled person id left the server"
    assert not [n for n in world.names if n in body], "a clear identifier was shown"
