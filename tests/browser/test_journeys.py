"""Journeys through the pages, in a real browser: each step is screenshotted and scanned by axe.

The world (see conftest.py): Métropole (a council) holds a case met at Place Bellecour; the person
agreed to share with Entraide Saint-Jean (a charity) and Habitat Rhône. Métropole's policy shows
partners a place at the district level at most and keeps its notes to itself.

Writing a journey: sign in with `login(page, world, username, on_step=step)` (it handles the
second factor), find things by role and label (`get_by_role`, `get_by_label`), and call
`step(page, "what the user sees")` at each page: it saves a numbered screenshot under
test-output/browser/<test>/ and fails on a serious or critical axe violation. Parametrize
`viewport` with "mobile" (360x740, the default) and/or "desktop".
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from databank.domain import geo
from databank.domain.enums import Role
from databank.services.inputs import Point
from tests.browser.conftest import CASE_NOTE, ENCOUNTER_NOTE, World, district_of, login, user

Step = Callable[[Page, str], None]
OFFICER = user(Role.HOUSING_OFFICER, "entraide")
AUDITOR = user(Role.AUDITOR, "metropole")
# Only the sign-in test types a wrong password, with a user of its own (failures lock accounts).
HOUSING_PROVIDER_OFFICER = user(Role.HOUSING_OFFICER, "habitat-rhone")


def short(case_id: object) -> str:
    return str(case_id)[:8]


def assert_district_not_point(page: Page, point: Point) -> None:
    """A partner's case page: the district is shown, nothing finer (no coordinates, no 6+
    character geohash), no note, and each withheld part is marked as withheld."""
    main = page.get_by_role("main")
    where = page.get_by_role("region", name="Living situation")
    expect(where).to_contain_text(district_of(point))
    expect(where).to_contain_text("(district)")
    body = main.inner_text()
    for finer in (
        f"{point.lat:.5f}",
        f"{point.lon:.5f}",
        f"{point.lat:.4f}",
        geo.encode(point.lat, point.lon, 6),
    ):
        assert finer not in body, f"a location finer than the district is shown: {finer}"
    assert CASE_NOTE not in body
    assert ENCOUNTER_NOTE not in body
    expect(page.get_by_role("region", name="Notes")).to_contain_text(
        "Notes: withheld by the policy of"
    )
    expect(page.get_by_role("region", name="Encounters")).to_contain_text("Withheld")


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_sign_in_refuses_a_wrong_password_then_lands_on_the_caseload(
    page: Page, world: World, step: Step
) -> None:
    page.goto("/login")
    step(page, "sign-in form")
    page.get_by_label("Username").fill(HOUSING_PROVIDER_OFFICER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    step(page, "wrong password")

    login(page, world, HOUSING_PROVIDER_OFFICER, on_step=step)
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    expect(page.get_by_role("main")).to_contain_text(world.org_names["habitat-rhone"])
    step(page, "caseload")


def test_partner_housing_officer_sees_the_district_not_the_point(
    page: Page, world: World, step: Step
) -> None:
    """What Métropole's policy releases to a partner's housing officer, with the person's
    consent: status, needs and the district; the exact point and the notes stay withheld."""
    case = world.shared
    login(page, world, OFFICER, on_step=step)
    step(page, "caseload")
    page.get_by_role("link", name=short(case.case_id)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {short(case.case_id)}")
    step(page, "shared case")

    assert_district_not_point(page, case.point)
    expect(page.get_by_role("region", name="Needs")).to_contain_text("Shelter")


def test_a_case_without_consent_is_refused_with_the_emergency_route_offered(
    page: Page, world: World, step: Step
) -> None:
    login(page, world, OFFICER)
    response = page.goto(f"/cases/{world.private.case_id}")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This case is not shared with you")
    expect(page.get_by_label("Why is this an emergency?")).to_be_visible()
    assert CASE_NOTE not in page.content()
    step(page, "refused case")


def test_the_holders_own_worker_sees_the_exact_point_and_the_notes(
    page: Page, world: World, step: Step
) -> None:
    """The contrast to the partner's view: the same page shows the holder everything."""
    case = world.shared
    login(page, world, user(Role.OUTREACH_WORKER, "metropole"))
    page.goto(f"/cases/{case.case_id}")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Exact point")
    expect(main).to_contain_text(f"{case.point.lat:.5f}, {case.point.lon:.5f}")
    expect(main).to_contain_text(CASE_NOTE)
    step(page, "own case")


def test_auditor_finds_the_partners_access_and_verifies_the_log(
    page: Page, new_page: Callable[[str], Page], world: World, step: Step
) -> None:
    """The officer reads the shared case; Métropole's auditor finds that access in the person's
    history (who, which organisation, what was released) and verifies the whole log."""
    case = world.shared
    officer = new_page("desktop")
    login(officer, world, OFFICER)
    officer.goto(f"/cases/{case.case_id}")
    expect(officer.get_by_role("main")).to_contain_text(district_of(case.point))

    login(page, world, AUDITOR, on_step=step)
    step(page, "auditor home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Access log")
    step(page, "access log")

    page.get_by_label("Person id").fill(str(case.person_id))
    page.get_by_role("button", name="Show the history").click()  # posted: no id in a query
    expect(page.get_by_role("heading", level=1)).to_have_text("Who reached this person's data")
    step(page, "person history")

    history = page.get_by_role("table", name="Accesses to this person's data, oldest first")
    # The officer's reading of the case page: what was released, what withheld, at which level.
    officer_read = (
        history.get_by_role("row")
        .filter(has_text="read the record")  # the case page (not a caseload's line)
        .filter(has_text="housing_officer")
        .filter(has_text="entraide")  # the console names organisations by name
        .filter(has_text="withheld:")
    )
    expect(officer_read.first).to_be_visible()
    expect(officer_read.first).to_contain_text("location: district")
    expect(officer_read.first).to_contain_text(re.compile(r"withheld:[^\n]*notes"))

    page.get_by_role("navigation", name="Audit console").get_by_role(
        "link", name="Log integrity"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log integrity")
    step(page, "log integrity")
    page.get_by_role("button", name="Verify the whole log").click()
    expect(page.get_by_role("status")).to_contain_text("Verified: the log is intact.")
    step(page, "log verified")


def test_org_admin_reads_the_organisations_policy(page: Page, world: World, step: Step) -> None:
    login(page, world, user(Role.ORG_ADMIN, "metropole"))
    page.goto("/organisation/policy")
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.org_names["metropole"])
    # With consent, the partner charity gets a summary down to the district (slugs name partners).
    with_consent = page.get_by_role("row").filter(has_text="entraide").filter(has_text="yes")
    expect(with_consent).to_contain_text("district")
    expect(with_consent).not_to_contain_text("notes")
    step(page, "policy")
