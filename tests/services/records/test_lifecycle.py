"""Keeping a case true: living situation, needs' status and urgency, closing with an outcome,
reopening; each change decided, logged, kept as dated history, and released to partners only as
the owner's policy releases its field."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import (
    CaseEventKind,
    CaseStatus,
    NeedSeverity,
    NeedStatus,
    OrgKind,
    Purpose,
    Role,
)
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.domain.vocab import CloseReason, Destination, EthosCategory, NeedCategory
from databank.models import AuditEntry, CaseEvent, Need
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn, IntakeRecord, NeedIn
from databank.services.records import cases, consents, lifecycle, people
from tests.factories import case, encounter, identity


@pytest.fixture
def tables(session: Session) -> Actor:
    org = organisations.create_organisation(session, "tables-du-coeur", "Tables", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")


@pytest.fixture
def entraide(session: Session) -> Actor:
    org = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
    return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")


@pytest.fixture
def registered(session: Session, tables: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    record = IntakeRecord(
        identity=identity(),
        case=case(),
        needs=(NeedIn(NeedCategory.FOOD), NeedIn(NeedCategory.ADDICTION, NeedSeverity.HIGH)),
        encounters=(encounter(),),
    )
    [result] = people.intake(session, tables, Purpose.OUTREACH, [record])
    assert result.case_id is not None
    return result.person_id, result.case_id


def _need(session: Session, case_id: uuid.UUID, category: NeedCategory) -> Need:
    return session.scalars(
        select(Need).where(Need.case_id == case_id, Need.category == category)
    ).one()


def _last_entry(session: Session, actor: Actor) -> bytes:
    body = session.scalars(
        select(AuditEntry.body)
        .where(AuditEntry.actor_org_id == actor.org_id)
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert body is not None
    return bytes(body)


def test_living_situation_changes_are_kept_dated_and_logged(
    session: Session, tables: Actor, registered: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _person, case_id = registered
    lifecycle.update_living_situation(
        session, tables, Purpose.OUTREACH, case_id, None, 312
    )  # with family, temporary: ETHOS 8
    entry = _last_entry(session, tables)
    assert b'"event":"access.update"' in entry
    assert b'"fields":{"released":["living_situation"],"withheld":[]}' in entry
    lifecycle.update_living_situation(
        session, tables, Purpose.OUTREACH, case_id, EthosCategory.ETHOS_2_NIGHT_SHELTER
    )
    view = cases.read_case(session, tables, Purpose.OUTREACH, case_id)
    assert view.living_situation is EthosCategory.ETHOS_2_NIGHT_SHELTER
    assert view.hud_living_situation is None
    changes = lifecycle.history(session, tables, view)
    assert [(c.from_code, c.to_code, c.detail_code) for c in changes] == [
        ("ethos_1_public_space", "ethos_8_insecure_accommodation", "312"),
        ("ethos_8_insecure_accommodation", "ethos_2_night_shelter", None),
    ]
    assert changes[0].at <= changes[1].at


def test_living_situation_input_is_checked_naming_the_field(
    session: Session, tables: Actor, registered: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _person, case_id = registered
    with pytest.raises(ValidationFailed) as wrong:
        lifecycle.update_living_situation(
            session, tables, Purpose.OUTREACH, case_id, EthosCategory.HOUSED, 101
        )
    assert "hud_living_situation" in wrong.value.errors
    with pytest.raises(ValidationFailed) as unknown:
        lifecycle.update_living_situation(session, tables, Purpose.OUTREACH, case_id, None, 5)
    assert "hud_living_situation" in unknown.value.errors
    with pytest.raises(ValidationFailed) as same:
        lifecycle.update_living_situation(
            session, tables, Purpose.OUTREACH, case_id, EthosCategory.ETHOS_1_PUBLIC_SPACE, 116
        )
    assert "living_situation" in same.value.errors


def test_a_need_goes_from_open_to_met_with_dates(
    session: Session, tables: Actor, registered: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _person, case_id = registered
    food = _need(session, case_id, NeedCategory.FOOD)
    assert food.status is NeedStatus.IDENTIFIED
    lifecycle.change_need(
        session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.IN_PROGRESS
    )
    assert food.resolved_at is None
    lifecycle.change_need(
        session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.MET, NeedSeverity.LOW
    )
    assert food.status is NeedStatus.MET
    assert food.severity is NeedSeverity.LOW
    assert food.resolved_at is not None
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.need_id == food.id).order_by(CaseEvent.at)
    ).all()
    assert {(e.kind, e.from_code, e.to_code) for e in events} == {
        (CaseEventKind.NEED_STATUS, "identified", "in_progress"),
        (CaseEventKind.NEED_STATUS, "in_progress", "met"),
        (CaseEventKind.NEED_SEVERITY, "medium", "low"),
    }
    assert events[0].to_code == "in_progress"
    # Open again: no longer resolved.
    lifecycle.change_need(
        session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.IDENTIFIED
    )
    assert food.resolved_at is None
    with pytest.raises(ValidationFailed):
        lifecycle.change_need(
            session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.IDENTIFIED
        )
    with pytest.raises(NotFound):
        lifecycle.change_need(
            session, tables, Purpose.OUTREACH, case_id, uuid.uuid4(), NeedStatus.MET
        )


def test_closing_needs_a_destination_for_housed_and_keeps_the_outcome(
    session: Session, tables: Actor, registered: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _person, case_id = registered
    with pytest.raises(ValidationFailed) as missing:
        lifecycle.close_case(session, tables, Purpose.OUTREACH, case_id, "housed")
    assert "destination" in missing.value.errors
    with pytest.raises(ValidationFailed) as mismatched:
        lifecycle.close_case(session, tables, Purpose.OUTREACH, case_id, "housed", "hostel")
    assert "destination" in mismatched.value.errors
    with pytest.raises(ValidationFailed) as bad:
        lifecycle.close_case(session, tables, Purpose.OUTREACH, case_id, "gone")
    assert "reason" in bad.value.errors
    lifecycle.close_case(
        session, tables, Purpose.OUTREACH, case_id, "housed", Destination.RENTAL_SUBSIDISED
    )
    view = cases.read_case(session, tables, Purpose.OUTREACH, case_id)
    assert view.status is CaseStatus.CLOSED
    assert view.close_reason is CloseReason.HOUSED
    assert view.destination is Destination.RENTAL_SUBSIDISED
    # A closed case is not changed until reopened.
    food = _need(session, case_id, NeedCategory.FOOD)
    with pytest.raises(Conflict):
        lifecycle.change_need(session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.MET)
    with pytest.raises(Conflict):
        lifecycle.close_case(session, tables, Purpose.OUTREACH, case_id, "deceased")
    lifecycle.reopen_case(session, tables, Purpose.OUTREACH, case_id)
    view = cases.read_case(session, tables, Purpose.OUTREACH, case_id)
    assert (view.status, view.closed_at, view.destination) == (CaseStatus.OPEN, None, None)
    with pytest.raises(Conflict):
        lifecycle.reopen_case(session, tables, Purpose.OUTREACH, case_id)
    lifecycle.close_case(session, tables, Purpose.OUTREACH, case_id, CloseReason.DECEASED)
    kinds = [(c.kind, c.to_code, c.detail_code) for c in lifecycle.history(session, tables, view)]
    assert kinds == [
        (CaseEventKind.CLOSED, "housed", "rental_subsidised"),
        (CaseEventKind.REOPENED, "open", None),
        (CaseEventKind.CLOSED, "deceased", None),
    ]


def test_another_org_cannot_change_a_case_and_the_refusal_is_logged(
    session: Session,
    tables: Actor,
    entraide: Actor,
    registered: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """A partner the person consented to share with reads the case, but only its owner's staff
    change it: every change is an update decided by the owner's policy, refused and logged."""
    person_id, case_id = registered
    consents.record_consent(
        session,
        tables,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.org_id,)),
    )
    food = _need(session, case_id, NeedCategory.FOOD)
    attempts = [
        lambda: lifecycle.close_case(session, entraide, Purpose.FOOD_AID, case_id, "other"),
        lambda: lifecycle.reopen_case(session, entraide, Purpose.FOOD_AID, case_id),
        lambda: lifecycle.update_living_situation(
            session, entraide, Purpose.FOOD_AID, case_id, EthosCategory.HOUSED
        ),
        lambda: lifecycle.change_need(
            session, entraide, Purpose.FOOD_AID, case_id, food.id, NeedStatus.MET
        ),
    ]
    for attempt in attempts:
        with pytest.raises(access.AccessRefused) as refused:
            attempt()
        [entry] = refused.value.entries
        assert (entry.event, entry.decision) == ("access.update", "deny")
        assert entry.record_id == case_id
    assert food.status is NeedStatus.IDENTIFIED
    assert session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all() == []


