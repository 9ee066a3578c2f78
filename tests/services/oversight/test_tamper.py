"""Moved, altered or truncated ciphertexts in the database fail to open, with one opaque error."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from databank.domain.enums import Purpose
from databank.domain.errors import DecryptionFailed
from databank.models import Case, Identity
from databank.services.actors import Actor
from databank.services.records import cases, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import case, identity, intake_record

OPAQUE = "the protected value could not be read"


@pytest.fixture
def two_people(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> tuple[Actor, list[people.IntakeResult]]:
    actor = actor_for(make_org())
    results = people.intake(
        session,
        actor,
        Purpose.OUTREACH,
        [intake_record(), intake_record(identity(given_name="Karim", family_name="Benali"))],
    )
    return actor, results


def _set(session: Session, model: type, row_id: uuid.UUID, **values: object) -> None:
    session.execute(update(model).where(model.id == row_id).values(**values))  # type: ignore[attr-defined]
    session.expire_all()


def _assert_opaque(call: Callable[[], object]) -> None:
    with pytest.raises(DecryptionFailed) as caught:
        call()
    assert str(caught.value) == OPAQUE
    assert caught.value.__cause__ is None


def test_ciphertext_moved_to_another_person_fails(
    session: Session, two_people: tuple[Actor, list[people.IntakeResult]]
) -> None:
    """A database writer cannot move a note from one person's case to another's (AAD binding)."""
    actor, (a, b) = two_people
    note = session.get(Case, a.case_id)
    assert note is not None
    _set(session, Case, b.case_id, notes_ciphertext=note.notes_ciphertext)  # type: ignore[arg-type]
    _assert_opaque(lambda: cases.read_case(session, actor, Purpose.OUTREACH, b.case_id))  # type: ignore[arg-type]


def test_ciphertext_moved_to_another_column_fails(
    session: Session, two_people: tuple[Actor, list[people.IntakeResult]]
) -> None:
    """A given name copied into the family name column does not open."""
    actor, (a, _b) = two_people
    row = session.get(Identity, a.identity_id)
    assert row is not None
    _set(session, Identity, row.id, family_name_ciphertext=row.given_name_ciphertext)
    _assert_opaque(lambda: people.read_identity(session, actor, Purpose.OUTREACH, a.person_id))


def test_ciphertext_moved_to_another_row_of_the_same_person_fails(
    session: Session, two_people: tuple[Actor, list[people.IntakeResult]]
) -> None:
    """Two cases of the same person: a note moved between them does not open."""
    actor, (a, _b) = two_people
    second = cases.open_case(
        session, actor, Purpose.OUTREACH, a.person_id, case(notes="A different, second note.")
    )
    first = session.get(Case, a.case_id)
    assert first is not None
    _set(session, Case, second, notes_ciphertext=first.notes_ciphertext)
    _assert_opaque(lambda: cases.read_case(session, actor, Purpose.OUTREACH, second))


def test_ciphertext_moved_to_another_org_fails(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker
) -> None:
    """The same person at two orgs: one org's sealed name does not open in the other's row."""
    a, b = actor_for(make_org()), actor_for(make_org())
    [ra] = people.intake(session, a, Purpose.OUTREACH, [intake_record()])
    [rb] = people.intake(session, b, Purpose.OUTREACH, [intake_record()])
    assert ra.person_id == rb.person_id
    row_a = session.get(Identity, ra.identity_id)
    assert row_a is not None
    _set(session, Identity, rb.identity_id, given_name_ciphertext=row_a.given_name_ciphertext)  # type: ignore[arg-type]
    _assert_opaque(lambda: people.read_identity(session, b, Purpose.OUTREACH, rb.person_id))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda blob: blob[:-1], id="truncated"),
        pytest.param(lambda blob: blob[:10], id="truncated-to-header"),
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(lambda blob: blob[:20] + bytes([blob[20] ^ 1]) + blob[21:], id="flipped"),
        pytest.param(lambda blob: blob[:2] + b"\x00\x00\x00\x09" + blob[6:], id="wrong-key-id"),
        pytest.param(lambda blob: b"\x02" + blob[1:], id="unknown-version"),
    ],
)
def test_altered_ciphertext_fails(
    session: Session,
    two_people: tuple[Actor, list[people.IntakeResult]],
    tamper: Callable[[bytes], bytes],
) -> None:
    actor, (a, _b) = two_people
    row = session.get(Case, a.case_id)
    assert row is not None
    assert row.notes_ciphertext is not None
    _set(session, Case, row.id, notes_ciphertext=tamper(row.notes_ciphertext))
    _assert_opaque(lambda: cases.read_case(session, actor, Purpose.OUTREACH, a.case_id))  # type: ignore[arg-type]
