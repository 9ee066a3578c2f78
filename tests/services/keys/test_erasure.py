"""Erasure by crypto-shredding: nothing of the person can be read afterwards, others untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from databank.domain.enums import LinkReason, PersonStatus, Purpose, Role
from databank.domain.errors import Conflict, DecryptionFailed, Erased, NotFound
from databank.models import ErasureTombstone, Identity, OrgKey, Person, SubjectKey
from databank.models.linkage import LinkageRecord
from databank.services import access
from databank.services.inputs import ConsentIn
from databank.services.keys import erasure
from databank.services.keys.keyring import keyring_of
from databank.services.linkage import clusters
from databank.services.records import cases, consents, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import encounter, identity, intake_record
from tests.support import subjects_of


def test_erasure_leaves_nothing_readable(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """After erasure no service returns any identifying or sensitive field of that person."""
    org_a, org_b = make_org(), make_org()
    worker_a, worker_b = actor_for(org_a), actor_for(org_b)
    admin_a = actor_for(org_a, Role.ORG_ADMIN)
    [gone] = people.intake(session, worker_a, Purpose.OUTREACH, [intake_record()])
    [gone_b] = people.intake(session, worker_b, Purpose.OUTREACH, [intake_record()])
    assert gone_b.person_id == gone.person_id
    [kept] = people.intake(
        session, worker_a, Purpose.OUTREACH, [intake_record(identity(given_name="Paul"))]
    )
    assert gone.case_id
    assert gone_b.case_id
    assert kept.case_id

    destroyed = erasure.erase_person(session, admin_a, Purpose.CASE_MANAGEMENT, gone.person_id)
    assert destroyed == 2  # one subject key per org that knew the person

    for actor, case_id in ((worker_a, gone.case_id), (worker_b, gone_b.case_id)):
        with pytest.raises(Erased):
            cases.read_case(session, actor, Purpose.OUTREACH, case_id)
        with pytest.raises(Erased):
            people.read_identity(session, actor, Purpose.OUTREACH, gone.person_id)
        with pytest.raises(Erased):
            cases.record_encounter(session, actor, Purpose.OUTREACH, case_id, encounter())
        with pytest.raises(Erased):
            consents.record_consent(
                session,
                actor,
                Purpose.OUTREACH,
                gone.person_id,
                ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_kinds=("charity",)),
            )
    found = people.find_people(
        session, worker_a, Purpose.OUTREACH, "Lefèvre-Durand", identity().birth_date
    )
    assert [f.person_id for f in found] == [kept.person_id]  # same name and birth date

    gone_subjects = subjects_of(session, gone.person_id)
    assert len(gone_subjects) == 2  # one record per org
    count = lambda model, col: session.scalar(  # noqa: E731
        select(func.count()).select_from(model).where(col.in_(gone_subjects))
    )
    assert count(SubjectKey, SubjectKey.subject_id) == 0
    assert count(LinkageRecord, LinkageRecord.subject_id) == 0
    assert session.scalars(
        select(Identity.name_dob_bidx).where(Identity.subject_id.in_(gone_subjects))
    ).all() == [None, None]
    assert count(ErasureTombstone, ErasureTombstone.subject_id) == 2
    person = session.get(Person, gone.person_id)
    assert person is not None
    assert person.status is PersonStatus.ERASED

    # Other people are untouched.
    view = cases.read_case(session, worker_a, Purpose.OUTREACH, kept.case_id)
    assert view.notes is not None
    assert people.read_identity(session, worker_a, Purpose.OUTREACH, kept.person_id).given_name == (
        "Paul"
    )


def test_erased_person_is_not_pooled_again(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """A new registration after erasure makes a new pseudonym: the old one cannot be linked."""
    org = make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [gone] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, gone.person_id)
    [again] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    assert again.outcome == "created"
    assert again.person_id != gone.person_id


def test_only_admins_of_an_org_that_knows_the_person_can_erase(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    [result] = people.intake(session, actor_for(org), Purpose.OUTREACH, [intake_record()])
    with pytest.raises(access.AccessRefused):
        erasure.erase_person(session, actor_for(org), Purpose.CASE_MANAGEMENT, result.person_id)
    with pytest.raises(NotFound):
        erasure.erase_person(
            session,
            actor_for(make_org(), Role.ORG_ADMIN),
            Purpose.CASE_MANAGEMENT,
            result.person_id,
        )
    admin = actor_for(org, Role.ORG_ADMIN)
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, result.person_id)
    with pytest.raises(Conflict):
        erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, result.person_id)


def test_replay_after_restore_erases_again(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """A backup restored after an erasure brings keys back; replaying the ledger shreds them."""
    org = make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    backup = [
        dict(r._mapping)
        for r in session.execute(
            select(SubjectKey.__table__).where(SubjectKey.subject_id == result.subject_id)
        )
    ]
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, result.person_id)
    session.execute(insert(SubjectKey.__table__), backup)  # the "restore"
    assert erasure.replay_erasures(session) == 1
    assert (
        session.scalar(
            select(func.count())
            .select_from(SubjectKey)
            .where(SubjectKey.subject_id == result.subject_id)
        )
        == 0
    )
    assert erasure.replay_erasures(session) == 0


def test_erased_keys_are_gone_even_from_a_warm_cache(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    keyring = session.info["keyring"]
    assert keyring.subject_keys(session, org.id, [result.subject_id])
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, result.person_id)
    assert keyring.subject_keys(session, org.id, [result.subject_id]) == {}


def test_finding13_erasure_evicts_the_unwrapped_keys_from_the_cache(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Erasure takes the person's unwrapped keys out of the process's keyring, not only out of
    the database: once erased, a wrapped key restored from a backup (before the tombstones are
    replayed) can only be opened with the org key again, never found warm in memory."""
    org = make_org()
    worker, admin = actor_for(org), actor_for(org, Role.ORG_ADMIN)
    [result] = people.intake(session, worker, Purpose.OUTREACH, [intake_record()])
    keyring = keyring_of(session)
    assert keyring.subject_keys(session, org.id, [result.subject_id])  # cached now
    backup = [
        dict(r._mapping)
        for r in session.execute(
            select(SubjectKey.__table__).where(SubjectKey.subject_id == result.subject_id)
        )
    ]
    erasure.erase_person(session, admin, Purpose.CASE_MANAGEMENT, result.person_id)
    session.execute(insert(SubjectKey.__table__), backup)  # the "restore"
    # The org key can no longer unwrap anything: only a key left in memory could be returned.
    [version] = session.scalars(select(OrgKey.version).where(OrgKey.org_id == org.id)).all()
    session.execute(update(OrgKey).where(OrgKey.org_id == org.id).values(wrapped_key=None))
    keyring.forget_org_key(org.id, version)
    with pytest.raises(DecryptionFailed):
        keyring.subject_keys(session, org.id, [result.subject_id])


