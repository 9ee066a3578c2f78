"""Consent, referral and visibility facts, computed fresh on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind, Purpose
from databank.models import Case, Consent
from databank.services.access import sharing
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record


def test_consent_by_org_or_kind_for_a_purpose(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    owner_org, housing, council = (
        make_org(),
        make_org(OrgKind.HOUSING_PROVIDER),
        make_org(OrgKind.COUNCIL),
    )
    owner = actor_for(owner_org)
    [r] = people.intake(session, owner, Purpose.OUTREACH, [intake_record()])
    consent_id = consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        r.person_id,
        ConsentIn(
            purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_kinds=("housing_provider",)
        ),
    )

    def covered(org_id, kind, purpose):  # type: ignore[no-untyped-def]
        return sharing.has_consent(session, r.person_id, owner_org.id, org_id, kind, purpose)

    assert covered(housing.id, OrgKind.HOUSING_PROVIDER, Purpose.HOUSING_ALLOCATION)
    assert not covered(housing.id, OrgKind.HOUSING_PROVIDER, Purpose.FOOD_AID)
    assert not covered(council.id, OrgKind.COUNCIL, Purpose.HOUSING_ALLOCATION)
    consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        r.person_id,
        ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(council.id,)),
    )
    assert covered(council.id, OrgKind.COUNCIL, Purpose.FOOD_AID)

    consents.revoke_consent(session, owner, Purpose.OUTREACH, consent_id)
    assert not covered(housing.id, OrgKind.HOUSING_PROVIDER, Purpose.HOUSING_ALLOCATION)


def test_expired_consent_no_longer_counts(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Expiry takes effect on the next request: nothing has to run at the expiry time."""
    owner_org, partner = make_org(), make_org(OrgKind.COUNCIL)
    owner = actor_for(owner_org)
    [r] = people.intake(session, owner, Purpose.OUTREACH, [intake_record()])
    consents.record_consent(
        session,
        owner,
        Purpose.OUTREACH,
        r.person_id,
        ConsentIn(
            purposes=(Purpose.OUTREACH,),
            recipient_org_ids=(partner.id,),
            expires_at=datetime.now(UTC) + timedelta(days=1),
        ),
    )
    args = (session, r.person_id, owner_org.id, partner.id, OrgKind.COUNCIL, Purpose.OUTREACH)
    assert sharing.has_consent(*args)
    consent = session.scalars(select(Consent).where(Consent.person_id == r.person_id)).one()
    consent.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    assert not sharing.has_consent(*args)


def test_visible_cases_are_own_consented_and_referred(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    a_org, b_org = make_org(), make_org(OrgKind.HOUSING_PROVIDER)
    a, b = actor_for(a_org), actor_for(b_org)
    [consented, referred, private] = people.intake(
        session,
        a,
        Purpose.OUTREACH,
        [intake_record(identity(given_name=n)) for n in ("Alba", "Bruno", "Carla")],
    )
    [own] = people.intake(
        session, b, Purpose.HOUSING_ALLOCATION, [intake_record(identity(given_name="Dora"))]
    )
    consents.record_consent(
        session,
        a,
        Purpose.OUTREACH,
        consented.person_id,
        ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(b_org.id,)),
    )
    assert referred.case_id is not None
    cases.refer(
        session,
        a,
        Purpose.OUTREACH,
        referred.case_id,
        b_org.id,
        Purpose.HOUSING_ALLOCATION,
        override=True,
        justification="Unreachable; the shelter place goes tonight.",
    )
    clause = sharing.visible_cases_clause(
        session, b_org.id, OrgKind.HOUSING_PROVIDER, Purpose.HOUSING_ALLOCATION
    )
    visible = set(session.scalars(select(Case.id).where(clause)))
    assert visible == {consented.case_id, referred.case_id, own.case_id}
    assert private.case_id not in visible
    other_purpose = sharing.visible_cases_clause(
        session, b_org.id, OrgKind.HOUSING_PROVIDER, Purpose.FOOD_AID
    )
    assert set(session.scalars(select(Case.id).where(other_purpose))) == {own.case_id}
