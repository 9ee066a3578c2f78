"""The auditor answers a subject access request, and an org admin deactivates and reactivates a
colleague with confirmations (issue 17, 1280 px; the report in English and in French).

The auditor signs in and lands on the console (not on a refused caseload), finds a person of
the organisation by family name and date of birth (a POST: the name never reaches an address),
reads and prints the report of who reached the person's data, then reads it in French. The
admin opens the deactivation page of a colleague, is asked to tick the box, confirms, and
reactivates them the same way; the colleague can sign in again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from databank.domain.enums import Role
from databank.models import Organisation
from databank.services.accounts import organisations
from databank.services.runtime import Runtime
from tests.browser.conftest import BIRTH_DATE, PASSWORD, World, family_name, login, user

Step = Callable[[Page, str], None]
MEMBER = "desk.member@metropole"


def test_an_auditor_finds_a_person_and_prints_who_reached_their_data(
    new_page: Callable[[str], Page], world: World, step: Step
) -> None:
    auditor = new_page("desktop")
    requested: list[str] = []
    auditor.on("request", lambda request: requested.append(request.url))
    login(auditor, world, user(Role.AUDITOR, "metropole"))
    auditor.goto("/")
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Access log")
    auditor.get_by_role("navigation", name="Audit console").get_by_role(
        "link", name="Subject access"
    ).click()
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Subject access request")
    step(auditor, "subject access")
    name = family_name("SHARED")
    auditor.get_by_label("Family name").fill(name.upper())
    auditor.get_by_label("Date of birth").fill(BIRTH_DATE)
    auditor.get_by_role("button", name="Find").click()
    auditor.wait_for_url(re.compile(r"/audit/people/[0-9a-f-]{36}/report$"))
    expect(auditor.get_by_role("heading", level=1)).to_have_text("Who reached this person’s data")
    assert not any(name.lower() in url.lower() for url in requested), requested
    assert name not in auditor.content()
    expect(auditor.get_by_role("button", name="Print this report")).to_be_visible()
    expect(auditor.locator(".report-lines > li").first).to_contain_text(
        world.org_names["metropole"]
    )
    step(auditor, "report")
    auditor.emulate_media(media="print")
    expect(auditor.get_by_role("navigation", name="Audit console")).to_be_hidden()
    step(auditor, "report printed")
    auditor.emulate_media(media="screen")
    auditor.get_by_role("button", name="Français").click()
    expect(auditor.get_by_role("heading", level=1)).to_have_text(
        "Qui a eu accès aux données de cette personne"
    )
    step(auditor, "rapport")


def test_an_admin_deactivates_and_reactivates_a_colleague_with_confirmations(
    new_page: Callable[[str], Page], world: World, step: Step, live_runtime: Runtime
) -> None:
    with live_runtime.transaction() as session:
        metropole = session.query(Organisation).filter_by(slug="metropole").one()
        organisations.create_user(
            session, metropole, MEMBER, "Desk Member", PASSWORD, [Role.OUTREACH_WORKER]
        )
    admin = new_page("desktop")
    login(admin, world, user(Role.ORG_ADMIN, "metropole"))
    admin.goto("/organisation/users/")
    admin.get_by_role("link", name=f"Deactivate {MEMBER}").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Deactivate an account")
    step(admin, "deactivate asks")
    admin.get_by_role("button", name="Deactivate").click()  # the box is not ticked
    expect(admin.get_by_role("alert")).to_contain_text("Tick the box to confirm.")
    step(admin, "deactivate not confirmed")
    admin.get_by_label("Yes, deactivate this account").check()
    admin.get_by_role("button", name="Deactivate").click()
    admin.wait_for_url(re.compile("/organisation/users/$"))
    expect(admin.get_by_role("status").first).to_contain_text("The account is deactivated")
    row = admin.get_by_role("row").filter(has_text=MEMBER)
    expect(row).to_contain_text("deactivated")
    step(admin, "deactivated")

    member = new_page("desktop")
    member.goto("/login")
    member.get_by_label("Username").fill(MEMBER)
    member.get_by_label("Password").fill(PASSWORD)
    member.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    assert urlsplit(member.url).path == "/login"  # refused

    row.get_by_role("link", name=f"Reactivate {MEMBER}").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Reactivate an account")
    admin.get_by_label("Yes, reactivate this account").check()
    step(admin, "reactivate confirmed")
    admin.get_by_role("button", name="Reactivate").click()
    expect(admin.get_by_role("status").first).to_contain_text("The account is active again")
    expect(admin.get_by_role("row").filter(has_text=MEMBER)).to_contain_text("active")
    step(admin, "reactivated")
    login(member, world, MEMBER)
    member.goto("/")
    assert urlsplit(member.url).path != "/login"
