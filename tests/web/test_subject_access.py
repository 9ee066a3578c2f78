"""The auditor console's subject access request: a person found by family name and birth date
within the auditor's own organisation (by POST, the lookup logged without what was typed), and
the printable report of who reached their data, with staff, organisations and fields in words."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import AuditEntry
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.support import app_on, handle_of, scratch_runtime
from tests.web.conftest import PASSWORD, csrf, login

FAMILY, BORN = "Lefèvre-Durand", date(1990, 1, 2)


@dataclass(frozen=True)
class World:
    metropole: uuid.UUID
    person: uuid.UUID  # Métropole's person, shared with Entraide (pooled id)
    handle: uuid.UUID  # as Métropole sees them
    users: dict[str, uuid.UUID]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    made = scratch_runtime("databank_subject_access", tmp_path_factory.mktemp("sar"))
    yield made
    made.dispose()


@pytest.fixture(scope="module")
def world(runtime: Runtime) -> World:
    users: dict[str, uuid.UUID] = {}
    with runtime.transaction() as session:
        metro = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide Saint-Jean", OrgKind.CHARITY
        )
        for org, name, display, role in [
            (metro, "m-worker", "Marius Travailleur", Role.OUTREACH_WORKER),
            (metro, "m-auditor", "Maud Auditrice", Role.AUDITOR),
            (entraide, "e-worker", "Eugène Bénévole", Role.OUTREACH_WORKER),
            (entraide, "e-auditor", "Estelle Auditrice", Role.AUDITOR),
        ]:
            user = organisations.create_user(session, org, name, display, PASSWORD, [role])
            users[name] = user.id
        session.flush()
        m_worker = Actor(
            users["m-worker"], metro.id, metro.kind, frozenset({Role.OUTREACH_WORKER}), "test"
        )
        e_worker = Actor(
            users["e-worker"], entraide.id, entraide.kind, frozenset({Role.OUTREACH_WORKER}), "t"
        )
        [shared] = people.intake(
            session,
            m_worker,
            Purpose.OUTREACH,
            [intake_record(identity(family_name=FAMILY, birth_date=BORN))],
        )
        consents.record_consent(
            session,
            m_worker,
            Purpose.OUTREACH,
            shared.person_id,
            ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_ids=(entraide.id,)),
        )
        # Entraide's own person: Métropole's auditor must not find them.
        people.intake(
            session,
            e_worker,
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Sacha", family_name="Martin", birth_date=BORN))],
        )
        metro_id = metro.id
    assert shared.case_id is not None
    with runtime.transaction() as session:
        cases.read_case(session, e_worker, Purpose.OUTREACH, shared.case_id)  # partner, partial
        cases.read_case(session, m_worker, Purpose.OUTREACH, shared.case_id)  # the owner
    for _ in range(10):  # refused, again and again: a denial burst
        with pytest.raises(access.AccessRefused), runtime.transaction() as session:
            cases.read_case(session, e_worker, Purpose.CASE_MANAGEMENT, shared.case_id)
    return World(metro_id, shared.person_id, handle_of(runtime, metro_id, shared.person_id), users)


@pytest.fixture(scope="module")
def app(runtime: Runtime, world: World, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return app_on(runtime, tmp_path_factory.mktemp("sar_app"))


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username) == 302
    return client


def _find(client: FlaskClient, family_name: str, birth_date: str) -> tuple[int, str, str]:
    path = "/audit/people/find"
    form = {"family_name": family_name, "birth_date": birth_date}
    response = client.post(path, data={**form, "csrf_token": csrf(client, path)})
    return (
        response.status_code,
        response.headers.get("Location", ""),
        response.get_data(as_text=True),
    )


def _lookups(runtime: Runtime, user: uuid.UUID) -> list[dict[str, object]]:
    with runtime.transaction() as session:
        bodies = session.scalars(
            select(AuditEntry.body)
            .where(AuditEntry.event == "audit.person_lookup", AuditEntry.actor_user_id == user)
            .order_by(AuditEntry.seq)
        ).all()
    return [json.loads(body) for body in bodies]


def test_an_auditor_finds_their_orgs_person_by_name_and_birth_date(
    app: Flask, world: World, runtime: Runtime
) -> None:
    """Found by POST, with accents and capitals ignored; the answer is a redirect to the report
    at an address naming the organisation's handle only; the lookup is logged with its count,
    never with the name or the date typed."""
    client = _signed_in(app, "m-auditor")
    status, location, _page = _find(client, "LEFEVRE durand", BORN.isoformat())
    assert status == 303
    assert location == f"/audit/people/{world.handle}/report"
    assert str(world.person) not in location
    [entry] = _lookups(runtime, world.users["m-auditor"])
    assert entry["count"] == 1
    assert entry["decision"] == "allow"
    raw = json.dumps(entry, ensure_ascii=False).lower()
    assert "lef" not in raw
    # The date typed, in any form (not "1990" alone: hashes and ids are hexadecimal).
    for typed in (BORN.isoformat(), BORN.strftime("%d/%m/%Y"), BORN.strftime("%Y%m%d")):
        assert typed not in raw


def test_the_lookup_searches_the_auditors_own_organisation_only(
    app: Flask, world: World, runtime: Runtime
) -> None:
    """Entraide's person is not found by Métropole's auditor, and the page says nobody was found
    in words that cannot be read as a match; Entraide's auditor does not find Métropole's."""
    client = _signed_in(app, "m-auditor")
    status, location, page = _find(client, "Martin", BORN.isoformat())
    assert (status, location) == (200, "")
    assert "Nobody in your organisation" in page
    assert "/report" not in page
    status, location, page = _find(_signed_in(app, "e-auditor"), FAMILY, BORN.isoformat())
    assert (status, location) == (200, "")
    assert "Nobody in your organisation" in page
    assert [e["count"] for e in _lookups(runtime, world.users["e-auditor"])] == [0]


def test_bad_lookup_input_names_the_field_and_non_auditors_are_refused(
    app: Flask, world: World
) -> None:
    client = _signed_in(app, "m-auditor")
    status, _location, page = _find(client, "", "2 janvier")
    assert status == 422
    assert 'id="family_name-error"' in page
    assert 'id="birth_date-error"' in page
    worker = _signed_in(app, "m-worker")
    assert _find(worker, FAMILY, BORN.isoformat())[0] == 403
    assert worker.get("/audit/people/find").status_code == 403
    assert worker.get(f"/audit/people/{world.handle}/report").status_code == 403


def test_the_report_says_who_reached_the_data_in_words(app: Flask, world: World) -> None:
    """Who (the auditor's own staff by name; a partner's by role and organisation name), for
    which purpose, what was released and what refused, in words, in English and in French; the
    page has no name of the person and a print style sheet."""
    client = _signed_in(app, "m-auditor")
    response = client.get(f"/audit/people/{world.handle}/report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Marius Travailleur" in page  # Métropole's own worker, named
    assert "Eugène Bénévole" not in page  # Entraide's worker: by role and organisation
    assert "Entraide Saint-Jean" in page
    assert "Outreach worker" in page
    assert "read the record" in page
    assert "refused" in page
    assert "needs" in page
    assert "Street outreach" in page or "outreach" in page.lower()
    assert FAMILY not in page
    assert "report.css" in page
    assert "print.js" in page
    client.post("/language", data={"lang": "fr", "next": "/", "csrf_token": csrf(client)})
    french = client.get(f"/audit/people/{world.handle}/report").get_data(as_text=True)
    assert "Qui a eu accès aux données de cette personne" in french
    assert "Travailleur social de maraude" in french or "Maraudeur" in french or "maraude" in french
    assert "refusé" in french


def test_the_console_names_staff_organisations_purposes_and_alerts_in_words(
    app: Flask, world: World
) -> None:
    """The access log shows the auditor's own staff and every organisation by name, events,
    purposes and the deciding rules in words; the alerts say what was found in a sentence."""
    client = _signed_in(app, "m-auditor")
    log = client.get("/audit/?limit=200").get_data(as_text=True)
    assert "Marius Travailleur" in log
    assert "Eugène Bénévole" not in log  # another organisation's staff: by id
    assert "Entraide Saint-Jean" in log
    assert "read the record" in log
    assert "a place is never shown finer than the district" in log  # metropole's rule, in words
    assert "fr:" not in log  # the French words are for French pages only
    history = client.get(f"/audit/people/{world.handle}").get_data(as_text=True)
    assert "Marius Travailleur" in history
    alerts = client.get("/audit/alerts").get_data(as_text=True)
    assert "Many refusals in a short time" in alerts
    assert "was refused 10 times within 10 minutes" in alerts
    assert "Entraide Saint-Jean" in alerts
    client.post("/language", data={"lang": "fr", "next": "/", "csrf_token": csrf(client)})
    french = client.get("/audit/alerts").get_data(as_text=True)
    assert "Beaucoup de refus en peu de temps" in french
    # The rules in their authors' French (policy lines marked "fr:").
    journal = client.get("/audit/?limit=200").get_data(as_text=True)
    assert "un lieu n&#39;est jamais montré plus précisément que le quartier" in journal
    assert "a place is never shown finer than the district" not in journal
