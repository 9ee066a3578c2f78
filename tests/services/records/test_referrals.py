"""The referral workflow through the services: the receiver answers (accept, decline with a
reason, outcome), the referrer withdraws; each step is decided for the referral's purpose and
logged, a wrong step is a conflict, and the note and contact go only where the owner's policy
(with the person's consent) releases them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind, Purpose, ReferralStatus, Role
from databank.domain.errors import Conflict, NotFound
from databank.domain.referrals import DeclineReason, ReferralOutcome
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, Referral
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people, referrals
from tests.factories import intake_record

NOTE = "Needs a family room near the school of her son; calls back after 6 pm."
PHONE = "+33 6 12 34 56 78"  # the factory's identity
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class World:
    worker: Actor  # Entraide's outreach worker: the referrer (a real user, named)
    officer: Actor  # Métropole's housing officer: the receiver
    stranger: Actor  # Habitat Rhône's housing officer: neither side
    person_id: uuid.UUID
    case_id: uuid.UUID
    metropole_id: uuid.UUID


@pytest.fixture
def world(session: Session) -> World:
    entraide = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
    metro = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    habitat = organisations.create_organisation(
        session, "habitat-rhone", "Habitat Rhône", OrgKind.HOUSING_PROVIDER
    )
    user = organisations.create_user(
        session, entraide, "ines", "Inès Martin", PASSWORD, [Role.OUTREACH_WORKER]
    )
    worker = Actor(user.id, entraide.id, entraide.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    officer = Actor(None, metro.id, metro.kind, frozenset({Role.HOUSING_OFFICER}), "test")
    stranger = Actor(None, habitat.id, habitat.kind, frozenset({Role.HOUSING_OFFICER}), "test")
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    assert result.case_id is not None
    return World(worker, officer, stranger, result.person_id, result.case_id, metro.id)


def _consent(session: Session, world: World) -> None:
    consents.record_consent(
        session,
        world.worker,
        Purpose.OUTREACH,
        world.person_id,
        ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(world.metropole_id,)),
    )


def _refer(session: Session, world: World, *, consent: bool = True) -> uuid.UUID:
    if consent:
        _consent(session, world)
    return cases.refer(
        session,
        world.worker,
        Purpose.OUTREACH,
        world.case_id,
        world.metropole_id,
        Purpose.HOUSING_ALLOCATION,
        NeedCategory.SHELTER,
        NOTE,
        override=not consent,
        justification=None if consent else "She is in danger where she sleeps tonight.",
    )


def _entries_after(session: Session, seq: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEntry.body).where(AuditEntry.seq > seq)).all()
    return [json.loads(body) for body in rows]


def _last_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(AuditEntry.seq), -1))))


def test_accept_then_outcome_records_the_waiting_times_and_logs_each_step(
    session: Session, world: World
) -> None:
    referral_id = _refer(session, world)
    before = _last_seq(session)
    accepted = referrals.accept(session, world.officer, referral_id)
    assert accepted.status is ReferralStatus.ACCEPTED
    assert accepted.responded_at is not None
    assert accepted.responded_at >= accepted.created_at
    [entry] = _entries_after(session, before)
    assert entry["event"] == "access.update"
    assert entry["record"]["type"] == "referral"
    assert entry["record"]["id"] == str(referral_id)
    assert entry["record"]["owner"] == str(world.worker.org_id)
    assert entry["purpose"] == "housing_allocation"  # the referral's, not the session's
    assert entry["decision"] == "allow"
    assert entry["rule"] == "platform.referral_answer"
    done = referrals.record_outcome(session, world.officer, referral_id, ReferralOutcome.HOUSED)
    assert done.status is ReferralStatus.COMPLETED
    assert done.outcome is ReferralOutcome.HOUSED
    assert done.outcome_at is not None
    assert done.outcome_at >= done.responded_at


def test_decline_keeps_its_reason_code_and_the_referrer_sees_it(
    session: Session, world: World
) -> None:
    referral_id = _refer(session, world)
    referrals.decline(session, world.officer, referral_id, DeclineReason.NO_CAPACITY)
    [line] = referrals.sent(session, world.worker, Purpose.OUTREACH)
    assert line.id == referral_id
    assert line.status is ReferralStatus.DECLINED
    assert line.decline_reason is DeclineReason.NO_CAPACITY
    assert line.responded_at is not None
    assert line.to_org_name == "Métropole"
    assert line.need is NeedCategory.SHELTER


def test_the_referrer_sees_the_outcome_on_its_case_page(session: Session, world: World) -> None:
    from databank.services.records import caseload

    referral_id = _refer(session, world)
    referrals.accept(session, world.officer, referral_id)
    referrals.record_outcome(session, world.officer, referral_id, ReferralOutcome.PLACE_OFFERED)
    view = cases.read_case(session, world.worker, Purpose.OUTREACH, world.case_id)
    records = caseload.case_records(session, world.worker, Purpose.OUTREACH, view)
    assert records.referrals is not None
    [line] = records.referrals
    assert line.status is ReferralStatus.COMPLETED
    assert line.outcome is ReferralOutcome.PLACE_OFFERED
    assert line.outcome_at is not None
    assert not line.withdrawable


@pytest.mark.parametrize(
    ("steps", "wrong"),
    [
        (("accept",), "accept"),
        (("accept",), "decline"),
        (("accept",), "withdraw"),
        ((), "outcome"),
        (("decline",), "accept"),
        (("decline",), "outcome"),
        (("withdraw",), "accept"),
        (("accept", "outcome"), "outcome"),
        (("accept", "outcome"), "withdraw"),
    ],
)
def test_a_wrong_transition_is_a_conflict_and_changes_nothing(
    session: Session, world: World, steps: tuple[str, ...], wrong: str
) -> None:
    """pending -> accepted | declined | withdrawn; accepted -> completed; nothing else."""
    referral_id = _refer(session, world)

    def do(step: str) -> Referral:
        if step == "accept":
            return referrals.accept(session, world.officer, referral_id)
        if step == "decline":
            return referrals.decline(session, world.officer, referral_id, DeclineReason.OTHER)
        if step == "outcome":
            return referrals.record_outcome(
                session, world.officer, referral_id, ReferralOutcome.HOUSED
            )
        return referrals.withdraw(session, world.worker, referral_id)

    for step in steps:
        do(step)
    status = session.get(Referral, referral_id).status  # type: ignore[union-attr]
    with pytest.raises(Conflict) as conflict:
        do(wrong)
    assert status.value in conflict.value.message
    assert session.get(Referral, referral_id).status is status  # type: ignore[union-attr]


def test_only_the_receiver_answers_and_only_the_referrer_withdraws(
    session: Session, world: World
) -> None:
    """Threat: a partner probing referral ids. The wrong side gets "not found", logged against
    the case's owner, exactly as a referral that does not exist."""
    referral_id = _refer(session, world)
    attempts = [
        lambda: referrals.accept(session, world.worker, referral_id),  # the referrer
        lambda: referrals.accept(session, world.stranger, referral_id),  # a third org
        lambda: referrals.withdraw(session, world.officer, referral_id),  # the receiver
    ]
    for attempt in attempts:
        with pytest.raises(access.RefusedAsNotFound) as refused:
            attempt()
        assert refused.value.message == referrals.NO_SUCH_REFERRAL
        [entry] = refused.value.entries
        assert entry.decision == "deny"
        assert entry.rule == "platform.record_not_held"
        assert entry.owner_org_id == world.worker.org_id
    with pytest.raises(NotFound) as missing:
        referrals.accept(session, world.officer, uuid.uuid4())
    assert missing.value.message == referrals.NO_SUCH_REFERRAL
    assert session.get(Referral, referral_id).status is ReferralStatus.PENDING  # type: ignore[union-attr]


