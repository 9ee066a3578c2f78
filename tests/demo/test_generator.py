"""Tests of the demo city: what it loads, that it is reproducible, and that it stays sealed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.db import Base
from databank.demo.generator import DemoPerson, DemoSummary, generate_population, load_demo
from databank.domain.enums import Purpose, Role
from databank.domain.errors import Conflict
from databank.domain.names import name_key
from databank.models import Identity, Organisation, Person, Subject, User
from databank.services.access import directory
from databank.services.accounts import organisations
from databank.services.records import people
from tests.conftest import ActorMaker

PEOPLE, SEED = 150, 7


@pytest.fixture
def summary(session: Session) -> DemoSummary:
    return load_demo(session, people=PEOPLE, seed=SEED)


@pytest.fixture(scope="module")
def population() -> list[DemoPerson]:
    return generate_population(PEOPLE, SEED)


def test_loads_the_five_organisations_and_staff_of_every_role(
    session: Session, summary: DemoSummary
) -> None:
    slugs = set(session.scalars(select(Organisation.slug)))
    assert slugs == {"metropole", "tables-du-coeur", "entraide", "habitat-rhone", "emsp"}
    users = session.scalars(select(User)).all()
    assert {role for user in users for role in user.roles} == set(Role)
    assert len(users) == summary.users == len(summary.logins)
    assert {(u.username, next(iter(u.roles)), u.org.slug) for u in users} == set(summary.logins)
    assert organisations.authenticate(session, "outreach@entraide", summary.password).reason == "ok"


def test_pools_each_generated_person_into_one_person(
    session: Session, summary: DemoSummary, population: list[DemoPerson]
) -> None:
    """A person known to several orgs, spelt differently by each, is one pooled Person."""
    assert session.scalar(select(func.count()).select_from(Person)) == len(population) == PEOPLE
    assert summary.persons == PEOPLE
    orgs_per_person = Counter(
        session.scalars(select(Subject.person_id).join(Identity, Identity.subject_id == Subject.id))
    )
    several = sum(1 for n in orgs_per_person.values() if n >= 2)
    assert several >= 0.25 * PEOPLE
    assert several == summary.known_to_several == sum(len(p.orgs) >= 2 for p in population)
    assert sum(orgs_per_person.values()) == summary.registrations == summary.cases
    assert summary.encounters > summary.cases
    assert 0 < summary.consents_revoked < summary.consents
    assert summary.referrals > 0


def test_some_orgs_spell_the_same_person_differently(population: list[DemoPerson]) -> None:
    spellings = [(r.given_name, r.family_name) for p in population for r in p.registrations[1:]]
    originals = [(p.given_name, p.family_name) for p in population for _ in p.registrations[1:]]
    assert any(s != o for s, o in zip(spellings, originals, strict=True))
    for (given, family), (g, f) in zip(spellings, originals, strict=True):
        assert (name_key(given), name_key(family)) == (name_key(g), name_key(f))


def test_population_is_reproducible_from_the_seed() -> None:
    assert generate_population(50, 3) == generate_population(50, 3)
    assert generate_population(50, 3) != generate_population(50, 4)


def test_population_mixes_ages_and_details(population: list[DemoPerson]) -> None:
    today = datetime.now(UTC).date()
    ages = [p.age_on(today) for p in population]
    assert min(ages) >= 16
    assert sum(18 <= a <= 65 for a in ages) >= 0.6 * PEOPLE
    assert any(p.phone for p in population)
    assert any(not p.phone for p in population)
    assert all(p.notes for p in population)


def test_a_second_load_is_refused(session: Session, summary: DemoSummary) -> None:
    with pytest.raises(Conflict):
        load_demo(session, people=5, seed=1)


def test_describe_lists_every_login_and_the_password(summary: DemoSummary) -> None:
    text = summary.describe()
    assert summary.password in text
    assert len(summary.password) >= 12
    assert "http://127.0.0.1:5000" in text
    for username, role, slug in summary.logins:
        assert username in text
        assert role.value in text
        assert slug in text


def test_each_org_finds_its_own_spelling(
    session: Session,
    summary: DemoSummary,
    population: list[DemoPerson],
    actor_for: ActorMaker,
) -> None:
    several = [p for p in population if len(p.orgs) >= 2][:10]
    for person in several + population[:5]:
        for reg in person.registrations:
            actor = actor_for(directory.get_organisation(session, reg.org), Role.OUTREACH_WORKER)
            found = people.find_people(
                session, actor, Purpose.OUTREACH, reg.family_name, person.birth_date
            )
            assert reg.given_name in [f.given_name for f in found]
            assert {f.org_id for f in found} == {actor.org_id}


def test_no_clear_value_reaches_the_database(
    session: Session, summary: DemoSummary, population: list[DemoPerson]
) -> None:
    """Names, birth dates, phones and notes are stored only as ciphertext (threat 1)."""
    secrets = set()
    for person in population:
        secrets |= {person.birth_date.isoformat(), *person.notes}
        secrets |= {r.family_name for r in person.registrations if len(r.family_name) >= 6}
        secrets |= {r.given_name for r in person.registrations if len(r.given_name) >= 6}
        if person.phone:
            secrets.add(person.phone)
    encoded = [s.encode() for s in secrets]
    scanned = Counter[str]()
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                if isinstance(value, str):
                    blob = value.encode()
                elif isinstance(value, bytes):
                    blob = value
                else:
                    continue
                leaked = [s for s in encoded if s in blob]
                assert not leaked, f"clear demo data in {table.name}"
                scanned[table.name] += 1
    assert {"identities", "cases", "encounters", "referrals", "audit_entries"} <= set(scanned)
