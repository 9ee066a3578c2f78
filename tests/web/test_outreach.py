"""The outreach worker's pages: find, register, encounter, consent, refer; offline-safe sends."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from werkzeug.test import TestResponse

from databank.config import DEMO_AREAS_FILE
from databank.domain import geo
from databank.domain.areas_file import load_areas
from databank.domain.enums import CaseStatus, Purpose, Role
from databank.models import (
    AuditEntry,
    Case,
    Consent,
    Encounter,
    Identity,
    Organisation,
    Referral,
    Subject,
)
from databank.services.actors import Actor
from databank.services.records import submissions
from databank.services.records.people import intake
from databank.services.runtime import Runtime
from databank.web.outreach_map import plan
from tests.factories import identity, intake_record
from tests.support import app_on, handle_of, person_behind
from tests.web.conftest import World, csrf, login

COUNCIL_ONLY = "Councilonly"
FAMILY = "Lefèvre-Durand"  # the factories' person, registered by both orgs of the world
GIVEN = "Amélie"
BORN = "1987-03-14"
JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class People:
    own_person: uuid.UUID  # known to the charity (and, pooled, to the council)
    council_only: uuid.UUID  # known to the council alone
    council_id: uuid.UUID
    own_handle: uuid.UUID  # the charity's handles of those two (its pages show the first)
    council_only_handle: uuid.UUID


@pytest.fixture(scope="module")
def people(web_runtime: Runtime, world: World) -> People:
    with web_runtime.transaction() as session:
        own = session.scalar(select(Case.person_id).where(Case.id == world.own_case))
        charity_id = session.scalar(select(Case.org_id).where(Case.id == world.own_case))
        council = session.scalars(select(Organisation).where(Organisation.slug == "council")).one()
        [result] = intake(
            session,
            Actor(None, council.id, council.kind, frozenset({Role.HOUSING_OFFICER})),
            Purpose.CASE_MANAGEMENT,
            [intake_record(identity(family_name=COUNCIL_ONLY, birth_date=date(1990, 1, 2)))],
        )
    assert own is not None
    assert charity_id is not None
    return People(
        own,
        result.person_id,
        council.id,
        handle_of(web_runtime, charity_id, own),
        handle_of(web_runtime, charity_id, result.person_id),
    )


@pytest.fixture
def worker(client: FlaskClient) -> FlaskClient:
    assert login(client, "worker") == 302
    return client


def _token(client: FlaskClient) -> str:
    return csrf(client, "/outreach/")


def _post(
    client: FlaskClient, path: str, data: dict[str, object], json: bool = False
) -> TestResponse:
    body = {"csrf_token": _token(client), **data}
    return client.post(path, data=body, headers=JSON if json else {})


def _count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _encounter_form(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "lat": "45.760586",
        "lon": "4.859435",
        "needs": ["shelter", "food"],
        "severity_shelter": "high",
        "services_given": ["meal", "blanket"],
        "notes": "Met by the station.",
    }
    values.update(overrides)
    return values


def test_every_page_renders_for_an_outreach_worker(
    worker: FlaskClient, world: World, people: People
) -> None:
    pages = {
        "/outreach/": "Find a person",
        f"/outreach/people/{people.own_handle}": "Record an encounter",
        "/outreach/register": "Register a new person",
        f"/outreach/cases/{world.own_case}/encounters/new": "Plan of Lyon districts",
        f"/outreach/people/{people.own_handle}/consent": "Who may see the file?",
        f"/outreach/cases/{world.own_case}/refer": "Refer to",
    }
    for path, expected in pages.items():
        response = worker.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert expected in body, path
        assert "<script>" not in body, path  # strict CSP: no inline script...
        assert "style=" not in body, path  # ...and no inline style
    person_page = worker.get(f"/outreach/people/{people.own_handle}").get_data(as_text=True)
    assert FAMILY in person_page
    assert "Refer to a partner" in person_page


def test_recent_contacts_list_the_own_orgs_people(
    worker: FlaskClient, world: World, people: People
) -> None:
    body = worker.get("/outreach/").get_data(as_text=True)
    assert "Recent contacts" in body
    assert f"/outreach/people/{people.own_handle}" in body
    assert str(people.council_only) not in body
    assert str(people.council_only_handle) not in body


def test_find_by_family_name_and_birth_date_finds_only_the_own_org(
    worker: FlaskClient, people: People
) -> None:
    """A search reaches the own org's records only, never a person only another org knows."""
    response = _post(worker, "/outreach/", {"family_name": "lefevre durand", "birth_date": BORN})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/outreach/people/{people.own_handle}" in body
    other = _post(worker, "/outreach/", {"family_name": COUNCIL_ONLY, "birth_date": "1990-01-02"})
    assert str(people.council_only) not in other.get_data(as_text=True)
    assert "No one with this family name" in other.get_data(as_text=True)
    missing = _post(worker, "/outreach/", {"family_name": "Nobody", "birth_date": BORN})
    assert "No one with this family name" in missing.get_data(as_text=True)
    assert "Register this person" in missing.get_data(as_text=True)


