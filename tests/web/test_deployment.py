"""The app run with another deployment's areas (a made-up UK council's wards) and time zone:
nothing else assumes the demo's Lyon."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.areas_file import load_areas
from databank.models import Case, Encounter
from databank.services.runtime import Runtime
from tests.support import app_on, handle_of
from tests.web.conftest import World, csrf, login

WARDS_FILE = Path(__file__).resolve().parents[1] / "data" / "areas" / "made_up_wards.yaml"
LONDON = ZoneInfo("Europe/London")
WARD_NAMES = ("Castle", "Riverside", "St Anne's", "Northgate", "Heathfield Rural", "Millbrook")
JSON = {"Accept": "application/json"}


@pytest.fixture
def wards(web_runtime: Runtime, world: World, tmp_path: Path) -> FlaskClient:
    """An outreach worker signed in to the app of Riverbridge, in London time."""
    app = app_on(web_runtime, tmp_path, areas_file=WARDS_FILE, time_zone="Europe/London")
    client = app.test_client()
    assert login(client, "worker") == 302
    return client


def _encounter(client: FlaskClient, world: World, **form: str) -> tuple[int, Any]:
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    body = {"csrf_token": csrf(client, path), "lat": "", "lon": "", **form}
    response = client.post(path, data=body, headers=JSON)
    return response.status_code, response.get_json()


def _options(page: str, select_id: str) -> list[tuple[str, str]]:
    block = page[page.index(f'<select id="{select_id}"') :]
    block = block[: block.index("</select>")]
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block)
    return [(value, name.replace("&#39;", "'")) for value, name in found if value]


def test_the_picker_and_the_plan_list_the_other_citys_wards(
    wards: FlaskClient, world: World
) -> None:
    page = wards.get(f"/outreach/cases/{world.own_case}/encounters/new").get_data(as_text=True)
    picked = _options(page, "district")
    assert sorted(name for _code, name in picked) == sorted(WARD_NAMES)
    assert ("heathfield_rural", "Heathfield Rural") in picked
    assert "Plan of Riverbridge districts" in page
    drawn = re.findall(r'class="plan-district"[^>]*data-name="([^"]*)"', page)
    assert sorted(n.replace("&#39;", "'") for n in drawn) == sorted(WARD_NAMES)
    assert 'data-west="-3.5' in page  # the box around the wards, west of Greenwich
    register = wards.get("/outreach/register").get_data(as_text=True)
    assert sorted(name for _code, name in _options(register, "district")) == sorted(WARD_NAMES)
    for text in (page, register):
        assert "Lyon" not in text
        assert "lyon-" not in text
    french = wards.get(
        f"/outreach/cases/{world.own_case}/encounters/new", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)
    assert ("st-annes", "Sainte-Anne") in _options(french, "district")
    assert "Plan des quartiers de Riverbridge" in french


def test_a_ward_is_accepted_and_a_lyon_district_refused(
    wards: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    status, answer = _encounter(wards, world, district="lyon-3")
    assert status == 422
    assert set(answer["errors"]) == {"district"}
    status, answer = _encounter(wards, world, district="castle")
    assert status == 200
    assert answer["ok"]
    with web_runtime.transaction() as session:
        cells = session.scalars(
            select(Encounter.area_geohash).where(Encounter.case_id == world.own_case)
        ).all()
    assert "gcj2x" in cells  # the ward's cell (Castle's centre), not any of Lyon's
    # The caseload filter knows the wards, and no longer Lyon's districts.
    assert wards.get("/?district=lyon-3").status_code == 400
    assert wards.get("/?district=castle").status_code == 200


def test_a_time_typed_is_read_in_the_configured_zone(
    wards: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    # 10:00 on a summer day in London is 09:00 UTC (in Lyon's zone it would have been 08:00).
    status, _answer = _encounter(wards, world, district="millbrook", occurred_at="2025-07-15T10:00")
    assert status == 200
    with web_runtime.transaction() as session:
        times = session.scalars(
            select(Encounter.occurred_at).where(
                Encounter.case_id == world.own_case, Encounter.area_geohash == "gcj8c"
            )
        ).all()
        case = session.get(Case, world.own_case)
        assert case is not None
        person = handle_of(session, case.org_id, case.person_id)
    assert [t.astimezone(UTC) for t in times] == [datetime(2025, 7, 15, 9, 0, tzinfo=UTC)]
    # Shown back in London time, with the ward's name.
    page = wards.get(f"/outreach/people/{person}").get_data(as_text=True)
    assert "15 Jul 2025, 10:00" in page
    assert "Millbrook" in page
    # The form starts at the time it is now in London.
    form = wards.get(f"/outreach/cases/{world.own_case}/encounters/new").get_data(as_text=True)
    match = re.search(r'name="occurred_at"[^>]*value="([^"]+)"', form)
    assert match is not None
    shown = datetime.fromisoformat(match.group(1)).replace(tzinfo=LONDON)
    assert abs(shown - datetime.now(UTC)) < timedelta(minutes=2)


def test_the_demo_deployment_refuses_a_ward(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    status, answer = _encounter(client, world, district="castle")
    assert status == 422
    assert set(answer["errors"]) == {"district"}


def test_the_demo_meets_its_people_in_the_configured_areas() -> None:
    """`databank demo` passes the deployment's areas: its notes name their landmarks or names."""
    from databank.demo.generator import generate_population

    wards = load_areas(WARDS_FILE)
    population = generate_population(60, 5, wards)
    registrations = [r for p in population for r in p.registrations]
    met = {r.district for r in registrations} | {
        e.district for r in registrations for e in r.encounters
    }
    assert met <= set(wards.by_code)
    assert len(met) > 3
    notes = " ".join(e.notes for r in registrations for e in r.encounters)
    assert "Heathfield Common" in notes  # the ward's landmark in the file
    assert "Castle" in notes  # a ward without landmarks is named
    assert "Lyon" not in notes
