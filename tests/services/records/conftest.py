"""A person whose identity the owner's policy releases to a partner: the case where only the
services' own-org rule keeps the owner's identifiers with the owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, OrgKind, Purpose, Role
from databank.models import Identity
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import consents, people
from tests.factories import identity, intake_record

# Métropole records the person with these identifiers; the housing provider (if it registers
# them too) records the same person with its own spelling, phone and birth place.
COUNCIL_IDENTITY = identity(phone="+33 6 11 11 11 11", birth_place="Lyon 3e")
HOUSING_IDENTITY = identity(
    given_name="AMELIE",
    family_name="lefevre durand",
    phone="+33 7 22 22 22 22",
    birth_place="Villeurbanne",
    aliases=(),
)


@dataclass(frozen=True)
class SharedIdentity:
    council: Actor  # Métropole's outreach worker: the owner
    housing: Actor  # Habitat Rhône's housing officer: the partner
    person_id: uuid.UUID


@pytest.fixture
def shared_identity(session: Session) -> SharedIdentity:
    """Métropole's person, consented to Habitat Rhône for housing allocation: Métropole's policy
    (metropole.housing_allocation_with_consent) then releases their identity and contact details
    to Habitat Rhône's housing officers. Checked here, so the tests below test the service's rule
    and not a policy that happens to refuse."""
    metro = organisations.create_organisation(session, "metropole", "Métropole", OrgKind.COUNCIL)
    habitat = organisations.create_organisation(
        session, "habitat-rhone", "Habitat Rhône", OrgKind.HOUSING_PROVIDER
    )
    council = Actor(None, metro.id, metro.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    housing = Actor(None, habitat.id, habitat.kind, frozenset({Role.HOUSING_OFFICER}), "test")
    [result] = people.intake(session, council, Purpose.OUTREACH, [intake_record(COUNCIL_IDENTITY)])
    consents.record_consent(
        session,
        council,
        Purpose.OUTREACH,
        result.person_id,
        ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(habitat.id,)),
    )
    identity_id = session.scalars(
        select(Identity.id).where(Identity.person_id == result.person_id)
    ).one()
    resource = access.Resource(RecordType.IDENTITY, identity_id, metro.id, result.person_id)
    for field in people.IDENTITY_FIELDS:
        explained = access.explain(
            session, housing, Action.READ, Purpose.HOUSING_ALLOCATION, resource, field
        )
        assert explained.allowed, field
    return SharedIdentity(council, housing, result.person_id)
