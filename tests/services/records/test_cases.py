"""Cases, encounters, consents and referrals through the services, and the access rules on them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain import geo
from databank.domain.enums import CaseStatus, LocationLevel, OrgKind, Purpose, Role
from databank.domain.errors import BadRequest, Conflict, NotFound, ValidationFailed
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, Referral
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import case_lists, cases, consents, lifecycle, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import GARE_PART_DIEU, case, encounter, intake_record


@pytest.fixture
def owner(make_org: OrgMaker, actor_for: ActorMaker) -> Actor:
    return actor_for(make_org(), Role.OUTREACH_WORKER)


@pytest.fixture
def case_id(session: Session, owner: Actor) -> uuid.UUID:
    [result] = people.intake(session, owner, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    return result.case_id


def test_read_case_returns_decrypted_fields(
    session: Session, owner: Actor, case_id: uuid.UUID
) -> None:
    view = cases.read_case(session, owner, Purpose.OUTREACH, case_id)
    assert view.notes == "Sleeps rough near Part-Dieu since the summer."
    assert view.point == GARE_PART_DIEU
    assert view.place is not None
    assert view.place.level is LocationLevel.EXACT
    assert view.place.geohash == geo.encode(GARE_PART_DIEU.lat, GARE_PART_DIEU.lon, 7)
    assert sorted(n.category for n in view.needs) == [NeedCategory.FOOD, NeedCategory.SHELTER]
    [enc] = view.encounters
    assert enc.notes is not None
    assert "sleeping bag" in enc.notes
    assert "Part-Dieu" not in repr(view)


def test_only_the_district_is_stored_in_clear(
    session: Session, owner: Actor, case_id: uuid.UUID
) -> None:
    """A precise point is sealed; the clear column holds a 5-character (≈5 km) geohash only."""
    from databank.models import Case

    row = session.get(Case, case_id)
    assert row is not None
    assert row.area_geohash is not None
    assert len(row.area_geohash) == 5
    assert row.location_ciphertext is not None
    assert b"45.76" not in row.location_ciphertext


def test_other_org_cannot_read_a_case(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, case_id: uuid.UUID
) -> None:
    """Placeholder policy: an organisation reaches its own records only."""
    stranger = actor_for(make_org(), Role.HOUSING_OFFICER)
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, stranger, Purpose.CASE_MANAGEMENT, case_id)
    [entry] = refused.value.entries
    assert entry.decision == "deny"
    assert entry.record_id == case_id


@pytest.mark.parametrize(
    "purpose", [Purpose.ENFORCEMENT, Purpose.IMMIGRATION_CONTROL, Purpose.PUBLIC_ORDER]
)
def test_enforcement_purposes_are_refused_even_to_the_owner(
    session: Session, owner: Actor, case_id: uuid.UUID, purpose: Purpose
) -> None:
    """Threat 4: enforcement, immigration control and public order are refused for everyone."""
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, owner, purpose, case_id)
    assert refused.value.entries[0].rule == "platform.forbidden_purpose"


def test_denials_are_logged_after_the_rollback(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, case_id: uuid.UUID
) -> None:
    """A refused access still leaves its trace in the access log."""
    stranger = actor_for(make_org())
    with pytest.raises(access.AccessRefused) as refused:
        cases.read_case(session, stranger, Purpose.OUTREACH, case_id)
    access.record_denial(session, refused.value)
    bodies = session.scalars(
        select(AuditEntry.body).where(
            AuditEntry.actor_org_id == stranger.org_id, AuditEntry.decision == "deny"
        )
    ).all()
    assert len(bodies) == 1
    assert str(case_id).encode() in bodies[0]


def test_unknown_purpose_is_refused_with_the_valid_list(
    session: Session, owner: Actor, case_id: uuid.UUID
) -> None:
    """A purpose is parsed at the edge, against the closed list; a service given a raw string
    refuses it instead of guessing."""
    with pytest.raises(BadRequest) as caught:
        access.parse_purpose("curiosity")
    assert "outreach" in caught.value.errors["purpose"][0]
    with pytest.raises(TypeError):
        cases.read_case(session, owner, "outreach", case_id)  # type: ignore[arg-type]


def test_every_read_is_logged_with_its_purpose(
    session: Session, owner: Actor, case_id: uuid.UUID
) -> None:
    cases.read_case(session, owner, Purpose.CASE_MANAGEMENT, case_id)
    purposes = session.scalars(
        select(AuditEntry.purpose).where(
            AuditEntry.actor_org_id == owner.org_id, AuditEntry.event == "access.read"
        )
    ).all()
    assert purposes == ["case_management"]


def test_record_encounter_then_close(session: Session, owner: Actor, case_id: uuid.UUID) -> None:
    cases.record_encounter(
        session, owner, Purpose.OUTREACH, case_id, encounter(notes="Second visit, much better.")
    )
    view = cases.read_case(session, owner, Purpose.OUTREACH, case_id)
    assert len(view.encounters) == 2
    lifecycle.close_case(session, owner, Purpose.OUTREACH, case_id, "housed", "owned")
    view = cases.read_case(session, owner, Purpose.OUTREACH, case_id)
    assert view.status is CaseStatus.CLOSED
    assert view.closed_at is not None
    with pytest.raises(Conflict):
        cases.record_encounter(session, owner, Purpose.OUTREACH, case_id, encounter())
    with pytest.raises(Conflict):
        lifecycle.close_case(session, owner, Purpose.OUTREACH, case_id, "housed", "owned")


def test_open_a_second_case(session: Session, owner: Actor, case_id: uuid.UUID) -> None:
    person_id = cases.read_case(session, owner, Purpose.OUTREACH, case_id).person_id
    second = cases.open_case(session, owner, Purpose.OUTREACH, person_id, case(notes=None))
    assert cases.read_case(session, owner, Purpose.OUTREACH, second).notes is None
    listed = case_lists.case_page(session, owner, Purpose.OUTREACH).lines
    assert {c.id for c in listed} == {case_id, second}


def test_open_case_for_unknown_person(session: Session, owner: Actor) -> None:
    with pytest.raises(NotFound):
        cases.open_case(session, owner, Purpose.OUTREACH, uuid.uuid4(), case())


def test_encounter_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        encounter(occurred_at=datetime.now(UTC) + timedelta(days=1))
    assert "occurred_at" in caught.value.errors


def test_consent_record_and_revoke(
    session: Session, make_org: OrgMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    partner = make_org(OrgKind.HOUSING_PROVIDER)
    person_id = cases.read_case(session, owner, Purpose.OUTREACH, case_id).person_id
    consent_id = consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(
            purposes=(Purpose.HOUSING_ALLOCATION,),
            recipient_org_ids=(partner.id,),
            expires_at=datetime.now(UTC) + timedelta(days=90),
        ),
    )
    [view] = consents.consents_for(session, owner, Purpose.OUTREACH, person_id)
    assert view.id == consent_id
    assert view.is_active(datetime.now(UTC))
    consents.revoke_consent(session, owner, Purpose.OUTREACH, consent_id)
    [view] = consents.consents_for(session, owner, Purpose.OUTREACH, person_id)
    assert not view.is_active(datetime.now(UTC))
    with pytest.raises(Conflict):
        consents.revoke_consent(session, owner, Purpose.OUTREACH, consent_id)


def test_consent_to_enforcement_is_impossible() -> None:
    """Nobody can consent a person into enforcement uses."""
    with pytest.raises(ValidationFailed) as caught:
        ConsentIn(purposes=(Purpose.ENFORCEMENT,), recipient_org_kinds=("council",))
    assert "purposes" in caught.value.errors


def test_referral_to_partner_needs_consent(
    session: Session, make_org: OrgMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    """A referral shares the case: the person must have consented to that partner and purpose."""
    partner = make_org(OrgKind.HOUSING_PROVIDER)
    args = (session, owner, Purpose.OUTREACH, case_id, partner.id, Purpose.HOUSING_ALLOCATION)
    with pytest.raises(ValidationFailed) as caught:
        cases.refer(*args, NeedCategory.SHELTER, "Needs a ground-floor flat.")
    assert "consent" in caught.value.errors
    person_id = cases.read_case(session, owner, Purpose.OUTREACH, case_id).person_id
    consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(partner.id,)),
    )
    referral_id = cases.refer(*args, NeedCategory.SHELTER, "Needs a ground-floor flat.")
    referral = session.get(Referral, referral_id)
    assert referral is not None
    assert referral.to_org_id == partner.id
    assert referral.note_ciphertext is not None
    assert b"flat" not in referral.note_ciphertext


def test_consent_override_is_decided_and_logged(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    """Referring without consent takes the override permission, logged as its own decision."""
    partner = make_org(OrgKind.HOUSING_PROVIDER)
    cases.refer(
        session,
        owner,
        Purpose.OUTREACH,
        case_id,
        partner.id,
        Purpose.HOUSING_ALLOCATION,
        override=True,
        justification="Sleeping out at -5 C; the person cannot be reached to ask.",
    )
    events = session.scalars(
        select(AuditEntry.event).where(AuditEntry.actor_org_id == owner.org_id)
    ).all()
    assert "access.override_consent" in events


def test_consent_override_needs_a_justification(
    session: Session, make_org: OrgMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    """A consent override is refused by the service itself without a written justification;
    with one, the justification is kept sealed with the referral, never in clear."""
    partner = make_org(OrgKind.HOUSING_PROVIDER)
    args = (session, owner, Purpose.OUTREACH, case_id, partner.id, Purpose.HOUSING_ALLOCATION)
    for missing in (None, "", "  \n "):
        with pytest.raises(ValidationFailed) as caught:
            cases.refer(*args, override=True, justification=missing)
        assert list(caught.value.errors) == ["justification"]
    assert session.scalars(select(Referral).where(Referral.case_id == case_id)).all() == []
    referral_id = cases.refer(*args, override=True, justification="Unreachable for weeks")
    referral = session.get(Referral, referral_id)
    assert referral is not None
    assert referral.note_ciphertext is not None
    assert b"Unreachable" not in referral.note_ciphertext


def test_a_referral_is_for_a_purpose_a_person_can_agree_to(
    session: Session, make_org: OrgMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    """The service refuses a referral for a purpose that takes no consent (statistics, audit):
    the same rule as the consent form's, from the domain, whatever door the referral uses."""
    partner = make_org(OrgKind.COUNCIL)
    for purpose in (Purpose.AGGREGATE_STATISTICS, Purpose.AUDIT):
        with pytest.raises(ValidationFailed) as caught:
            cases.refer(session, owner, Purpose.OUTREACH, case_id, partner.id, purpose)
        assert list(caught.value.errors) == ["purpose"]


def test_consent_is_asked_only_for_consentable_purposes() -> None:
    """A consent names purposes a person can agree to: statistics, audit and break-glass need
    none, enforcement can never have one."""
    for purpose in (Purpose.AGGREGATE_STATISTICS, Purpose.AUDIT, Purpose.VITAL_INTEREST):
        with pytest.raises(ValidationFailed) as caught:
            ConsentIn(purposes=(purpose,), recipient_org_kinds=("council",))
        assert "purposes" in caught.value.errors
    assert ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_kinds=("council",)).purposes


def test_referral_for_enforcement_is_refused(
    session: Session, make_org: OrgMaker, owner: Actor, case_id: uuid.UUID
) -> None:
    partner = make_org(OrgKind.COUNCIL)
    with pytest.raises(access.AccessRefused):
        cases.refer(session, owner, Purpose.OUTREACH, case_id, partner.id, Purpose.ENFORCEMENT)
