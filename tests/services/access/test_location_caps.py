"""The platform's location caps through the services: what a partner's read returns and what the
log and the owner's auditors see (finding 3 of the attacker review, design section 6)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from databank.domain.enums import CONSENTABLE_PURPOSES, LocationLevel, OrgKind, Purpose, Role
from databank.models import Organisation
from databank.services import access
from databank.services.access import roles
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.oversight import access_log, alerts
from databank.services.records import breakglass, cases, consents, people
from tests.factories import intake_record

PARTNER_ROLES = (Role.HOUSING_OFFICER, Role.OUTREACH_WORKER, Role.ORG_ADMIN)
STAFF_PASSWORD = "correct horse battery staple"


def _staff(session: Session, org: Organisation, role: Role) -> Actor:
    name = f"{org.slug}-{role.value}-{uuid.uuid4().hex[:6]}"
    user = organisations.create_user(session, org, name, name, STAFF_PASSWORD, [role])
    session.flush()  # alerts and entries name the user
    return Actor.for_user(user, "test")


@pytest.fixture
def orgs(session: Session) -> dict[str, Organisation]:
    return {
        slug: organisations.create_organisation(session, slug, slug.title(), kind)
        for slug, kind in (
            ("entraide", OrgKind.CHARITY),
            ("metropole", OrgKind.COUNCIL),
            ("emsp", OrgKind.HEALTH),
        )
    }


@pytest.fixture
def shared_case(session: Session, orgs: dict[str, Organisation]) -> tuple[uuid.UUID, uuid.UUID]:
    """An entraide case (its policy releases the street to partners), consented to and referred
    to metropole for every purpose a person can agree to."""
    owner = _staff(session, orgs["entraide"], Role.OUTREACH_WORKER)
    [result] = people.intake(session, owner, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        result.person_id,
        ConsentIn(purposes=CONSENTABLE_PURPOSES, recipient_org_ids=(orgs["metropole"].id,)),
    )
    for purpose in CONSENTABLE_PURPOSES:
        cases.refer(session, owner, Purpose.OUTREACH, result.case_id, orgs["metropole"].id, purpose)
    return result.person_id, result.case_id


def _places(view: cases.CaseView) -> list[cases.Place]:
    found = [view.place] if view.place else []
    return found + [e.place for e in view.encounters if e.place is not None]


@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_finding3_a_partner_read_is_capped_to_the_district_for_every_purpose(
    session: Session,
    orgs: dict[str, Organisation],
    shared_case: tuple[uuid.UUID, uuid.UUID],
    role: Role,
) -> None:
    """An owner's policy releasing the street to partners is capped: a partner's read gives the
    district at most, for every purpose the role may declare, and the log says level 2; a
    statistics read gives nothing (finding 3 of the attacker review)."""
    _person, case_id = shared_case
    partner = _staff(session, orgs["metropole"], role)
    for purpose in roles.declarable_purposes(partner.roles):
        if purpose is Purpose.AGGREGATE_STATISTICS:
            with pytest.raises(access.AccessRefused) as refused:
                cases.read_case(session, partner, purpose, case_id)
            [entry] = refused.value.entries
            assert entry.fields_released == []
            assert "platform.no_content_for_statistics_or_audit" in (entry.rule or "")
            continue
        view = cases.read_case(session, partner, purpose, case_id)
        assert "location" in view.released, purpose
        for place in _places(view):
            assert place.level <= LocationLevel.DISTRICT, purpose
            assert place.point is None
            assert place.geohash is not None
            assert len(place.geohash) <= 5
        page = access_log.search(
            session,
            _staff(session, orgs["entraide"], Role.AUDITOR),
            access_log.EntryFilter(person_id=view.person_id, actor_org_id=partner.org_id, limit=1),
        )
        [entry] = page.entries
        assert (entry.purpose, entry.location_level) == (purpose.value, LocationLevel.DISTRICT)


def test_finding3_a_break_glass_read_of_a_finer_place_is_seen_by_the_owners_auditors(
    session: Session, orgs: dict[str, Organisation], shared_case: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Break-glass for vital interest is the one exception to the district cap: the responder
    may get the street where the owner allows it, the read's entry records the level released
    and the break-glass, and the owner's auditors see both the entry and the alert (finding 3)."""
    person_id, case_id = shared_case
    responder = _staff(session, orgs["emsp"], Role.BREAK_GLASS_RESPONDER)
    breakglass.start(session, responder, person_id, "Found unconscious at the station, no ID.")
    view = cases.read_case(session, responder, Purpose.VITAL_INTEREST, case_id)
    assert view.break_glass
    assert view.place is not None
    assert view.place.level is LocationLevel.STREET  # entraide.location_street_max
    auditor = _staff(session, orgs["entraide"], Role.AUDITOR)
    [entry] = access_log.search(
        session,
        auditor,
        access_log.EntryFilter(person_id=person_id, actor_org_id=responder.org_id, event="access."),
    ).entries
    assert entry.record_owner == str(orgs["entraide"].id)
    assert entry.break_glass
    assert entry.location_level == LocationLevel.STREET
    assert entry.area is not None
    assert len(entry.area) == 5  # the log names the district, never the street
    seen = alerts.list_alerts(session, auditor)
    assert [(a.rule, a.person_id) for a in seen] == [("break_glass", person_id)]