def test_find_with_missing_fields_names_them(worker: FlaskClient) -> None:
    response = _post(worker, "/outreach/", {"family_name": "", "birth_date": "14/03/1987"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-family_name"' in body
    assert "Please type the family name." in body
    assert "Please give a date as day, month and year." in body
    assert 'aria-invalid="true"' in body


def test_register_with_bad_input_is_refused_field_by_field_and_writes_nothing(
    worker: FlaskClient, web_runtime: Runtime
) -> None:
    before = _count(web_runtime, Identity)
    bad = {"given_name": "", "family_name": "!!", "birth_date": "2999-01-01", "needs": ["nope"]}
    page = _post(worker, "/outreach/register", bad)
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "Please fill this in." in body  # given name
    assert "Please type at least one letter or number." in body  # family name
    assert "This is in the future." in body  # birth date
    assert 'value="!!"' in body  # what was typed is kept
    response = _post(worker, "/outreach/register", bad, json=True)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"given_name", "family_name", "birth_date", "needs"} <= set(errors)
    assert _count(web_runtime, Identity) == before


def test_register_a_new_person_goes_to_their_page_by_id(
    worker: FlaskClient, web_runtime: Runtime
) -> None:
    form = {
        "given_name": "Jules",
        "family_name": "Registerson",
        "birth_date": "1970-05-06",
        "living_situation": "ethos_1_public_space",
        "needs": ["hygiene"],
        "district": "lyon-7",
        "first_encounter": "yes",
    }
    response = _post(worker, "/outreach/register", form)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/outreach/people/[0-9a-f-]{36}", location)
    page = worker.get(location).get_data(as_text=True)
    assert "Registerson" in page
    assert "Person registered." in page
    assert "Lyon 7e" in page


def test_an_encounter_point_is_sealed_and_only_its_district_is_clear(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    before = _count(web_runtime, Encounter, Encounter.case_id == world.own_case)
    response = _post(
        worker, f"/outreach/cases/{world.own_case}/encounters/new", _encounter_form(lat="45.751234")
    )
    assert response.status_code == 302
    assert _count(web_runtime, Encounter, Encounter.case_id == world.own_case) == before + 1
    with web_runtime.engine.connect() as raw:
        rows = raw.execute(
            text(
                "SELECT area_geohash, location_ciphertext, notes_ciphertext, services_given "
                "FROM encounters WHERE case_id = :c"
            ),
            {"c": world.own_case.hex},
        ).all()
    assert rows
    dumped = repr(rows).encode() + b"".join(bytes(r[1] or b"") for r in rows)
    assert b"45.751234" not in dumped
    assert b"4.859435" not in dumped
    assert b"Met by the station" not in dumped
    assert geo.encode(45.751234, 4.859435, 5) in {r[0] for r in rows}


def test_encounter_errors_come_back_by_field_in_json(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    before = _count(web_runtime, Encounter)
    form = _encounter_form(lat="", lon="", occurred_at="tomorrow", notes="x" * 2001)
    response = _post(worker, f"/outreach/cases/{world.own_case}/encounters/new", form, json=True)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "district" in errors
    assert "occurred_at" in errors
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = _post(
        worker,
        f"/outreach/cases/{world.own_case}/encounters/new",
        _encounter_form(occurred_at=future, notes="x" * 2001),
        json=True,
    )
    errors = response.get_json()["errors"]
    assert set(errors) == {"occurred_at", "notes"}
    assert _count(web_runtime, Encounter) == before


def test_a_resent_submission_is_recorded_once(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """A phone that lost the response sends again: the same submission id counts once."""
    before = _count(web_runtime, Encounter, Encounter.case_id == world.own_case)
    form = _encounter_form(submission_id=str(uuid.uuid4()), district="lyon-3", lat="", lon="")
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    first = _post(worker, path, form, json=True)
    second = _post(worker, path, form, json=True)
    assert first.status_code == second.status_code == 200
    assert first.get_json()["ok"]
    assert second.get_json()["ok"]
    assert first.get_json()["redirect"] == second.get_json()["redirect"]
    assert _count(web_runtime, Encounter, Encounter.case_id == world.own_case) == before + 1
    # A new id is a new encounter.
    _post(worker, path, {**form, "submission_id": str(uuid.uuid4())}, json=True)
    assert _count(web_runtime, Encounter, Encounter.case_id == world.own_case) == before + 2


def test_a_sent_form_does_not_read_the_identity_it_never_shows(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """A saved encounter answered in JSON draws no page: the person's name is not decrypted,
    and no identity read is logged for it."""

    def identity_reads() -> int:
        with web_runtime.transaction() as session:
            bodies = session.scalars(select(AuditEntry.body)).all()
        return sum(b'"type":"identity"' in body for body in bodies)

    token = _token(worker)  # (the start screen, read for the token, lists recent contacts)
    before = identity_reads()
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    form = {"csrf_token": token, **_encounter_form(district="lyon-3", lat="", lon="")}
    saved = worker.post(path, data=form, headers=JSON)
    assert saved.get_json()["ok"]
    assert identity_reads() == before
    assert worker.get(path).status_code == 200  # the page drawn: the read is logged
    assert identity_reads() == before + 1


def test_a_failed_submission_can_be_sent_again(
    worker: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    sid = str(uuid.uuid4())
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    bad = _post(worker, path, _encounter_form(submission_id=sid, notes="x" * 2001), json=True)
    assert bad.status_code == 422
    before = _count(web_runtime, Encounter)
    good = _post(worker, path, _encounter_form(submission_id=sid), json=True)
    assert good.status_code == 200
    assert _count(web_runtime, Encounter) == before + 1


def test_consent_is_recorded_changed_and_withdrawn(
    worker: FlaskClient, people: People, web_runtime: Runtime
) -> None:
    path = f"/outreach/people/{people.own_handle}/consent"
    expires = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    missing = _post(worker, path, {"expires_on": "2001-01-01"}, json=True)
    assert missing.status_code == 422
    assert {"purposes", "recipients", "expires_on"} <= set(missing.get_json()["errors"])
    form = {
        "recipient_org_ids": [str(people.council_id)],
        "purposes": ["housing_allocation"],
        "expires_on": expires,
    }
    assert _post(worker, path, form).status_code == 302
    page = worker.get(path).get_data(as_text=True)
    assert "Council" in page
    assert "Housing allocation" in page
    assert "Finding the person a shelter place" in page  # the plain description
    where = (Consent.person_id == people.own_person, Consent.revoked_at.is_(None))
    with web_runtime.transaction() as session:
        consent_id = session.scalars(select(Consent.id).where(*where)).one()
    change = worker.get(f"{path}?change={consent_id}").get_data(as_text=True)
    assert 'name="replaces"' in change
    changed = {**form, "replaces": str(consent_id), "purposes": ["housing_allocation", "food_aid"]}
    assert _post(worker, path, changed).status_code == 302
    with web_runtime.transaction() as session:
        active = session.scalars(select(Consent).where(*where)).all()
        assert len(active) == 1
        assert active[0].id != consent_id
        assert sorted(active[0].purposes) == ["food_aid", "housing_allocation"]
        new_id = active[0].id
    assert _post(worker, path, {"revoke": str(new_id)}).status_code == 302
    assert _count(web_runtime, Consent, *where) == 0


def test_refer_needs_consent_or_a_justified_override(
    worker: FlaskClient, world: World, people: People, web_runtime: Runtime
) -> None:
    path = f"/outreach/cases/{world.own_case}/refer"
    form = {"to_org": str(people.council_id), "purpose": "food_aid", "note": "Needs meals."}
    before = _count(web_runtime, Referral)
    refused = _post(worker, path, form)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "has not agreed to share their file with Council" in body
    assert 'name="justification"' in body  # the owner's worker may override
    consent_link = re.search(r'href="(/outreach/people/[^"]+/consent\?[^"]+)"', body)
    assert consent_link is not None
    prefilled = worker.get(consent_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(rf'value="{people.council_id}" checked', prefilled)
    assert re.search(r'value="food_aid"[^>]*checked', prefilled)
    unjustified = _post(worker, path, {**form, "override": "yes"})
    assert unjustified.status_code == 422
    assert "Say why" in unjustified.get_data(as_text=True)
    assert _count(web_runtime, Referral) == before
    done = _post(worker, path, {**form, "override": "yes", "justification": "Cannot be asked."})
    assert done.status_code == 302
    assert _count(web_runtime, Referral) == before + 1
    # With consent, no override is needed.
    consent = {"recipient_org_kinds": ["council"], "purposes": ["case_management"]}
    _post(worker, f"/outreach/people/{people.own_handle}/consent", consent)
    ok = _post(worker, path, {**form, "purpose": "case_management"})
    assert ok.status_code == 302
    assert _count(web_runtime, Referral) == before + 2


def test_another_orgs_worker_and_a_signed_out_user_get_nothing(
    client: FlaskClient, world: World, people: People
) -> None:
    """The charity's worker reaches nothing of a person or case only the council holds."""
    paths = [
        f"/outreach/people/{people.council_only_handle}",
        f"/outreach/people/{people.council_only_handle}/consent",
        f"/outreach/cases/{world.other_case}/encounters/new",
        f"/outreach/cases/{world.other_case}/refer",
    ]
    for path in [*paths, "/outreach/", "/outreach/register"]:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert login(client, "worker") == 302
    token = csrf(client, "/outreach/register")
    for path in paths:
        for response in (
            client.get(path),
            client.post(path, data={"csrf_token": token, **_encounter_form()}),
            client.post(path, data={"csrf_token": token, "purposes": ["outreach"]}),
        ):
            assert response.status_code in (403, 404, 405), path
            assert COUNCIL_ONLY not in response.get_data(as_text=True)


def test_no_name_in_any_url_the_pages_generate(
    worker: FlaskClient, world: World, people: People
) -> None:
    """Names are personal data: no link, form action or redirect carries one."""
    urls: list[str] = []
    for path in (
        "/outreach/",
        f"/outreach/people/{people.own_handle}",
        f"/outreach/people/{people.own_handle}/consent",
        f"/outreach/cases/{world.own_case}/encounters/new",
        f"/outreach/cases/{world.own_case}/refer",
    ):
        urls += re.findall(
            r'(?:href|action|src)="([^"]*)"', worker.get(path).get_data(as_text=True)
        )
    found = _post(worker, "/outreach/", {"family_name": FAMILY, "birth_date": BORN})
    urls += re.findall(r'(?:href|action)="([^"]*)"', found.get_data(as_text=True))
    saved = _post(worker, f"/outreach/cases/{world.own_case}/encounters/new", _encounter_form())
    urls.append(saved.headers["Location"])
    assert urls
    for url in urls:
        assert not any(n in url for n in ("Lef", "Am%C3%A9lie", GIVEN)), url
        assert BORN not in url, url


def test_a_person_without_an_open_case_gets_a_new_one(
    worker: FlaskClient, web_runtime: Runtime
) -> None:
    form = {"given_name": "Nina", "family_name": "Nocase", "birth_date": "1980-01-01"}
    person_page = _post(worker, "/outreach/register", form).headers["Location"]
    person_id = person_page.rsplit("/", 1)[1]
    with web_runtime.transaction() as session:
        org_id = session.scalars(
            select(Organisation.id).where(Organisation.slug == "charity")
        ).one()
        pooled = person_behind(session, org_id, uuid.UUID(person_id))
        for case in session.scalars(select(Case).where(Case.person_id == pooled)):
            case.status = CaseStatus.CLOSED
    page = worker.get(person_page).get_data(as_text=True)
    assert "No open case." in page
    assert "Record an encounter" not in page
    opened = _post(worker, f"/outreach/people/{person_id}/cases", {})
    assert opened.status_code == 302
    assert re.fullmatch(r"/outreach/cases/[0-9a-f-]{36}/encounters/new", opened.headers["Location"])
    assert "Record an encounter" in worker.get(person_page).get_data(as_text=True)


def test_a_resend_to_another_worker_process_is_recorded_once(
    app: Flask, world: World, web_runtime: Runtime, tmp_path: Path
) -> None:
    """Two app instances over one database stand for two gunicorn workers: the record of a
    saved submission is in the database, so a resend landing on the other one saves nothing."""
    other_app = app_on(web_runtime, tmp_path / "other")
    first, second = app.test_client(), other_app.test_client()
    for client in (first, second):
        assert login(client, "worker") == 302
    before = _count(web_runtime, Encounter, Encounter.case_id == world.own_case)
    form = _encounter_form(submission_id=str(uuid.uuid4()), district="lyon-3", lat="", lon="")
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    assert _post(first, path, form, json=True).get_json()["ok"]
    again = _post(second, path, form, json=True)
    assert again.get_json()["ok"]
    assert _count(web_runtime, Encounter, Encounter.case_id == world.own_case) == before + 1


def test_a_submission_is_recorded_once_per_user(web_runtime: Runtime) -> None:
    user, sid = uuid.uuid4(), str(uuid.uuid4())
    with web_runtime.transaction() as session:
        assert submissions.saved_target(session, user, sid) is None
        assert submissions.record(session, user, sid, "/outreach/people/x")
    with web_runtime.transaction() as session:
        assert submissions.saved_target(session, user, sid) == "/outreach/people/x"
        assert not submissions.record(session, user, sid, "/outreach/people/y")
        assert submissions.saved_target(session, uuid.uuid4(), sid) is None  # ids are per user


def test_the_plan_draws_each_district_around_its_centre() -> None:
    """A tap on the plan lands in the district the databank would name for that point."""
    lyon = load_areas(DEMO_AREAS_FILE)
    drawn = plan(lyon, "en")
    assert drawn.title == "Lyon"
    assert len(drawn.districts) == len(lyon.areas)
    for shape in drawn.districts:
        points = [tuple(map(float, p.split(","))) for p in shape.points.split()]
        assert len(points) >= 3
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        assert min(xs) <= shape.x <= max(xs)
        assert min(ys) <= shape.y <= max(ys)
        assert 0 <= shape.x <= drawn.width
        assert 0 <= shape.y <= drawn.height
        assert lyon.nearest(shape.lat, shape.lon).code == shape.code


def test_a_consent_stored_with_a_far_future_end_still_shows_and_can_be_withdrawn(
    worker: FlaskClient, people: People, web_runtime: Runtime
) -> None:
    """A consent ending on 9999-12-31 (stored before such ends were refused) does not make the
    person's pages fail: they show it, and it can still be withdrawn (finding 9)."""
    with web_runtime.transaction() as session:
        first = session.execute(
            select(Case.org_id, Case.subject_id)
            .join(Subject, Subject.id == Case.subject_id)
            # The charity's record: the council registered the same person (pooled with it).
            .where(Subject.person_id == people.own_person, Case.org_id != people.council_id)
        ).first()
        assert first is not None
        owner, subject = first
        stored = Consent(
            id=uuid.uuid4(),
            subject_id=subject,
            org_id=owner,
            recipient_org_ids=[str(people.council_id)],
            purposes=["food_aid"],
            given_at=datetime.now(UTC),
            expires_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        )
        session.add(stored)
    person = f"/outreach/people/{people.own_handle}"
    assert worker.get(person).status_code == 200
    assert worker.get(f"{person}/consent").status_code == 200
    assert worker.get(f"{person}/consent?change={stored.id}").status_code == 200
    assert _post(worker, f"{person}/consent", {"revoke": str(stored.id)}).status_code == 302
    with web_runtime.transaction() as session:
        assert session.get(Consent, stored.id).revoked_at is not None


@pytest.mark.parametrize("day", ["2026-W49-6", "0001-01-01", "19700506"])
def test_an_implausible_birth_date_in_the_register_form_names_the_field(
    worker: FlaskClient, day: str
) -> None:
    """An ISO week date, a compact date or a year-1 birth date is a form error on that field,
    not a saved record (finding 9)."""
    form = {
        "given_name": "Jules",
        "family_name": "Implausible",
        "birth_date": day,
        "living_situation": "ethos_1_public_space",
        "district": "lyon-7",
    }
    response = _post(worker, "/outreach/register", form, json=True)
    assert response.status_code == 422
    assert "birth_date" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00", "0001-01-01T00:00:00+14:00", "1999-06-01T10:00"]
)
def test_an_implausible_encounter_time_names_the_field(
    worker: FlaskClient, world: World, moment: str
) -> None:
    """An encounter in year 1 (even at +14:00, before year 1 in UTC) or before 2000 is a form
    error on its time, not a 500 (finding 9)."""
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    response = _post(worker, path, {"occurred_at": moment, "district": "lyon-7"}, json=True)
    assert response.status_code == 422
    assert "occurred_at" in response.get_json()["errors"]