def test_a_refused_answer_is_logged_and_changes_nothing(session: Session, world: World) -> None:
    """The receiving org's auditor may not answer: refused by the access point, logged."""
    referral_id = _refer(session, world)
    auditor = Actor(None, world.metropole_id, OrgKind.COUNCIL, frozenset({Role.AUDITOR}), "test")
    with pytest.raises(access.AccessRefused) as refused:
        referrals.accept(session, auditor, referral_id)
    assert not isinstance(refused.value, access.RefusedAsNotFound)
    [entry] = refused.value.entries
    assert entry.decision == "deny"
    assert entry.purpose == "housing_allocation"
    assert session.get(Referral, referral_id).status is ReferralStatus.PENDING  # type: ignore[union-attr]


def test_the_receiver_sees_the_note_and_the_phone_when_the_person_agreed(
    session: Session, world: World
) -> None:
    """Entraide's policy (entraide.referral_contact) releases the referrals and the contact
    to the partner a case was referred to, when the person agreed."""
    referral_id = _refer(session, world)
    [line] = referrals.received(session, world.officer, Purpose.HOUSING_ALLOCATION)
    assert line.id == referral_id
    assert line.note == NOTE
    assert line.note_released
    assert line.reach.phone == PHONE
    assert line.reach.worker_name is None
    assert line.case_id == world.case_id
    assert line.need is NeedCategory.SHELTER
    assert NOTE not in repr(line)
    assert PHONE not in repr(line.reach)


