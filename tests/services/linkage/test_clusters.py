"""Pooled persons as clusters of subjects: merges and splits rewrite the mapping, never a
ciphertext; one org may hold two subjects of one person, and they pool."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import LinkReason, PersonStatus, Purpose, SubjectStatus
from databank.domain.errors import ValidationFailed
from databank.domain.vocab import NeedCategory
from databank.models import (
    Case,
    Consent,
    Encounter,
    Identity,
    Person,
    Referral,
    Subject,
    SubjectKey,
)
from databank.models.linkage import LinkageRecord
from databank.services.inputs import ConsentIn, IntakeRecord, NeedIn, Point
from databank.services.linkage import clusters
from databank.services.records import cases, consents, outreach, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import case, encounter, identity, intake_record
from tests.support import subjects_of

# Every table that holds a subject's data or keys: none may change in a merge or a split.
DATA = (Identity, SubjectKey, Case, Encounter, Referral, Consent, LinkageRecord)


def _raw(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the subjects' data tables, ciphertext bytes included, and of subjects
    without their person."""
    session.flush()
    found = {
        m.__tablename__: sorted(tuple(r) for r in session.execute(select(m.__table__)).all())  # type: ignore[attr-defined]
        for m in DATA
    }
    s = Subject.__table__
    found["subjects"] = sorted(
        tuple(r)
        for r in session.execute(
            select(*(c for c in s.columns if c.name != "person_id"))  # type: ignore[attr-defined]
        ).all()
    )
    return found


def _register(session: Session, actor: Any, given: str, note: str) -> people.IntakeResult:
    record = IntakeRecord(
        identity=identity(given_name=given, family_name=f"{given}son"),
        case=case(notes=note, point=Point(45.7601, 4.8351)),
        needs=(NeedIn(NeedCategory.FOOD),),
        encounters=(encounter(notes=f"{note}, met", point=Point(45.7611, 4.8361)),),
    )
    [result] = people.intake(session, actor, Purpose.OUTREACH, [record])
    return result


def _read_all(
    session: Session, actor: Any, result: people.IntakeResult, given: str, note: str
) -> None:
    """Everything of the registration opens: identity, case notes and point, encounter."""
    view = people.read_identity(session, actor, Purpose.OUTREACH, result.person_id)
    assert view.given_name == given
    assert result.case_id is not None
    case_view = cases.read_case(session, actor, Purpose.OUTREACH, result.case_id)
    assert case_view.notes == note
    assert case_view.point is not None
    assert [e.notes for e in case_view.encounters] == [f"{note}, met"]
    assert case_view.encounters[0].place is not None
    assert case_view.encounters[0].place.point is not None


def test_merge_and_split_leave_every_ciphertext_readable_and_rewrite_only_the_mapping(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """A linkage merge and a split change subjects.person_id only: every ciphertext of every
    subject (identity, case, encounter, referral, wrapped keys) keeps its bytes and opens."""
    org_a, org_b = make_org(), make_org()
    worker_a, worker_b = actor_for(org_a), actor_for(org_b)
    first = _register(session, worker_a, "Amina", "sleeps by the station")
    second = _register(session, worker_b, "Aminata", "asked for a doctor")
    assert first.case_id is not None
    consents.record_consent(
        session,
        worker_a,
        Purpose.OUTREACH,
        first.person_id,
        ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_ids=(org_b.id,)),
    )
    cases.refer(
        session,
        worker_a,
        Purpose.OUTREACH,
        first.case_id,
        org_b.id,
        Purpose.OUTREACH,
        need=NeedCategory.HEALTH,
        note="referred for care",
    )
    before = _raw(session)

    kept = clusters.merge(session, second.person_id, first.person_id)
    assert kept == first.person_id  # the older pseudonym stays
    gone = session.get(Person, second.person_id)
    assert gone is not None
    assert gone.status is PersonStatus.MERGED
    assert gone.merged_into_id == kept
    assert subjects_of(session, kept) == [first.subject_id, second.subject_id]
    assert _raw(session) == before
    _read_all(session, worker_a, first, "Amina", "sleeps by the station")
    # Org b names the person by the pooled id it now has; its old one leads there too.
    for pid in (kept, second.person_id):
        assert people.read_identity(session, worker_b, Purpose.OUTREACH, pid).given_name == (
            "Aminata"
        )
    assert second.case_id is not None
    assert cases.read_case(session, worker_b, Purpose.OUTREACH, second.case_id).notes == (
        "asked for a doctor"
    )

    assert second.subject_id is not None
    new = clusters.split(session, [second.subject_id])
    assert new not in {first.person_id, second.person_id}
    assert subjects_of(session, kept) == [first.subject_id]
    assert subjects_of(session, new) == [second.subject_id]
    assert _raw(session) == before
    _read_all(session, worker_a, first, "Amina", "sleeps by the station")
    assert people.read_identity(session, worker_b, Purpose.OUTREACH, new).given_name == "Aminata"
    assert cases.read_case(session, worker_b, Purpose.OUTREACH, second.case_id).notes == (
        "asked for a doctor"
    )

    reasons = [
        (h.from_person_id, h.to_person_id, h.reason)
        for h in clusters.history(session, second.subject_id)
    ]
    assert reasons == [
        (None, second.person_id, LinkReason.ENROLLED),
        (second.person_id, kept, LinkReason.CLUSTER_MERGE),
        (kept, new, LinkReason.CLUSTER_SPLIT),
    ]


def test_a_split_must_leave_the_person_a_subject(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    [only] = people.intake(session, actor_for(make_org()), Purpose.OUTREACH, [intake_record()])
    assert only.subject_id is not None
    with pytest.raises(ValidationFailed):
        clusters.split(session, [only.subject_id])


def test_two_subjects_of_one_person_in_one_org_are_allowed_and_pool(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """One org's duplicate registrations (names recorded differently) are two subjects; once
    linkage pools them, the person's page shows the cases and consents of both."""
    org = make_org()
    worker = actor_for(org)
    first = _register(session, worker, "Mohamed", "first registration")
    second = _register(session, worker, "Mohammed", "second registration")
    assert first.person_id != second.person_id
    consents.record_consent(
        session,
        worker,
        Purpose.OUTREACH,
        second.person_id,
        ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_kinds=("charity",)),
    )
    kept = clusters.merge(session, first.person_id, second.person_id)
    held = session.scalars(
        select(Subject).where(Subject.person_id == kept, Subject.org_id == org.id)
    ).all()
    assert {s.id for s in held} == {first.subject_id, second.subject_id}
    assert all(s.status is SubjectStatus.ACTIVE for s in held)

    page = outreach.person_page(session, worker, Purpose.OUTREACH, kept)
    assert page.identity.given_name == "Mohamed"  # the org's oldest record of the person
    assert {c.id for c in page.cases} == {first.case_id, second.case_id}
    assert {c.notes for c in page.cases} == {"first registration", "second registration"}
    assert len(page.consents) == 1
    # Both records still open with their own keys.
    _read_all(session, worker, first, "Mohamed", "first registration")
    assert second.case_id is not None
    assert cases.read_case(session, worker, Purpose.OUTREACH, second.case_id).notes == (
        "second registration"
    )


def test_subject_ids_are_not_the_pooled_id(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """A new subject's binding is its own id: nothing sealed for it names the pooled person."""
    [result] = people.intake(session, actor_for(make_org()), Purpose.OUTREACH, [intake_record()])
    subject = session.get(Subject, result.subject_id)
    assert subject is not None
    assert subject.binding == subject.id != result.person_id
    assert isinstance(subject.person_id, uuid.UUID)