def test_erasing_one_subject_empties_its_identity_keys_and_encodings_and_leaves_its_cluster(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Erasure works per subject: that record's keys, index value and linkage encodings go and
    it leaves its pooled person; the other orgs' records of the person stay readable; the
    person goes (erased) once its last record is erased."""
    org_a, org_b = make_org(), make_org()
    worker_a, worker_b = actor_for(org_a), actor_for(org_b)
    [a] = people.intake(session, worker_a, Purpose.OUTREACH, [intake_record()])
    [b] = people.intake(session, worker_b, Purpose.OUTREACH, [intake_record()])
    assert a.person_id == b.person_id
    assert a.subject_id
    assert b.subject_id
    assert b.case_id

    erasure.erase_subject(
        session, actor_for(org_a, Role.ORG_ADMIN), Purpose.CASE_MANAGEMENT, a.subject_id
    )
    session.flush()
    assert (
        session.scalar(
            select(func.count())
            .select_from(SubjectKey)
            .where(SubjectKey.subject_id == a.subject_id)
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(LinkageRecord)
            .where(LinkageRecord.subject_id == a.subject_id)
        )
        == 0
    )
    assert (
        session.scalar(select(Identity.name_dob_bidx).where(Identity.subject_id == a.subject_id))
        is None
    )
    assert clusters.members(session, a.person_id) == [b.subject_id]
    assert [h.reason for h in clusters.history(session, a.subject_id)][-1] is LinkReason.ERASED
    with pytest.raises(Erased):
        people.read_identity(session, worker_a, Purpose.OUTREACH, a.person_id)
    assert people.read_identity(session, worker_b, Purpose.OUTREACH, b.person_id).given_name
    assert cases.read_case(session, worker_b, Purpose.OUTREACH, b.case_id).notes
    person = session.get(Person, a.person_id)
    assert person is not None
    assert person.status is PersonStatus.ACTIVE

    erasure.erase_subject(
        session, actor_for(org_b, Role.ORG_ADMIN), Purpose.CASE_MANAGEMENT, b.subject_id
    )
    session.flush()
    session.refresh(person)
    assert person.status is PersonStatus.ERASED
    assert clusters.members(session, a.person_id) == []
