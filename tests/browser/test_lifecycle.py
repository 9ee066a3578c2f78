"""Keeping a case true in a real browser: the owner's worker updates the living situation, marks a
need met, closes the case as housed with a destination (after being told to say where), reads the
history, reopens it, and corrects the person's identity. Screenshots and axe at every step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from databank.domain.enums import Role
from tests.browser.conftest import World, login, user

Step = Callable[[Page, str], None]
WORKER = user(Role.OUTREACH_WORKER, "entraide")
# Each run changes the same case: each viewport moves it somewhere else.
SITUATION = {"mobile": "ethos_3_homeless_hostel", "desktop": "ethos_2_night_shelter"}
SITUATION_TEXT = {"mobile": "In accommodation for the homeless", "desktop": "night shelter"}
NEED_STATUS = {"mobile": "met", "desktop": "in_progress"}
PHONE = {"mobile": "+33 6 12 34 56 70", "desktop": "+33 6 12 34 56 71"}


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_the_owner_keeps_the_case_true(page: Page, world: World, step: Step, viewport: str) -> None:
    case = world.own
    login(page, world, WORKER)
    page.goto(f"/cases/{case.case_id}")
    step(page, "case page with its actions")
    page.get_by_text("Update the living situation").click()
    page.get_by_label("Living situation now").select_option(SITUATION[viewport])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("living situation is updated")
    step(page, "living situation updated")
    need = page.get_by_role("region", name="Needs").locator("form").first
    need.get_by_label("Status").select_option(NEED_STATUS[viewport])
    need.get_by_role("button", name="Update").click()
    expect(page.get_by_role("status").first).to_contain_text("need is updated")
    closing = page.locator("#close-case")
    closing.locator("summary").click()
    page.get_by_label("Why is the case closing?").select_option("housed")
    closing.get_by_role("button", name="Close the case").click()
    expect(page.get_by_text("Say where the person went.")).to_be_visible()
    step(page, "closing refused: where did the person go")
    page.get_by_label("Where did the person go? (housed or sheltered)").select_option(
        "rental_subsidised"
    )
    page.get_by_label("Why is the case closing?").select_option("housed")
    page.locator("#close-case").get_by_role("button", name="Close the case").click()
    history = page.get_by_role("region", name="Changes")
    expect(history).to_contain_text("Social or subsidised rental")
    expect(history).to_contain_text(SITUATION_TEXT[viewport])
    step(page, "closed, with the history")
    page.get_by_role("button", name="Reopen the case").click()
    expect(page.get_by_role("region", name="Changes")).to_contain_text("Reopened")
    step(page, "reopened")
    page.get_by_role("link", name="Identity and its corrections").click()
    page.get_by_label("Phone").fill(PHONE[viewport])
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("region", name="Corrections")).to_contain_text("Phone")
    step(page, "identity corrected")
