"""Correcting an identity: the owner only, decided and logged, the previous values kept sealed,
the blind index and the linkage encodings made again, the subject re-linked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import Purpose, Role, Sex
from databank.domain.errors import Erased, NotFound, ValidationFailed
from databank.models import AuditEntry, IdentityChange, Subject
from databank.models.linkage import LinkageRecord
from databank.services import access
from databank.services.actors import Actor
from databank.services.keys import erasure
from databank.services.linkage import runs
from databank.services.linkage.zone import TO_RELINK
from databank.services.records import people
from databank.services.records.identity_changes import (
    IdentityCorrection,
    correct_identity,
    identity_history,
)
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record
from tests.services.linkage.test_runs import BEN_ALI, BENALI, _background
from tests.services.records.conftest import SharedIdentity


@pytest.fixture
def owner(make_org: OrgMaker, actor_for: ActorMaker) -> Actor:
    return actor_for(make_org(), Role.OUTREACH_WORKER)


def _register(session: Session, actor: Actor, **who: object) -> people.IntakeResult:
    [found] = people.intake(
        session, actor, Purpose.OUTREACH, [intake_record(identity(sex=Sex.MALE, **who))]
    )
    return found


def test_a_correction_keeps_the_old_values_sealed_and_finds_the_new_ones(
    session: Session, owner: Actor
) -> None:
    registered = _register(
        session, owner, given_name="Jean", family_name="Dupomt", birth_date=date(1970, 1, 2)
    )
    changed = correct_identity(
        session,
        owner,
        Purpose.OUTREACH,
        registered.person_id,
        IdentityCorrection(
            family_name="Dupont", birth_date=date(1970, 2, 1), phone="+33 6 00 00 00 01"
        ),
    )
    assert changed == ("family_name", "birth_date", "phone")
    now = people.read_identity(session, owner, Purpose.OUTREACH, registered.person_id)
    assert (now.given_name, now.family_name, now.birth_date) == ("Jean", "Dupont", date(1970, 2, 1))
    assert now.phone == "+33 6 00 00 00 01"
    # The blind index follows the correction: found by the new values, not by the old ones.
    assert people.find_people(session, owner, Purpose.OUTREACH, "Dupont", date(1970, 2, 1))
    assert not people.find_people(session, owner, Purpose.OUTREACH, "Dupomt", date(1970, 1, 2))
    [change] = identity_history(session, owner, Purpose.OUTREACH, registered.person_id)
    assert change.fields == ("family_name", "birth_date", "phone")
    assert change.previous["family_name"] == "Dupomt"
    assert change.previous["birth_date"] == "1970-01-02"
    assert change.previous["phone"] == identity().phone
    assert "Dupomt" not in repr(change)
    row = session.scalars(select(IdentityChange)).one()
    stored = b"".join(
        bytes(getattr(row, c) or b"")
        for c in ("family_name_ciphertext", "birth_date_ciphertext", "phone_ciphertext")
    )
    assert b"Dupomt" not in stored
    assert b"1970-01-02" not in stored
    assert row.given_name_ciphertext is None  # unchanged fields keep nothing
    updates = session.scalars(
        select(AuditEntry.body).where(AuditEntry.event == "access.update")
    ).all()
    released = [b for b in updates if b'"type":"identity"' in bytes(b)]
    assert any(b'"released":["identity"]' in bytes(b) for b in released)
    assert any(b'"released":["contact"]' in bytes(b) for b in released)
    # Erasure shreds the history with the identity: the subject's key is gone.
    admin = Actor(None, owner.org_id, owner.org_kind, frozenset({Role.ORG_ADMIN}), "test")
    erasure.erase_person(session, admin, Purpose.OUTREACH, registered.person_id)
    with pytest.raises(Erased):
        identity_history(session, owner, Purpose.OUTREACH, registered.person_id)


def test_a_correction_is_checked_naming_the_field(session: Session, owner: Actor) -> None:
    registered = _register(session, owner)
    person = registered.person_id
    with pytest.raises(ValidationFailed) as nothing:
        correct_identity(session, owner, Purpose.OUTREACH, person, IdentityCorrection())
    assert "identity" in nothing.value.errors
    future = date.today() + timedelta(days=30)
    with pytest.raises(ValidationFailed) as later:
        correct_identity(
            session, owner, Purpose.OUTREACH, person, IdentityCorrection(birth_date=future)
        )
    assert "birth_date" in later.value.errors
    with pytest.raises(ValidationFailed) as blank:
        correct_identity(
            session, owner, Purpose.OUTREACH, person, IdentityCorrection(aliases=["x" * 101])
        )
    assert "aliases" in blank.value.errors
    current = people.read_identity(session, owner, Purpose.OUTREACH, person)
    with pytest.raises(ValidationFailed) as same:
        correct_identity(
            session,
            owner,
            Purpose.OUTREACH,
            person,
            IdentityCorrection(family_name=current.family_name),
        )
    assert "identity" in same.value.errors
    assert session.scalars(select(IdentityChange)).all() == []


def test_a_partner_cannot_correct_an_identity_it_may_read(
    session: Session, shared_identity: SharedIdentity
) -> None:
    """Métropole releases the identity to Habitat Rhône for housing allocation; correcting it is
    the holder's alone: for anyone else the person is not found, and the attempt is logged."""
    with pytest.raises(access.RefusedAsNotFound) as refused:
        correct_identity(
            session,
            shared_identity.housing,
            Purpose.HOUSING_ALLOCATION,
            shared_identity.person_id,
            IdentityCorrection(family_name="Autre"),
        )
    assert isinstance(refused.value, NotFound)
    assert all(e.decision == "deny" for e in refused.value.entries)
    assert all(e.event == "access.update" for e in refused.value.entries)


def test_correcting_a_typo_re_encodes_and_links_the_subject(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """Issue 16, point 7: a mistyped second registration of someone another organisation holds
    is not pooled with them; corrected, its encoding is made again and it is linked afresh."""
    first, second, third = (actor_for(make_org()) for _ in range(3))
    _background(session, third)
    one = _register(session, first, **BENALI)
    two = _register(
        session, second, given_name="Pierre", family_name="Durand", birth_date=date(1990, 7, 2)
    )
    assert two.subject_id is not None
    runs.link_one(session, two.subject_id)

    def person_of() -> object:
        return session.scalar(select(Subject.person_id).where(Subject.id == two.subject_id))

    def encoding() -> object:
        return session.scalar(
            select(LinkageRecord.encoding).where(LinkageRecord.subject_id == two.subject_id)
        )

    assert person_of() != one.person_id
    before = encoding()
    correct_identity(
        session,
        second,
        Purpose.OUTREACH,
        two.person_id,
        IdentityCorrection(**BEN_ALI),  # type: ignore[arg-type]
    )
    assert encoding() != before
    assert two.subject_id in session.info[TO_RELINK]  # the job queued when this commits
    runs.relink(session, two.subject_id)  # what that job runs
    assert person_of() == one.person_id
