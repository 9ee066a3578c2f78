"""An organisation's administrator invites a colleague, who joins with two-factor sign-in.

The admin signs in (second factor), creates an invitation for a housing officer and copies the
link it shows once. The invitee opens it in another browser (a new context: no shared cookies);
the code after its # goes into the page's form, never into an address the browser requests. They
choose a username and a password, enrols an authenticator (the key read from the page, the code
computed with pyotp), sees the recovery codes once, and lands signed in. Then signs out, and signs
in again with a fresh code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from databank.domain.enums import Role
from tests.browser.conftest import (
    PASSWORD,
    TOTP_SECRET_SELECTOR,
    World,
    login,
    totp_code,
    user,
)

Step = Callable[[Page, str], None]
ADMIN = user(Role.ORG_ADMIN, "metropole")
INVITEE_NAME = "Camille Invited"
INVITEE = "camille.invited"


def test_org_admin_invites_a_housing_officer_who_joins_with_two_factor(
    new_page: Callable[[str], Page], world: World, step: Step
) -> None:
    admin = new_page("desktop")
    login(admin, world, ADMIN, on_step=step)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Organisation").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Staff accounts")
    step(admin, "staff accounts")
    admin.get_by_label("Full name").fill(INVITEE_NAME)
    admin.get_by_role("checkbox", name="Housing officer", exact=True).check()
    admin.get_by_role("button", name="Create invitation link").click()
    expect(admin.get_by_role("status")).to_contain_text("Invitation created")
    link = admin.locator("#invitation-link").inner_text().strip()
    parts = urlsplit(link)
    assert parts.path == "/invite", link
    assert len(parts.fragment) >= 40, link
    step(admin, "invitation link")

    # The invitee, in another browser: choose a username and a password.
    invitee = new_page("mobile")
    requested: list[str] = []
    invitee.on("request", lambda request: requested.append(request.url))
    invitee.goto(f"{parts.path}#{parts.fragment}")
    expect(invitee.get_by_role("heading", level=1)).to_have_text(
        f"Join {world.org_names['metropole']}"
    )
    assert parts.fragment not in invitee.url  # nor in the address bar and history
    step(invitee, "invitation")
    invitee.get_by_label("Username").fill(INVITEE)
    invitee.get_by_label("Password").fill(PASSWORD)
    invitee.get_by_role("button", name="Create my account").click()
    assert requested
    assert not any(parts.fragment in url for url in requested), requested

    # A housing officer must use a second factor: enrolment comes at once.
    invitee.wait_for_url(re.compile("/account/2fa/setup$"))
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    step(invitee, "two-factor setup")
    secret = invitee.locator(TOTP_SECRET_SELECTOR).inner_text().replace(" ", "").strip()
    world.totp_secrets[INVITEE] = secret
    invitee.get_by_label("Code from your authenticator app").fill(totp_code(INVITEE, secret))
    invitee.get_by_role("button", name="Confirm").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = invitee.locator("#recovery-codes li")
    assert codes.count() >= 5
    assert len({c.strip() for c in codes.all_inner_texts()}) == codes.count()
    step(invitee, "recovery codes")
    invitee.get_by_role("link", name="Continue").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Caseload")
    expect(invitee.get_by_role("banner")).to_contain_text("Sign out")
    step(invitee, "signed in")

    # The admin sees the new colleague, two-factor on.
    admin.reload()
    row = admin.get_by_role("row").filter(has_text=INVITEE)
    expect(row.get_by_role("cell").nth(2)).to_have_text("Housing officer")
    expect(row.get_by_role("cell").nth(3)).to_have_text("on")  # two-factor

    # Signed out, then in again with a fresh code (the helper never replays a used step).
    invitee.get_by_role("button", name="Sign out").click()
    invitee.wait_for_url(re.compile("/login$"))
    invitee.goto("/")
    assert urlsplit(invitee.url).path == "/login", "signed out, yet the caseload opens"
    login(invitee, world, INVITEE, on_step=step)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Caseload")
    step(invitee, "signed in again")

    # The link worked once.
    again = new_page("mobile")
    again.goto(f"{parts.path}#{parts.fragment}")
    expect(again.get_by_role("heading", level=1)).to_have_text("This invitation cannot be used")
    step(again, "invitation used")
