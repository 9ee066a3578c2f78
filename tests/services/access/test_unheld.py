"""Attempts on another organisation's person or case through the services: refused exactly as a
record that does not exist, and logged for each holder (finding 7 of the attacker review)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from databank.domain.enums import Action, Purpose, Role
from databank.domain.errors import NotFound
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn
from databank.services.keys import erasure
from databank.services.records import cases, consents, outreach, people
from tests.conftest import ActorMaker, OrgMaker
from tests.factories import intake_record

Door = Callable[[Session, Actor, uuid.UUID], object]
PERSON_DOORS: dict[str, Door] = {
    "read_identity": lambda s, a, p: people.read_identity(s, a, Purpose.OUTREACH, p),
    "consents_for": lambda s, a, p: consents.consents_for(s, a, Purpose.OUTREACH, p),
    "record_consent": lambda s, a, p: consents.record_consent(
        s,
        a,
        Purpose.OUTREACH,
        p,
        ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_kinds=("health",)),
    ),
    "open_case": lambda s, a, p: cases.open_case(s, a, Purpose.OUTREACH, p, CaseIn()),
    "erase_person": lambda s, a, p: erasure.erase_person(s, a, Purpose.CASE_MANAGEMENT, p),
    "person_page": lambda s, a, p: outreach.person_page(s, a, Purpose.OUTREACH, p),
}


def _refusal(door: Callable[[], object]) -> tuple[str, list[object] | None]:
    with pytest.raises(NotFound) as caught:
        door()
    return caught.value.message, getattr(caught.value, "entries", None)


@pytest.mark.parametrize("name", sorted(PERSON_DOORS))
def test_finding7_another_orgs_person_is_not_found_and_the_attempt_logged(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, name: str
) -> None:
    """A service asked for a person the actor's organisation does not hold answers "not found",
    with the message a person nobody holds gets; when some organisations hold them, the attempt
    is logged once per holder, naming the person and the holder, pseudonymous ids only
    (finding 7 of the attacker review)."""
    holders = [make_org(), make_org()]
    [held] = people.intake(session, actor_for(holders[0]), Purpose.OUTREACH, [intake_record()])
    people.intake(session, actor_for(holders[1]), Purpose.OUTREACH, [intake_record()])
    prober = actor_for(make_org(), Role.OUTREACH_WORKER, Role.ORG_ADMIN)
    door = PERSON_DOORS[name]
    nobody_message, nobody_entries = _refusal(lambda: door(session, prober, uuid.uuid4()))
    message, entries = _refusal(lambda: door(session, prober, held.person_id))
    assert message == nobody_message
    assert nobody_entries is None  # a record that does not exist has no owner to tell
    assert entries is not None, f"{name}: refused but not logged"
    assert sorted((e.owner_org_id, e.person_id, e.decision) for e in entries) == sorted(
        (org.id, held.person_id, "deny") for org in holders
    )
    assert {e.rule for e in entries} == {"platform.record_not_held"}


@pytest.mark.parametrize("action", [Action.READ, Action.UPDATE, Action.REFER])
def test_finding7_another_orgs_case_is_not_found_and_the_attempt_logged(
    session: Session, make_org: OrgMaker, actor_for: ActorMaker, action: Action
) -> None:
    """A case form's case of another organisation is not found, like a case that does not
    exist, and the attempt is logged for the case's owner (finding 7 of the attacker review)."""
    owner = make_org()
    [held] = people.intake(session, actor_for(owner), Purpose.OUTREACH, [intake_record()])
    assert held.case_id is not None
    prober = actor_for(make_org())

    def door(case_id: uuid.UUID) -> object:
        return outreach.own_case_person(session, prober, action, Purpose.OUTREACH, case_id)

    nobody_message, _ = _refusal(lambda: door(uuid.uuid4()))
    message, entries = _refusal(lambda: door(held.case_id))
    assert message == nobody_message
    assert entries is not None
    [entry] = entries
    assert (entry.owner_org_id, entry.record_id, entry.person_id) == (
        owner.id,
        held.case_id,
        held.person_id,
    )
    assert entry.event == f"access.{action.value}"
    assert (
        outreach.own_case_person(session, actor_for(owner), action, Purpose.OUTREACH, held.case_id)
        == held.person_id
    )
