"""The outreach journey, end to end in a real browser, then what the partner and the auditor see.

A street worker of Métropole on a phone (360x740) finds a person by family name and date of birth,
records an encounter (two needs, a point tapped on the plan), records the person's consent to share
with Entraide for case management, and refers the case there. Entraide's housing officer (desktop)
opens the referred case: the district, not the point. Métropole's auditor finds both accesses in
the person's history and verifies the log. Every page: a screenshot and the axe scan (`step`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from databank.domain import geo
from databank.domain.enums import Role
from databank.services.inputs import Point
from tests.browser.conftest import BIRTH_DATE, World, district_of, family_name, login, user
from tests.browser.test_journeys import assert_district_not_point, short

Step = Callable[[Page, str], None]
WORKER = user(Role.OUTREACH_WORKER, "metropole")
OFFICER = user(Role.HOUSING_OFFICER, "entraide")
AUDITOR = user(Role.AUDITOR, "metropole")
NEW_NOTE = "Met by the fountain; wants to see the nurse on Thursday."
OFFLINE_NOTE = "Recorded with no signal under the bridge."


def nothing_in_clear(page: Page, *texts: str) -> bool:
    """What the pages keep on the device is ciphertext only (outreach-vault.js): nothing in
    sessionStorage, and every localStorage entry an encrypted value in which none of `texts`
    (nor a name of the world's people) shows."""
    kept = page.evaluate(
        "() => ({session: sessionStorage.length, local: Object.entries(localStorage)})"
    )
    if kept["session"]:
        return False
    for name, value in kept["local"]:
        if not name.startswith("databank.outreach.") or set(json.loads(value)) != {"v", "iv", "ct"}:
            return False
        if any(text in value for text in (*texts, "Given", "Family")):
            return False
    return True


def tap_the_plan(page: Page) -> Point:
    """Tap the plan of Lyon a little off its centre; the point the page set (hidden fields)."""
    plan = page.get_by_role("application", name=re.compile("Plan of Lyon"))
    expect(plan).to_be_visible()
    box = plan.bounding_box()
    assert box is not None
    plan.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.55})
    expect(page.locator("#point-status")).to_contain_text("Point set on the plan")
    lat, lon = page.locator("#lat").input_value(), page.locator("#lon").input_value()
    assert lat, "tapping the plan set no point"
    assert lon, "tapping the plan set no point"
    return Point(float(lat), float(lon))


