"""The outreach worker's phone (issue 17, points 2 and 5): where they land, a known person
registered again, open needs on the encounter form, one place name, the minor flag, shortcuts,
and the referral form sent once however often it is resent."""

from __future__ import annotations

import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from databank.domain.enums import NeedSeverity, Purpose, Role
from databank.domain.vocab import NeedCategory
from databank.models import Case, Need, Organisation, Referral
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, IntakeRecord
from databank.services.records.people import intake
from databank.services.runtime import Runtime
from tests.factories import identity
from tests.support import handle_of
from tests.web.conftest import World, csrf, login

JSON = {"Accept": "application/json"}
# The factories' person: the charity's worker registered them in the world (tests/web/conftest).
KNOWN = {"given_name": "Amélie", "family_name": "Lefèvre-Durand", "birth_date": "1987-03-14"}


@pytest.fixture
def worker(client: FlaskClient) -> FlaskClient:
    assert login(client, "worker") == 302
    return client


def _post(
    client: FlaskClient, path: str, data: dict[str, object], json: bool = False
) -> tuple[int, str, dict[str, object]]:
    response = client.post(
        path,
        data={"csrf_token": csrf(client, "/outreach/"), **data},
        headers=JSON if json else {},
    )
    body = response.get_json(silent=True) if json else None
    return response.status_code, response.headers.get("Location", ""), body or {}


def _count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _charity(runtime: Runtime) -> Actor:
    with runtime.transaction() as session:
        org = session.scalars(select(Organisation).where(Organisation.slug == "charity")).one()
        return Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))


