"""Org key rotation and retirement: subject keys are re-wrapped, no data rewritten, all readable."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import Purpose
from databank.domain.errors import ConfigurationError
from databank.models import Case, OrgKey, SubjectKey
from databank.services.keys import rotation
from databank.services.keys.keyring import Keyring, keyring_of
from databank.services.records import cases, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import identity, intake_record
from tests.support import fixed_material


def _fresh_keyring(session: Session) -> None:
    """Stand in for a restarted process: nothing unwrapped is cached."""
    session.info["keyring"] = Keyring(fixed_material(), keyring_of(session).planned_population)


def test_rotation_rewraps_subject_keys_and_everything_still_decrypts(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    actor = actor_for(org)
    records = [intake_record(identity(given_name=f"Name{i}")) for i in range(5)]
    results = people.intake(session, actor, Purpose.OUTREACH, records)
    notes_before = session.scalars(select(Case.notes_ciphertext).order_by(Case.id)).all()

    version, count = rotation.rotate_org_key(session, org.slug)
    assert (version, count) == (2, 5)
    assert set(
        session.scalars(select(SubjectKey.org_key_version).where(SubjectKey.org_id == org.id))
    ) == {2}
    # No data rewrite: the sealed fields are byte for byte what they were.
    assert session.scalars(select(Case.notes_ciphertext).order_by(Case.id)).all() == notes_before

    rotation.retire_org_key(session, org.slug, 1)
    old = session.scalars(select(OrgKey).where(OrgKey.org_id == org.id, OrgKey.version == 1)).one()
    assert old.wrapped_key is None
    assert old.retired_at is not None

    _fresh_keyring(session)
    for result in results:
        assert result.case_id is not None
        view = cases.read_case(session, actor, Purpose.OUTREACH, result.case_id)
        assert view.notes is not None
    assert rotation.org_key_versions(session, org.slug) == [(1, False, True), (2, True, False)]


def test_new_records_after_rotation_use_the_new_version(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    rotation.rotate_org_key(session, org.slug)
    people.intake(session, actor_for(org), Purpose.OUTREACH, [intake_record()])
    assert set(
        session.scalars(select(SubjectKey.org_key_version).where(SubjectKey.org_id == org.id))
    ) == {2}


def test_active_or_used_key_cannot_be_retired(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    org = make_org()
    people.intake(session, actor_for(org), Purpose.OUTREACH, [intake_record()])
    with pytest.raises(ConfigurationError, match="active"):
        rotation.retire_org_key(session, org.slug, 1)
    with pytest.raises(ConfigurationError, match="no key version"):
        rotation.retire_org_key(session, org.slug, 7)


def test_rotation_is_logged(session: Session, make_org: OrgMaker) -> None:
    from databank.models import AuditEntry

    org = make_org()
    rotation.rotate_org_key(session, org.slug)
    rotation.retire_org_key(session, org.slug, 1)
    events = session.scalars(
        select(AuditEntry.event).where(AuditEntry.owner_org_id == org.id)
    ).all()
    assert "key.rotated" in events
    assert "key.retired" in events