def open_person(page: Page, tag: str, step: Step) -> None:
    """From the street page: find the person by family name and date of birth, open them."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Street").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Street work")
    step(page, "street work")
    page.get_by_label("Family name").fill(family_name(tag))
    page.get_by_label("Date of birth").fill(BIRTH_DATE)
    page.get_by_role("button", name="Find", exact=True).click()
    results = page.get_by_role("region", name="Search results")
    expect(results).to_contain_text(family_name(tag))
    assert family_name(tag) not in page.url  # a search by name is a POST
    step(page, "search results")
    results.get_by_role("link", name=re.compile(family_name(tag))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Given{tag} {family_name(tag)}")


def test_outreach_worker_records_an_encounter_consent_and_referral_then_partner_and_auditor(
    page: Page, new_page: Callable[[str], Page], world: World, step: Step
) -> None:
    case = world.journey
    partner = world.org_names["entraide"]

    # 1. The street worker, on a phone.
    login(page, world, WORKER, on_step=step)
    step(page, "signed in")
    open_person(page, "JOURNEY", step)
    step(page, "person")
    expect(page.get_by_role("region", name="Consent to share")).to_contain_text(
        "No consent in force"
    )

    # 2. An encounter: two needs, a point tapped on the plan, a short note.
    page.get_by_role("link", name="Record an encounter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an encounter")
    step(page, "encounter form")
    needs = page.get_by_role("group", name=re.compile("^Needs"))
    needs.get_by_role("checkbox", name="Clothing", exact=True).check()
    needs.get_by_role("checkbox", name="Hygiene", exact=True).check()
    tapped = tap_the_plan(page)
    page.get_by_label("Short note (optional)").fill(NEW_NOTE)
    step(page, "encounter filled in")
    page.get_by_role("button", name="Save encounter").click()
    page.wait_for_url(re.compile(f"/outreach/people/{case.person_id}$"))
    expect(page.get_by_role("status").filter(has_text="Encounter saved.")).to_be_visible()
    open_case = page.get_by_role("region", name="Open case")
    expect(open_case).to_contain_text(NEW_NOTE)
    expect(open_case).to_contain_text("Clothing")
    expect(open_case).to_contain_text("Hygiene")
    step(page, "encounter saved")

    # 3. Consent: Entraide may see the file, for case management.
    page.get_by_role("link", name="Consent", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent to share")
    step(page, "consent form")
    page.get_by_role("group", name="Who may see the file?").get_by_role(
        "checkbox", name=partner, exact=True
    ).check()
    page.get_by_role("group", name="What for?").get_by_role(
        "checkbox", name="Case management", exact=True
    ).check()
    page.get_by_role("button", name="Record consent").click()
    page.wait_for_url(re.compile(f"/outreach/people/{case.person_id}$"))
    expect(page.get_by_role("status").filter(has_text="Consent recorded.")).to_be_visible()
    consent = page.get_by_role("region", name="Consent to share")
    expect(consent).to_contain_text(partner)
    expect(consent).to_contain_text("Case management")
    step(page, "consent recorded")

    # 4. The referral to Entraide, for case management.
    page.get_by_role("link", name="Refer to a partner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer to a partner")
    page.get_by_role("group", name="Refer to").get_by_role(
        "radio", name=re.compile(re.escape(partner))
    ).check()
    page.get_by_label("What for?").select_option("case_management")
    page.get_by_label("Main need (optional)").select_option("clothing")
    step(page, "referral form")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(re.compile(f"/outreach/people/{case.person_id}$"))
    expect(page.get_by_role("status").filter(has_text="Referral sent.")).to_be_visible()
    step(page, "referral sent")
    assert nothing_in_clear(page, NEW_NOTE)

    # 5. Entraide's housing officer, at a desk: the referral, then the case as released.
    officer = new_page("desktop")
    login(officer, world, OFFICER)
    step(officer, "officer caseload")
    officer.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(officer.get_by_role("heading", level=1)).to_have_text("Referrals received")
    step(officer, "officer referrals")
    officer.get_by_role("link", name=f"Open case {short(case.case_id)}").first.click()
    expect(officer.get_by_role("heading", level=1)).to_have_text(f"Case {short(case.case_id)}")
    step(officer, "officer reads the case")
    assert_district_not_point(officer, case.point)
    body = officer.get_by_role("main").inner_text()
    for finer in (
        f"{tapped.lat:.4f}",
        f"{tapped.lon:.4f}",
        geo.encode(tapped.lat, tapped.lon, 6),
    ):
        assert finer not in body, f"the tapped point shows through: {finer}"
    assert NEW_NOTE not in body
    assert f"Given{'JOURNEY'}" not in body  # a partner's case is shown by a reference
    expect(officer.get_by_role("region", name="Needs")).to_contain_text("Clothing")

    # 6. Métropole's auditor: both accesses in the person's history, then the whole log.
    auditor = new_page("desktop")
    login(auditor, world, AUDITOR)
    auditor.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Access log")
    # The log and its search page are scanned in test_journeys' auditor test; here (a longer log
    # by now) they would only slow the suite down.
    auditor.get_by_label("Person id").fill(str(case.person_id))
    auditor.get_by_role("button", name="Show the history").click()  # posted: no id in a query
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Who reached this person's data")
    step(auditor, "auditor person history")
    rows = auditor.get_by_role(
        "table", name="Accesses to this person's data, oldest first"
    ).get_by_role("row")
    # The console names organisations by name.
    metropole = world.org_names["metropole"]
    workers = rows.filter(has_text="outreach_worker").filter(has_text=metropole)
    expect(workers.filter(has_text="encounter").first).to_be_visible()
    officers = (
        rows.filter(has_text="read the record")  # the case page, not a list's line
        .filter(has_text="housing_officer")
        .filter(has_text="entraide")
    )
    officer_read = officers.filter(has_text="withheld:").filter(has_text="location: district")
    expect(officer_read.first).to_be_visible()
    expect(officer_read.first).to_contain_text(re.compile(r"withheld:[^\n]*notes"))

    auditor.get_by_role("navigation", name="Audit console").get_by_role(
        "link", name="Log integrity"
    ).click()
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Log integrity")
    step(auditor, "auditor log integrity")
    auditor.get_by_role("button", name="Verify the whole log").click()
    expect(auditor.get_by_role("status")).to_contain_text("Verified: the log is intact.")
    step(auditor, "log verified")
    assert district_of(case.point) in officer.get_by_role("main").inner_text()


def test_an_encounter_recorded_offline_is_kept_then_sent_once(
    page: Page, world: World, step: Step
) -> None:
    """No connection: the entry stays in the page, "Not saved yet"; back online it is sent once.
    Nothing is written in clear to the device's storage meanwhile (the draft is encrypted)."""
    case = world.offline
    login(page, world, WORKER)
    page.goto(f"/outreach/cases/{case.case_id}/encounters/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an encounter")
    page.get_by_role("group", name=re.compile("^Needs")).get_by_role(
        "checkbox", name="Shelter", exact=True
    ).check()
    tap_the_plan(page)
    page.get_by_label("Short note (optional)").fill(OFFLINE_NOTE)
    assert nothing_in_clear(page, OFFLINE_NOTE)

    page.context.set_offline(True)
    page.get_by_role("button", name="Save encounter").click()
    status = page.locator("[data-send-status]")
    expect(status).to_contain_text("Not saved yet")
    assert urlparse(page.url).path.endswith("/encounters/new")
    expect(page.get_by_label("Short note (optional)")).to_have_value(OFFLINE_NOTE)
    assert nothing_in_clear(page, OFFLINE_NOTE)
    step(page, "not saved yet offline")

    page.context.set_offline(False)
    page.wait_for_url(re.compile(f"/outreach/people/{case.person_id}$"), timeout=20_000)
    expect(page.get_by_role("status").filter(has_text="Encounter saved.")).to_be_visible()
    step(page, "saved once back online")
    assert page.get_by_role("main").inner_text().count(OFFLINE_NOTE) == 1
    assert nothing_in_clear(page, OFFLINE_NOTE)
    # And after a reload (no resend): still exactly one.
    page.reload()
    assert page.get_by_role("main").inner_text().count(OFFLINE_NOTE) == 1
