"""Re-registration finds the existing file; a need seen again is the same need (issue 17, 2)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import (
    Action,
    CaseEventKind,
    CaseStatus,
    NeedSeverity,
    NeedStatus,
    Purpose,
    Role,
)
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, Case, CaseEvent, Encounter, Need
from databank.services.actors import Actor
from databank.services.inputs import IntakeRecord, NeedIn
from databank.services.records import cases, lifecycle, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import case, encounter, identity, intake_record


@pytest.fixture
def worker(make_org: OrgMaker, actor_for: ActorMaker) -> Actor:
    return actor_for(make_org(), Role.OUTREACH_WORKER)


def _needs(session: Session, case_id: object) -> Counter[NeedCategory]:
    return Counter(session.scalars(select(Need.category).where(Need.case_id == case_id)).all())


def _severity(session: Session, case_id: object, category: NeedCategory) -> NeedSeverity:
    return session.scalars(
        select(Need.severity).where(Need.case_id == case_id, Need.category == category)
    ).one()


def test_registering_a_known_person_adds_to_their_open_case(
    session: Session, worker: Actor
) -> None:
    """A person the org already holds, registered again, keeps their open case: the new needs
    and encounter go to it, nothing is hidden in an empty second case."""
    [first] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    # Registered with food (medium) and an encounter with shelter (high).
    assert _needs(session, first.case_id) == {NeedCategory.FOOD: 1, NeedCategory.SHELTER: 1}
    again = IntakeRecord(
        identity=identity(),
        case=case(),
        needs=(NeedIn(NeedCategory.FOOD, NeedSeverity.URGENT), NeedIn(NeedCategory.HYGIENE)),
        encounters=(encounter(needs=(NeedIn(NeedCategory.SHELTER, NeedSeverity.HIGH),)),),
    )
    [second] = people.intake(session, worker, Purpose.OUTREACH, [again])
    assert (second.outcome, second.case_outcome) == ("existing", "existing")
    assert second.case_id == first.case_id
    assert second.person_id == first.person_id
    person_cases = session.scalar(
        select(func.count()).select_from(Case).where(Case.subject_id == first.subject_id)
    )
    assert person_cases == 1
    assert _needs(session, first.case_id) == {
        NeedCategory.FOOD: 1,
        NeedCategory.SHELTER: 1,
        NeedCategory.HYGIENE: 1,
    }
    assert _severity(session, first.case_id, NeedCategory.FOOD) is NeedSeverity.URGENT
    encounters = session.scalar(
        select(func.count()).select_from(Encounter).where(Encounter.case_id == first.case_id)
    )
    assert encounters == 2
    # Adding to the open case is decided and logged as an update of that case.
    bodies = session.scalars(
        select(AuditEntry.body).where(AuditEntry.event == AuditEvent.access(Action.UPDATE))
    ).all()
    update = [json.loads(b) for b in bodies]
    assert [e["decision"] for e in update if e["record"]["id"] == str(first.case_id)] == ["allow"]


def test_registering_a_known_person_whose_case_is_closed_opens_a_new_case(
    session: Session, worker: Actor
) -> None:
    [first] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    assert first.case_id is not None
    lifecycle.close_case(session, worker, Purpose.OUTREACH, first.case_id, "lost_contact")
    [second] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    assert (second.outcome, second.case_outcome) == ("existing", "opened")
    assert second.case_id != first.case_id
    assert session.get(Case, second.case_id).status is CaseStatus.OPEN  # type: ignore[union-attr]


def test_a_person_registered_twice_in_one_batch_has_one_case(
    session: Session, worker: Actor
) -> None:
    results = people.intake(
        session, worker, Purpose.OUTREACH, [intake_record(), intake_record(encounters=0)]
    )
    assert [r.case_outcome for r in results] == ["opened", "existing"]
    assert results[0].case_id == results[1].case_id
    assert _needs(session, results[0].case_id) == {NeedCategory.FOOD: 1, NeedCategory.SHELTER: 1}


def test_an_encounter_naming_an_open_need_updates_it_instead_of_adding_one(
    session: Session, worker: Actor
) -> None:
    """Re-ticking a need already open never creates a duplicate: its urgency is updated."""
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    case_id = result.case_id
    assert case_id is not None
    shelter_id, first_seen = session.execute(
        select(Need.id, Need.identified_at).where(
            Need.case_id == case_id, Need.category == NeedCategory.SHELTER
        )
    ).one()
    for severity in (NeedSeverity.URGENT, NeedSeverity.LOW):
        cases.record_encounter(
            session,
            worker,
            Purpose.OUTREACH,
            case_id,
            encounter(
                needs=(
                    NeedIn(NeedCategory.SHELTER, severity),
                    NeedIn(NeedCategory.CLOTHING),
                    NeedIn(NeedCategory.CLOTHING, NeedSeverity.HIGH),
                )
            ),
        )
        session.flush()
        assert _needs(session, case_id) == {
            NeedCategory.FOOD: 1,
            NeedCategory.SHELTER: 1,
            NeedCategory.CLOTHING: 1,
        }
        assert _severity(session, case_id, NeedCategory.SHELTER) is severity
    # Each change of urgency is dated in the case's history, like one made on the case page.
    changes = session.execute(
        select(CaseEvent.from_code, CaseEvent.to_code)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == CaseEventKind.NEED_SEVERITY)
        .order_by(CaseEvent.at)
    ).all()
    assert [tuple(c) for c in changes] == [("high", "urgent"), ("urgent", "low")]
    assert set(session.scalars(select(CaseEvent.need_id).where(CaseEvent.case_id == case_id))) == {
        shelter_id
    }  # clothing, named twice in one encounter, is one need at its last urgency
    # The need keeps the date it was first seen.
    kept = session.scalars(
        select(Need.identified_at).where(
            Need.case_id == case_id, Need.category == NeedCategory.SHELTER
        )
    ).one()
    assert kept == first_seen


def test_a_need_met_and_seen_again_is_a_new_need(session: Session, worker: Actor) -> None:
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    case_id = result.case_id
    met = session.scalars(
        select(Need).where(Need.case_id == case_id, Need.category == NeedCategory.FOOD)
    ).one()
    met.status = NeedStatus.MET
    met.resolved_at = datetime.now(UTC) - timedelta(days=1)
    session.flush()
    assert case_id is not None
    cases.record_encounter(
        session,
        worker,
        Purpose.OUTREACH,
        case_id,
        encounter(needs=(NeedIn(NeedCategory.FOOD, NeedSeverity.HIGH),)),
    )
    statuses = session.scalars(
        select(Need.status).where(Need.case_id == case_id, Need.category == NeedCategory.FOOD)
    ).all()
    assert sorted(statuses) == sorted([NeedStatus.MET, NeedStatus.IDENTIFIED])