def test_an_outreach_worker_lands_on_the_street_screen(client: FlaskClient) -> None:
    response = client.post(
        "/login",
        data={"username": "worker", "password": "correct horse battery staple"}
        | {"csrf_token": csrf(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/outreach/"


def test_a_housing_officer_still_lands_on_the_caseload(client: FlaskClient) -> None:
    response = client.post(
        "/login",
        data={"username": "officer", "password": "correct horse battery staple"}
        | {"csrf_token": csrf(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] != "/outreach/"


@pytest.mark.parametrize("json", [False, True])
def test_registering_a_known_person_lands_on_their_open_file(
    worker: FlaskClient, world: World, web_runtime: Runtime, json: bool
) -> None:
    """No silent empty second case: the existing file opens, with the need just added."""
    cases_before = _count(web_runtime, Case)
    form = {**KNOWN, "living_situation": "ethos_1_public_space", "needs": ["clothing"]}
    status, location, body = _post(worker, "/outreach/register", form, json)
    if json:
        assert status == 200
        assert body["ok"] is True
        location = str(body["redirect"])
    else:
        assert status == 302
    assert _count(web_runtime, Case) == cases_before
    assert (
        _count(web_runtime, Need, Need.case_id == world.own_case, Need.category == "clothing") == 1
    )
    page = worker.get(location).get_data(as_text=True)
    assert "This person was already in your records: here is their open file." in page
    assert f"/outreach/cases/{world.own_case}/encounters/new" in page
    assert 'data-code="clothing"' in page


def test_the_encounter_form_starts_with_the_open_needs_ticked_at_their_urgency(
    worker: FlaskClient, world: World
) -> None:
    page = worker.get(f"/outreach/cases/{world.own_case}/encounters/new").get_data(as_text=True)
    # The world's case: food (medium) at registration, shelter (high) at its first encounter.
    assert re.search(r'id="need-shelter" name="needs" value="shelter" checked', page)
    assert re.search(r'id="need-food" name="needs" value="food" checked', page)
    assert not re.search(r'id="need-legal" name="needs" value="legal" checked', page)
    shelter = re.search(r'<select id="severity-shelter".*?</select>', page, re.S)
    assert shelter is not None
    assert 'value="high" selected' in shelter.group(0)


def test_re_ticking_an_open_need_on_the_form_keeps_one_need(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    shelter = (Need.case_id == world.own_case, Need.category == NeedCategory.SHELTER)
    form = {"district": "lyon-2", "needs": ["shelter"], "severity_shelter": "urgent"}
    status, _location, _body = _post(
        worker, f"/outreach/cases/{world.own_case}/encounters/new", form
    )
    assert status == 302
    assert _count(web_runtime, Need, *shelter) == 1
    with web_runtime.transaction() as session:
        assert session.scalars(select(Need.severity).where(*shelter)).one() is NeedSeverity.URGENT


def test_the_place_shown_is_the_one_district_entered(
    worker: FlaskClient, web_runtime: Runtime
) -> None:
    """Lyon 2e shares its 5 km cell with four other districts: the page names Lyon 2e alone,
    in words, never the list of neighbours or a geohash code."""
    form = {
        "given_name": "Plac",
        "family_name": "Entered",
        "birth_date": "1979-09-09",
        "district": "lyon-2",
        "first_encounter": "yes",
    }
    status, location, _body = _post(worker, "/outreach/register", form)
    assert status == 302
    page = worker.get(location).get_data(as_text=True)
    main = page[page.index("<main") :]
    assert main.count("Lyon 2e") == 2  # the case's area and the encounter's
    for neighbour in ("Lyon 1er", "Lyon 4e", "Lyon 5e", "Lyon 9e"):
        assert neighbour not in main
    assert "u05km" not in main


def test_the_minor_flag_shows_on_the_street_person_page(
    worker: FlaskClient, web_runtime: Runtime
) -> None:
    charity = _charity(web_runtime)
    shown = {}
    for family, minor in (("Minorflag", True), ("Adultflag", False)):
        # Lyon 3e, picked from the list: its cell, shared with Lyon 6e, and its code.
        case = CaseIn(is_minor=minor, district="u05kq", area="lyon-3")
        record = IntakeRecord(identity(family_name=family), case)
        with web_runtime.transaction() as session:
            [made] = intake(session, charity, Purpose.OUTREACH, [record])
        handle = handle_of(web_runtime, charity.org_id, made.person_id)
        shown[minor] = worker.get(f"/outreach/people/{handle}").get_data(as_text=True)
    assert re.search(r'data-flag="minor">Minor<', shown[True])
    assert 'data-flag="minor"' not in shown[False]
    assert "Lyon 3e" in shown[True]
    assert "Lyon 6e" not in shown[True]


def test_recent_contacts_offer_a_new_encounter_and_the_search_opens_at_its_results(
    worker: FlaskClient, world: World
) -> None:
    page = worker.get("/outreach/").get_data(as_text=True)
    assert f'href="/outreach/cases/{world.own_case}/encounters/new"' in page
    assert 'action="/outreach/#results-title"' in page
    found = _post(
        worker,
        "/outreach/",
        {"family_name": KNOWN["family_name"], "birth_date": KNOWN["birth_date"]},
    )
    assert found[0] == 200


def test_a_referral_resent_with_its_submission_id_is_recorded_once(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """The referral form is sent in the background like the encounter form: a resend after a
    lost answer (same submission id) records one referral; a missing consent asks for the page."""
    with web_runtime.transaction() as session:
        council = session.scalars(select(Organisation).where(Organisation.slug == "council")).one()
    path = f"/outreach/cases/{world.own_case}/refer"
    form = {"to_org": str(council.id), "purpose": "food_aid", "submission_id": str(uuid.uuid4())}
    status, _location, body = _post(worker, path, form, json=True)
    assert status == 422
    assert body["page"] is True  # the consent's way forward is on the page, not by a field
    consent = {"recipient_org_kinds": ["council"], "purposes": ["food_aid"]}
    charity = _charity(web_runtime)
    person = handle_of(web_runtime, charity.org_id, _person_of(web_runtime, world.own_case))
    assert _post(worker, f"/outreach/people/{person}/consent", consent)[0] == 302
    before = _count(web_runtime, Referral)
    for _ in range(2):
        status, _location, body = _post(worker, path, form, json=True)
        assert status == 200
        assert body["ok"] is True
    assert _count(web_runtime, Referral) == before + 1


def _person_of(runtime: Runtime, case_id: uuid.UUID) -> uuid.UUID:
    with runtime.transaction() as session:
        person = session.scalar(select(Case.person_id).where(Case.id == case_id))
    assert person is not None
    return person
