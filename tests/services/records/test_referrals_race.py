"""Two answers to one referral at once (two officers, or a page resent): the second waits for the
first (the referral's row lock on PostgreSQL, SQLite's one writer) and then meets its status."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from databank.domain.enums import OrgKind, Purpose, ReferralStatus, Role
from databank.domain.errors import Conflict
from databank.domain.referrals import DeclineReason
from databank.models import Referral
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people, referrals
from databank.services.runtime import Runtime
from tests.factories import intake_record
from tests.support import scratch_runtime


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_referrals_race", tmp_path_factory.mktemp("race"))
    yield runtime
    runtime.dispose()


def _referral(runtime: Runtime) -> tuple[uuid.UUID, Actor]:
    with runtime.transaction() as session:
        owner_org = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        partner = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        owner = Actor(None, owner_org.id, owner_org.kind, frozenset({Role.OUTREACH_WORKER}))
        [made] = people.intake(session, owner, Purpose.OUTREACH, [intake_record()])
        assert made.case_id is not None
        consents.record_consent(
            session,
            owner,
            Purpose.OUTREACH,
            made.person_id,
            ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(partner.id,)),
        )
        referral_id = cases.refer(
            session,
            owner,
            Purpose.OUTREACH,
            made.case_id,
            partner.id,
            Purpose.HOUSING_ALLOCATION,
        )
    officer = Actor(None, partner.id, partner.kind, frozenset({Role.HOUSING_OFFICER}))
    return referral_id, officer


def test_a_second_answer_at_once_waits_and_is_a_conflict(runtime: Runtime) -> None:
    """The first officer accepts and holds the transaction open; the second officer's decline,
    started meanwhile, waits for it and then finds the referral accepted: a conflict, not a
    second answer over the first."""
    referral_id, officer = _referral(runtime)
    accepted, answered = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with runtime.transaction() as session:
            referrals.accept(session, officer, referral_id)
            accepted.set()
            answered.wait(timeout=2)  # the second is waiting on us (or 2 s have passed)

    def second() -> None:
        accepted.wait(timeout=10)
        try:
            with runtime.transaction() as session:
                referrals.decline(session, officer, referral_id, DeclineReason.NO_CAPACITY)
            outcome["second"] = "declined"
        except Conflict as conflict:
            outcome["second"] = conflict
        finally:
            answered.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(outcome.get("second"), Conflict), outcome
    with runtime.transaction() as session:
        row = session.get(Referral, referral_id)
        assert row is not None
        assert row.status is ReferralStatus.ACCEPTED
        assert row.decline_reason is None