def test_a_receiver_without_the_persons_consent_sees_no_note_and_no_contact(
    session: Session, world: World
) -> None:
    """Referred with the consent override: the owner's policy releases neither the reason nor
    the person's contact; the receiver is pointed to the referring worker instead."""
    _refer(session, world, consent=False)
    [line] = referrals.received(session, world.officer, Purpose.HOUSING_ALLOCATION)
    assert line.note is None
    assert not line.note_released
    assert line.reach.phone is None
    assert line.reach.worker_name == "Inès Martin"
    assert line.reach.org_name == "Entraide"
    assert line.case_id == world.case_id  # the summary still opens (entraide.share_summary)


def test_under_another_purpose_the_receiver_sees_neither(session: Session, world: World) -> None:
    _refer(session, world)
    [line] = referrals.received(session, world.officer, Purpose.CASE_MANAGEMENT)
    assert line.note is None
    assert line.reach.phone is None
    assert line.case_id is None


@pytest.mark.parametrize("end", ["outcome", "withdraw"])
def test_a_closed_referral_no_longer_opens_the_case(
    session: Session, world: World, end: str
) -> None:
    referral_id = _refer(session, world, consent=False)
    if end == "outcome":
        referrals.accept(session, world.officer, referral_id)
        referrals.record_outcome(session, world.officer, referral_id, ReferralOutcome.HOUSED)
    else:
        referrals.withdraw(session, world.worker, referral_id)
    [line] = referrals.received(session, world.officer, Purpose.HOUSING_ALLOCATION)
    assert line.case_id is None
    assert line.note is None
    with pytest.raises(access.AccessRefused):
        cases.read_case(session, world.officer, Purpose.HOUSING_ALLOCATION, world.case_id)


def test_lists_are_refused_to_roles_without_case_content(session: Session, world: World) -> None:
    _refer(session, world)
    auditor = Actor(None, world.worker.org_id, OrgKind.CHARITY, frozenset({Role.AUDITOR}), "test")
    for listing in (referrals.sent, referrals.received):
        with pytest.raises(access.AccessRefused):
            listing(session, auditor, Purpose.AUDIT)


def test_the_sent_list_filters_by_status_and_holds_only_the_own_orgs(
    session: Session, world: World
) -> None:
    referral_id = _refer(session, world)
    assert [r.id for r in referrals.sent(session, world.worker, Purpose.OUTREACH)] == [referral_id]
    assert referrals.sent(session, world.worker, Purpose.OUTREACH, ReferralStatus.ACCEPTED) == []
    assert referrals.sent(session, world.officer, Purpose.HOUSING_ALLOCATION) == []