def test_partners_see_the_changes_only_of_the_fields_released_to_them(
    session: Session,
    tables: Actor,
    entraide: Actor,
    registered: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """tables-du-coeur releases status, living situation and needs, never health, to a consented
    partner: the history of an addiction need's status stays with the owner, the outcome shows."""
    person_id, case_id = registered
    consents.record_consent(
        session,
        tables,
        Purpose.OUTREACH,
        person_id,
        ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.org_id,)),
    )
    food = _need(session, case_id, NeedCategory.FOOD)
    addiction = _need(session, case_id, NeedCategory.ADDICTION)
    lifecycle.change_need(session, tables, Purpose.OUTREACH, case_id, food.id, NeedStatus.MET)
    lifecycle.change_need(
        session, tables, Purpose.OUTREACH, case_id, addiction.id, NeedStatus.NOT_MET
    )
    lifecycle.close_case(
        session, tables, Purpose.OUTREACH, case_id, "sheltered", "supported_housing"
    )
    own = cases.read_case(session, tables, Purpose.OUTREACH, case_id)
    assert {c.need_id for c in lifecycle.history(session, tables, own)} == {
        food.id,
        addiction.id,
        None,
    }
    seen = cases.read_case(session, entraide, Purpose.FOOD_AID, case_id)
    assert "health" in seen.withheld
    assert seen.destination is Destination.SUPPORTED_HOUSING
    shown = lifecycle.history(session, entraide, seen)
    assert {c.need_id for c in shown} == {food.id, None}
    assert all(c.by_id is None for c in shown)  # the owner's staff stay with the owner
    assert {c.need_category for c in shown} == {NeedCategory.FOOD, None}
    assert lifecycle.allowed_changes(session, entraide, Purpose.FOOD_AID, seen) == frozenset()
    assert lifecycle.allowed_changes(session, tables, Purpose.OUTREACH, own) == {
        "status",
        "living_situation",
        "needs",
        "health",
    }


def test_an_auditor_changes_nothing(
    session: Session, tables: Actor, registered: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Auditors read the log, never a case: a change is refused (and logged) like a read."""
    _person, case_id = registered
    auditor = Actor(None, tables.org_id, tables.org_kind, frozenset({Role.AUDITOR}), "test")
    with pytest.raises(access.AccessRefused):
        lifecycle.close_case(session, auditor, Purpose.AUDIT, case_id, "other")
