"""Tests of the demo city: what it loads, that it is reproducible, and that it stays sealed."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.db import Base
from databank.demo import linkage_figures
from databank.demo.generator import DemoPerson, DemoSummary, generate_population, load_demo
from databank.demo.variants import ErrorType
from databank.domain.enums import PersonStatus, Purpose, Role
from databank.domain.errors import Conflict
from databank.domain.names import name_key
from databank.models import Organisation, Person, Subject, User
from databank.services.access import directory
from databank.services.accounts import organisations
from databank.services.linkage import clusters
from databank.services.records import people, subjects
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


def test_each_registration_is_a_subject_and_the_summary_counts_the_pool(
    session: Session, summary: DemoSummary, population: list[DemoPerson]
) -> None:
    """Each org's registration is its own subject; the summary counts the pool in the database."""
    registrations = [r for p in population for r in p.registrations]
    rows = session.execute(select(Subject.id, Subject.person_id, Subject.org_id)).all()
    assert len(rows) == summary.linkage.subjects == len(summary.truth)
    assert summary.registrations == summary.cases == len(registrations)
    assert len(rows) <= len(registrations)  # an org's exact repeat adds a case, no subject
    pooled = {person for _, person, _ in rows}
    active = select(func.count()).select_from(Person).where(Person.status == PersonStatus.ACTIVE)
    assert session.scalar(active) == len(pooled)
    assert summary.persons == summary.linkage.pooled_persons == len(pooled)
    assert summary.linkage.true_persons == PEOPLE
    assert summary.persons <= len(rows)
    orgs_of: dict[object, set[object]] = {}
    for _, person, org in rows:
        orgs_of.setdefault(person, set()).add(org)
    assert summary.known_to_several == sum(len(o) >= 2 for o in orgs_of.values()) > 0
    assert summary.encounters > summary.cases
    assert 0 < summary.consents_revoked < summary.consents
    assert summary.referrals > 0


def test_the_figures_measure_the_pool_in_the_database(
    session: Session, summary: DemoSummary
) -> None:
    """Once the pool is the truth (each person's clusters merged), the figures say so."""
    before = summary.linkage
    assert before == linkage_figures.measure(session, summary.truth)
    assert before.true_pairs > 0
    assert before.duplicate_pairs > 0
    pooled = subjects.pooled_persons(session, list(summary.truth))
    by_person: dict[int, set[uuid.UUID]] = {}
    for subject_id, (index, _) in summary.truth.items():
        by_person.setdefault(index, set()).add(pooled[subject_id])
    for persons in by_person.values():
        kept, *others = sorted(persons)
        for other in others:
            current = clusters.current_person(session, other)
            if current != kept:  # a namesake's merge may have joined them already
                kept = clusters.merge(session, kept, current)
    after = linkage_figures.measure(session, summary.truth)
    assert after.recall == 1.0
    assert after.duplicates_found == after.duplicate_pairs == before.duplicate_pairs
    assert after.true_persons == PEOPLE
    if before.precision == 1.0:  # no namesakes pooled by mistake: the pool is now the truth
        assert after.precision == 1.0
        assert after.pooled_persons == PEOPLE


def test_some_orgs_record_the_same_person_with_errors(population: list[DemoPerson]) -> None:
    """Registrations without errors keep the person's identifiers (laid out their own way);
    those with errors differ from them as their errors say."""
    registrations = [(p, r) for p in population for r in p.registrations]
    assert sum(bool(r.errors) for _, r in registrations) >= 0.25 * len(registrations)
    for person, reg in registrations:
        true_key = (name_key(person.given_name), name_key(person.family_name), person.birth_date)
        key = (name_key(reg.given_name), name_key(reg.family_name), reg.birth_date)
        if not reg.errors:
            assert key == true_key
            assert reg.birth_place == person.birth_place
        if ErrorType.NO_BIRTH_PLACE in reg.errors:
            assert reg.birth_place is None
            assert person.birth_place is not None
        if ErrorType.BIRTH_JAN_1 in reg.errors:
            assert (reg.birth_date.month, reg.birth_date.day) == (1, 1)
            assert reg.birth_date.year == person.birth_date.year
        if not {ErrorType.BIRTH_JAN_1, ErrorType.DAY_MONTH_SWAPPED} & set(reg.errors):
            assert reg.birth_date == person.birth_date


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
                session, actor, Purpose.OUTREACH, reg.family_name, reg.birth_date
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
