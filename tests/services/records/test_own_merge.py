"""An org merges its own two records of one person: cases move with their history, re-sealed
under the kept record's key, and the other record's keys are destroyed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import LinkReason, Purpose, Role, SubjectStatus
from databank.domain.errors import NotFound, ValidationFailed
from databank.domain.vocab import NeedCategory
from databank.models import (
    AuditEntry,
    Case,
    Consent,
    Encounter,
    Need,
    Referral,
    Subject,
    SubjectKey,
)
from databank.models.linkage import LinkageRecord
from databank.services.inputs import ConsentIn
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer
from databank.services.linkage import clusters
from databank.services.records import cases, consents, outreach, people
from databank.services.records.own_merge import merge_own_records
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record
from tests.support import logged_person


def test_own_merge_moves_cases_with_history_resealed_and_shreds_the_other_record(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """The other record's cases (needs, encounters, referrals) and consents move to the kept
    record; every moved ciphertext is sealed anew under the kept key and still reads the same;
    the other record's keys and encodings are gone; one audit entry and a link-history row."""
    org, partner = make_org(), make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [keep] = people.intake(
        session, worker, Purpose.OUTREACH, [intake_record(identity(given_name="Mamadou"))]
    )
    [other] = people.intake(
        session,
        worker,
        Purpose.OUTREACH,
        [intake_record(identity(given_name="Mamadu"), encounters=2)],
    )
    assert keep.subject_id
    assert other.subject_id
    assert other.case_id
    consents.record_consent(
        session,
        worker,
        Purpose.OUTREACH,
        other.person_id,
        ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_ids=(partner.id,)),
    )
    referral_id = cases.refer(
        session,
        worker,
        Purpose.OUTREACH,
        other.case_id,
        partner.id,
        Purpose.OUTREACH,
        need=NeedCategory.SHELTER,
        note="needs a bed tonight",
    )
    person = clusters.merge(session, keep.person_id, other.person_id)
    before = cases.read_case(session, worker, Purpose.OUTREACH, other.case_id)
    session.flush()
    old_case_blob = session.get(Case, other.case_id).notes_ciphertext  # type: ignore[union-attr]
    needs_before = session.scalar(
        select(func.count()).select_from(Need).where(Need.case_id == other.case_id)
    )

    merged = merge_own_records(
        session, admin, Purpose.CASE_MANAGEMENT, keep.subject_id, other.subject_id
    )
    session.flush()
    assert merged.cases_moved == 1
    assert merged.keys_destroyed == 1
    moved = session.get(Case, other.case_id)
    assert moved is not None
    assert moved.subject_id == keep.subject_id
    assert moved.notes_ciphertext != old_case_blob  # sealed anew, not copied
    after = cases.read_case(session, worker, Purpose.OUTREACH, other.case_id)
    assert after.notes == before.notes
    assert after.point == before.point
    assert [(e.occurred_at, e.notes, e.place) for e in after.encounters] == [
        (e.occurred_at, e.notes, e.place) for e in before.encounters
    ]
    assert len(after.encounters) == 2
    assert [n.id for n in after.needs] == [n.id for n in before.needs]
    assert (
        session.scalar(select(func.count()).select_from(Need).where(Need.case_id == other.case_id))
        == needs_before
    )
    key = keyring_of(session).subject_key_for(session, org.id, keep.subject_id)
    referral = session.get(Referral, referral_id)
    assert referral is not None
    unseal = RowSealer(key, org.id, "referrals", referral.id, keep.subject_id).open
    assert unseal("note_ciphertext", referral.note_ciphertext) == "needs a bed tonight"
    for encounter in session.scalars(select(Encounter).where(Encounter.case_id == moved.id)):
        RowSealer(key, org.id, "encounters", encounter.id, keep.subject_id).open(
            "notes_ciphertext", encounter.notes_ciphertext
        )
    assert session.scalars(select(Consent.subject_id)).all() == [keep.subject_id]

    # The other record is shredded and out of the cluster.
    gone = session.get(Subject, other.subject_id)
    assert gone is not None
    assert gone.status is SubjectStatus.MERGED
    assert keyring_of(session).subject_keys(session, org.id, [other.subject_id]) == {}
    assert (
        session.scalar(
            select(func.count()).select_from(SubjectKey).where(SubjectKey.subject_id == gone.id)
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(LinkageRecord)
            .where(LinkageRecord.subject_id == gone.id)
        )
        == 0
    )
    assert clusters.members(session, person) == [keep.subject_id]
    assert clusters.history(session, gone.id)[-1].reason is LinkReason.OWN_RECORDS_MERGED
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.event == AuditEvent.RECORDS_MERGED.value)
    ).one()
    body = json.loads(entry.body)
    assert body["record"]["id"] == str(keep.subject_id)
    assert logged_person(session, entry) == person  # named by the holder's handle
    # The person's page shows both cases under the one record left.
    page = outreach.person_page(session, worker, Purpose.OUTREACH, person)
    assert {c.id for c in page.cases} == {keep.case_id, other.case_id}


def test_own_merge_needs_two_active_records_of_one_person_in_the_own_org(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org, elsewhere = make_org(), make_org()
    admin = actor_for(org, Role.ORG_ADMIN)
    [a] = people.intake(
        session, actor_for(org), Purpose.OUTREACH, [intake_record(identity(given_name="A"))]
    )
    [b] = people.intake(
        session, actor_for(org), Purpose.OUTREACH, [intake_record(identity(given_name="B"))]
    )
    [c] = people.intake(session, actor_for(elsewhere), Purpose.OUTREACH, [intake_record()])
    assert a.subject_id
    assert b.subject_id
    assert c.subject_id
    with pytest.raises(ValidationFailed):  # not pooled as one person
        merge_own_records(session, admin, Purpose.CASE_MANAGEMENT, a.subject_id, b.subject_id)
    with pytest.raises(NotFound):  # another org's record
        merge_own_records(session, admin, Purpose.CASE_MANAGEMENT, a.subject_id, c.subject_id)
    with pytest.raises(ValidationFailed):
        merge_own_records(
            session, admin, Purpose.CASE_MANAGEMENT, a.subject_id, a.subject_id, "no reason"
        )
