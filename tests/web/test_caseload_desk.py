"""The housing officer's desk: the caseload's result count, search by name (POST) or reference
within the organisation's own records, columns for needs, living situation and last contact,
organisations and areas by name; the count and the search depend on nothing withheld."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.config import DEMO_AREAS_FILE
from databank.domain import geo
from databank.domain.areas_file import load_areas
from databank.domain.enums import OrgKind, Purpose, Role
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import AuditEntry
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IntakeRecord, NeedIn, Point
from databank.services.records import consents, people
from databank.services.runtime import Runtime
from tests.factories import identity
from tests.support import app_on, scratch_runtime
from tests.web.conftest import PASSWORD, csrf, login

AREAS = load_areas(DEMO_AREAS_FILE)
AREA = AREAS.areas[0]
MET = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
BORN = date(1980, 2, 3)


@dataclass(frozen=True)
class Desk:
    own_cases: list[uuid.UUID]  # Entraide's own: the found person's first
    hidden_cases: list[uuid.UUID]  # Métropole's, visible to Entraide but released for nothing
    shared_case: uuid.UUID  # Métropole's, shared with Entraide for food aid by its policy


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    made = scratch_runtime("databank_caseload_desk", tmp_path_factory.mktemp("desk"))
    yield made
    made.dispose()


def _record(family: str, *, needs: tuple[NeedCategory, ...] = ()) -> IntakeRecord:
    return IntakeRecord(
        identity=identity(family_name=family, birth_date=BORN),
        case=CaseIn(
            living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE,
            point=Point(AREA.lat, AREA.lon),
        ),
        needs=tuple(NeedIn(n) for n in needs),
        encounters=(EncounterIn(occurred_at=MET, point=Point(AREA.lat, AREA.lon)),),
    )


@pytest.fixture(scope="module")
def desk(runtime: Runtime) -> Desk:
    with runtime.transaction() as session:
        metro = organisations.create_organisation(
            session, "metropole", "Métropole Veille sociale", OrgKind.COUNCIL
        )
        tables = organisations.create_organisation(
            session, "tables-du-coeur", "Les Tables du Cœur", OrgKind.CHARITY
        )
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide Saint-Jean", OrgKind.CHARITY
        )
        organisations.create_user(
            session, entraide, "officer@entraide", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        staff = frozenset({Role.OUTREACH_WORKER})
        e_actor = Actor(None, entraide.id, entraide.kind, staff)
        m_actor = Actor(None, metro.id, metro.kind, staff)
        t_actor = Actor(None, tables.id, tables.kind, staff)
        own = people.intake(
            session,
            e_actor,
            Purpose.OUTREACH,
            [
                _record("Desk-Dupont", needs=(NeedCategory.SHELTER, NeedCategory.FOOD)),
                _record("Desk-Martin"),
            ],
        )
        # Métropole's people who agreed to share with Entraide for food aid: Métropole's policy
        # releases nothing for it, so they are candidates of Entraide's caseload, never listed.
        hidden = people.intake(
            session, m_actor, Purpose.OUTREACH, [_record(f"Desk-Hidden{i}") for i in range(3)]
        )
        # Les Tables du Cœur shares a summary for food aid (not health, not encounters).
        [shared] = people.intake(
            session,
            t_actor,
            Purpose.OUTREACH,
            [_record("Desk-Dupont", needs=(NeedCategory.FOOD, NeedCategory.HEALTH))],
        )
        for owner, found in [(m_actor, r) for r in hidden] + [(t_actor, shared)]:
            consents.record_consent(
                session,
                owner,
                Purpose.OUTREACH,
                found.person_id,
                ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.id,)),
            )
    assert all(r.case_id for r in [*own, *hidden, shared])
    return Desk(
        [r.case_id for r in own if r.case_id],
        [r.case_id for r in hidden if r.case_id],
        shared.case_id or uuid.uuid4(),
    )


@pytest.fixture(scope="module")
def app(runtime: Runtime, desk: Desk, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return app_on(runtime, tmp_path_factory.mktemp("desk_app"))


@pytest.fixture
def officer(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "officer@entraide") == 302
    token = csrf(client, "/")
    client.post("/purpose", data={"purpose": "food_aid", "csrf_token": token})
    return client


def _listed(page: str) -> set[str]:
    return set(re.findall(r'href="/cases/([0-9a-f-]{36})"', page))


def test_the_count_and_the_lines_show_only_what_the_policy_releases(
    officer: FlaskClient, desk: Desk
) -> None:
    """The count is of the cases listed: Métropole's candidates, released for nothing, are in
    neither; the lines name organisations and areas in words and show needs, living situation
    and last contact only where released."""
    page = officer.get("/").get_data(as_text=True)
    listed = _listed(page)
    assert listed == {str(c) for c in [*desk.own_cases, desk.shared_case]}
    assert "3 cases match." in page
    assert not listed & {str(c) for c in desk.hidden_cases}
    assert "Les Tables du Cœur" in page
    assert ">tables-du-coeur<" not in page
    assert AREA.name_in("en") in page
    assert geo.encode(AREA.lat, AREA.lon, 5) not in page  # an area by name, not its code
    # (The filter form lists every label: the lines are read row by row.)
    mine = page[page.index(f"/cases/{desk.own_cases[0]}") :].split("</tr>")[0]
    assert "Living rough" in mine
    assert "Food, Shelter" in mine  # the unresolved needs, in the order they were noted
    assert "20 Nov 2026" in mine  # the last contact
    row = page[page.index(f"/cases/{desk.shared_case}") :].split("</tr>")[0]
    assert "Living rough" in row
    assert "Withheld" in row  # Les Tables du Cœur releases no encounters for food aid
    assert "Health" not in row  # nor health needs
    assert "Food" in row


def test_a_filter_counts_what_it_lists(officer: FlaskClient, desk: Desk) -> None:
    page = officer.get("/?need=" + str(list(NeedCategory).index(NeedCategory.SHELTER) + 1))
    text = page.get_data(as_text=True)
    assert _listed(text) == {str(desk.own_cases[0])}
    assert "1 case matches." in text


def test_search_by_name_and_birth_date_is_a_post_in_the_orgs_own_records(
    officer: FlaskClient, desk: Desk, runtime: Runtime
) -> None:
    """The name goes in the form, never in an address or the log; Les Tables du Cœur's person of
    the same name is not found (the org's own records only)."""
    token = csrf(officer, "/")
    data = {"family_name": "desk dupont", "birth_date": BORN.isoformat(), "csrf_token": token}
    response = officer.post("/", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _listed(page) == {str(desk.own_cases[0])}
    assert "1 case of your organisation for this name and date of birth." in page
    with runtime.transaction() as session:
        bodies = session.scalars(select(AuditEntry.body).order_by(AuditEntry.seq.desc()).limit(20))
        assert not any(b"upont" in body for body in bodies)
    missing = officer.post("/", data={**data, "family_name": "Nobody-Here"})
    assert "Your organisation has no case for this name and date of birth." in missing.get_data(
        as_text=True
    )
    bad = officer.post("/", data={"family_name": "", "birth_date": "x", "csrf_token": token})
    assert bad.status_code == 422
    assert 'id="family_name-error"' in bad.get_data(as_text=True)


def test_search_by_reference_finds_own_cases_only(officer: FlaskClient, desk: Desk) -> None:
    own = str(desk.own_cases[1])[:8]
    page = officer.get(f"/?ref={own}").get_data(as_text=True)
    assert _listed(page) == {str(desk.own_cases[1])}
    partner = str(desk.shared_case)[:8]
    assert _listed(officer.get(f"/?ref={partner}").get_data(as_text=True)) == set()
    bad = officer.get("/?ref=zz")
    assert bad.status_code == 400
    assert 'id="ref-error"' in bad.get_data(as_text=True)


def test_the_api_gives_the_count_and_the_released_columns(
    app: Flask, officer: FlaskClient, desk: Desk
) -> None:
    response = officer.get(
        "/api/v1/cases", headers={"X-Databank-Purpose": "food_aid"}, query_string={"limit": 2}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    assert body["more"] is True
    lines = {line["id"]: line for line in body["cases"]}
    shared = officer.get(
        "/api/v1/cases", headers={"X-Databank-Purpose": "food_aid"}, query_string={"offset": 2}
    ).get_json()["cases"]
    lines.update({line["id"]: line for line in shared})
    partner = lines[str(desk.shared_case)]
    assert partner["owner_name"] == "Les Tables du Cœur"
    assert partner["last_contact"] is None
    assert partner["needs"] == ["food"]
