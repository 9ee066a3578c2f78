"""Finding 2 of the attacker review: registration must not be an oracle on who is behind a case.

The Métropole holds a case of a person and shares it with Entraide by consent. Entraide's officer
guesses the person's name and birth date and registers them. Before the fix, the registration
answered `pooled` with the very person id Entraide saw on the shared case: proof of who is behind
it, and that the council knows them. Now each organisation sees its own handles, the pooled id
never leaves the server, and registering says nothing about other organisations.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import Organisation
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.auditlog.writer import sign_now
from databank.services.inputs import ConsentIn
from databank.services.oversight import proofs
from databank.services.records import consents, people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.support import logged_handle_of
from tests.web.conftest import PASSWORD, csrf, login

GUESS = {"given_name": "Guessed", "family_name": "Person", "birth_date": "1979-08-09"}


@dataclass(frozen=True)
class Shared:
    pooled: uuid.UUID
    case_id: uuid.UUID


@pytest.fixture(scope="module")
def shared(web_runtime: Runtime) -> Shared:
    with web_runtime.transaction() as session:
        metro = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        for org, slug in ((metro, "metropole"), (entraide, "entraide")):
            organisations.create_user(
                session, org, f"officer@{slug}", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
            )
        owner = Actor(None, metro.id, metro.kind, frozenset({Role.HOUSING_OFFICER}))
        ident = identity(given_name="Guessed", family_name="Person", birth_date=date(1979, 8, 9))
        [found] = people.intake(session, owner, Purpose.CASE_MANAGEMENT, [intake_record(ident)])
        consents.record_consent(
            session,
            owner,
            Purpose.CASE_MANAGEMENT,
            found.person_id,
            ConsentIn(purposes=(Purpose.CASE_MANAGEMENT,), recipient_org_ids=(entraide.id,)),
        )
    assert found.case_id is not None
    return Shared(found.person_id, found.case_id)


def _session(app: Flask, username: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    assert login(client, username) == 302
    client.post("/purpose", data={"purpose": "case_management", "csrf_token": csrf(client, "/")})
    return client, {"X-CSRF-Token": csrf(client, "/account/tokens/")}


def _register(client: FlaskClient, headers: dict[str, str], who: dict[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/people", json={"identity": who}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, str] = response.get_json()
    return body


def test_finding2_registration_says_nothing_of_other_orgs_and_the_pool_id_never_leaves(
    app: Flask, shared: Shared
) -> None:
    """Rule: the pooled person id never leaves the server; each org sees its own handle of a
    person, another org's records under handles that join nothing it registered, and a
    registration answers the same whether or not other orgs know the person."""
    partner, partner_csrf = _session(app, "officer@entraide")
    seen = partner.get(f"/api/v1/cases/{shared.case_id}").get_json()
    assert seen["person_id"] != str(shared.pooled)

    guessed = _register(partner, partner_csrf, GUESS)
    stranger = _register(partner, partner_csrf, {**GUESS, "family_name": "Nobody-Knows"})
    assert guessed["outcome"] == stranger["outcome"] == "created"
    assert guessed.keys() == stranger.keys()
    # The registration's handle is not the one on the shared case: nothing confirms the guess.
    assert guessed["person_id"] != seen["person_id"]
    assert str(shared.pooled) not in (guessed["person_id"], stranger["person_id"])

    owner, _owner_csrf = _session(app, "officer@metropole")
    own = owner.get(f"/api/v1/cases/{shared.case_id}").get_json()
    # The owner and the partner name the same person differently: their screens do not join.
    assert own["person_id"] not in (seen["person_id"], str(shared.pooled))
    page = owner.get(f"/outreach/people/{own['person_id']}")
    assert page.status_code == 200
    # A handle from another org's screen finds nobody.
    assert owner.get(f"/outreach/people/{guessed['person_id']}").status_code == 404

    # The pooled id is on no page or document either org is shown.
    paths = [
        "/",
        f"/cases/{shared.case_id}",
        "/api/v1/cases",
        f"/api/v1/cases/{shared.case_id}",
        "/outreach/",
        f"/outreach/people/{guessed['person_id']}",
    ]
    for client in (partner, owner):
        for path in paths:
            body = client.get(path).get_data(as_text=True)
            assert str(shared.pooled) not in body, path


def _people_in(bundle: bytes) -> dict[int, str | None]:
    entries = json.loads(bundle)["entries"]
    return {e["seq"]: json.loads(e["body"])["person"] for e in entries}


def test_finding2_proof_bundles_name_people_as_each_holder_does_and_never_join(
    app: Flask, web_runtime: Runtime, shared: Shared
) -> None:
    """Rule: the access log names a person by the handle of the organisation holding the record,
    never by the pooled id, so two organisations' proof bundles (`databank audit prove --org`)
    cannot be joined on the person. (The log enciphers the pooled id under the holder's key,
    while screens encipher the holder's anchor record: services/records/anchors.py.)"""
    partner, partner_csrf = _session(app, "officer@entraide")
    assert partner.get(f"/api/v1/cases/{shared.case_id}").status_code == 200
    # The same person, pooled with the council's (created, or existing after the test above).
    registered = partner.post("/api/v1/people", json={"identity": GUESS}, headers=partner_csrf)
    assert registered.status_code in (200, 201), registered.get_json()
    owner, _ = _session(app, "officer@metropole")
    assert owner.get(f"/api/v1/cases/{shared.case_id}").status_code == 200

    with web_runtime.transaction() as session:
        sign_now(session)
        orgs = {o.slug: o.id for o in session.scalars(select(Organisation))}
        bundles = {
            slug: proofs.prove(session, None, orgs[slug])[0] for slug in ("metropole", "entraide")
        }
    for slug, bundle in bundles.items():
        assert str(shared.pooled).encode() not in bundle, slug
    metro, entraide = (_people_in(bundles[s]) for s in ("metropole", "entraide"))
    # Each names the person under its own key, on its own records.
    own = {slug: str(logged_handle_of(web_runtime, orgs[slug], shared.pooled)) for slug in orgs}
    assert own["metropole"] in metro.values()
    assert own["entraide"] in entraide.values()
    # Entries in one bundle only (not the partner's reads of the shared case, which are in both)
    # name the person by values the other bundle never holds.
    only_metro = {p for seq, p in metro.items() if seq not in entraide and p}
    only_entraide = {p for seq, p in entraide.items() if seq not in metro and p}
    assert own["metropole"] in only_metro
    assert own["entraide"] in only_entraide
    assert not only_metro & only_entraide
