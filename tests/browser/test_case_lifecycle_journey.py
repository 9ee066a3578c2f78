"""Issue 17's journey across roles, in one story, in a real browser (screenshots and axe at each
step):

1. Métropole's street worker, on a phone (360x740), registers a person Métropole already holds
   and lands on the existing file; marks the shelter need met; records the person's consent to
   share with Entraide for housing allocation; refers the case there, the referral's answer
   lost mid-submit (recorded once).
2. Entraide's housing officer (1280 px) reads the referral with its reason, accepts it and
   records "housed" as the outcome.
3. Métropole's housing officer (1280 px, in French) sees the outcome on the referrals sent, then
   closes the case as housed with a destination (only the case's owner may close it: the
   receiving organisation's part is the referral's outcome).
4. Métropole's auditor (1280 px) looks the person up by family name and date of birth and prints
   the report of who reached their data: Entraide's housing officer is in it.

(An admin deactivating and reactivating a colleague with confirmations is
tests/browser/test_desk.py.)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from databank.domain.enums import CaseStatus, NeedStatus, ReferralStatus, Role
from databank.domain.vocab import NeedCategory
from databank.models import Case, Need, Organisation, Referral
from databank.services.runtime import Runtime
from tests.browser.conftest import (
    BIRTH_DATE,
    CASE_NOTE,
    World,
    _intake,
    family_name,
    login,
    user,
)
from tests.support import handle_of

Step = Callable[[Page, str], None]
TAG = "LIFEJOURNEY"
WORKER = user(Role.OUTREACH_WORKER, "metropole")
RECEIVER = user(Role.HOUSING_OFFICER, "entraide")
OFFICER = user(Role.HOUSING_OFFICER, "metropole")
AUDITOR = user(Role.AUDITOR, "metropole")
REASON = "Two nights at the station; the shelter was full. Has a small dog."


@pytest.fixture(scope="module")
def known(live_runtime: Runtime, world: World) -> tuple[uuid.UUID, uuid.UUID]:
    """A person Métropole registered earlier (shelter high, food): their case and handle."""
    from datetime import UTC, datetime, timedelta

    with live_runtime.transaction() as session:
        council = session.scalars(
            select(Organisation).where(Organisation.slug == "metropole")
        ).one()
        when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        case_id, person_id = _intake(session, council, world.private.point, TAG, CASE_NOTE, when)
        council_id = council.id
    return case_id, handle_of(live_runtime, council_id, person_id)


def _one(runtime: Runtime, query: object) -> object:
    with runtime.transaction() as session:
        return session.execute(query).scalar_one()  # type: ignore[call-overload]


def test_a_known_person_referred_housed_closed_and_reported(
    new_page: Callable[[str], Page],
    world: World,
    live_runtime: Runtime,
    known: tuple[uuid.UUID, uuid.UUID],
    step: Step,
) -> None:
    case_id, handle = known
    partner = world.org_names["entraide"]

    # 1. The street worker, on a phone.
    phone = new_page("mobile")
    login(phone, world, WORKER)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Street work")
    phone.goto("/outreach/register")
    phone.get_by_label("First name").fill(f"Given{TAG}")
    phone.get_by_label("Family name").fill(family_name(TAG))
    phone.get_by_label("Date of birth").fill(BIRTH_DATE)
    step(phone, "registering a known person")
    phone.get_by_role("button", name="Register", exact=True).click()
    phone.wait_for_url(re.compile(f"/outreach/people/{handle}$"))
    expect(phone.get_by_role("status").filter(has_text="open file")).to_be_visible()
    step(phone, "the existing file")
    cases = select(func.count()).select_from(Case).where(Case.id != case_id)
    with live_runtime.transaction() as session:
        subject = session.get(Case, case_id).subject_id  # type: ignore[union-attr]
    assert _one(live_runtime, cases.where(Case.subject_id == subject)) == 0  # no second case

    shelter = phone.locator(f'li[data-code="{NeedCategory.SHELTER.value}"]')
    shelter.get_by_role("button", name="Met").click()
    phone.wait_for_url(re.compile(f"/outreach/people/{handle}"))
    met = select(Need.status).where(Need.case_id == case_id, Need.category == NeedCategory.SHELTER)
    assert _one(live_runtime, met) is NeedStatus.MET
    step(phone, "shelter need met")

    phone.goto(f"/outreach/people/{handle}/consent")
    phone.get_by_role("group", name="Who may see the file?").get_by_role(
        "checkbox", name=partner, exact=True
    ).check()
    phone.get_by_role("group", name="What for?").get_by_role(
        "checkbox", name="Housing allocation", exact=True
    ).check()
    phone.get_by_role("button", name="Record consent").click()
    phone.wait_for_url(re.compile(f"/outreach/people/{handle}$"))
    step(phone, "consent recorded")

    cut: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if cut:
            route.continue_()
            return
        route.fetch()  # the server saves the referral...
        cut.append(route.request.url)
        route.abort("internetdisconnected")  # ...and the answer never reaches the phone

    phone.route(re.compile(r"/refer$"), lose_the_first_answer)
    phone.get_by_role("link", name="Refer to a partner").click()
    phone.get_by_role("group", name="Refer to").get_by_role(
        "radio", name=re.compile(re.escape(partner))
    ).check()
    phone.get_by_label("What for?").select_option("housing_allocation")
    phone.get_by_label("Reason for the referral (optional)").fill(REASON)
    step(phone, "referral form")
    phone.get_by_role("button", name="Send referral").click()
    phone.wait_for_url(re.compile(f"/outreach/people/{handle}$"), timeout=20_000)
    assert cut, "the first answer was not cut"
    referrals = select(Referral.id).where(Referral.case_id == case_id)
    referral_id = _one(live_runtime, referrals)  # exactly one, though sent twice
    step(phone, "referral sent once")

    # 2. The receiving housing officer, at a desk.
    receiver = new_page("desktop")
    login(receiver, world, RECEIVER)
    receiver.goto("/referrals")
    receiver.get_by_role("button", name="Housing allocation").click()
    card = receiver.locator("article", has=receiver.locator(f'[id="r-{referral_id}"]'))
    expect(card).to_contain_text(REASON)
    step(receiver, "referral received")
    card.get_by_role("button", name="Accept").click()
    expect(receiver.get_by_role("status")).to_contain_text("The referral is accepted.")
    card = receiver.locator("article", has=receiver.locator(f'[id="r-{referral_id}"]'))
    card.get_by_label("Outcome").select_option("housed")
    card.get_by_role("button", name="Record the outcome").click()
    expect(receiver.get_by_role("status")).to_contain_text("The outcome is recorded.")
    status = select(Referral.status).where(Referral.id == referral_id)
    assert _one(live_runtime, status) is ReferralStatus.COMPLETED
    step(receiver, "housed recorded")

    # 3. The referring organisation's housing officer, in French: the outcome, then the closing.
    officer = new_page("desktop")
    login(officer, world, OFFICER)
    officer.goto("/referrals/sent")
    officer.get_by_role("button", name="Français").click()
    expect(officer.locator("html")).to_have_attribute("lang", "fr")
    sent = officer.locator("article", has=officer.locator(f'[id="s-{referral_id}"]'))
    expect(sent).to_contain_text("Relogé·e")
    step(officer, "orientation envoyée, son issue")
    officer.goto(f"/cases/{case_id}")
    closing = officer.locator("#close-case")
    closing.locator("summary").click()
    officer.get_by_label("Pourquoi le dossier est-il clos ?").select_option("housed")
    officer.locator("#lc-destination").select_option("rental_subsidised")
    step(officer, "clore le dossier")
    closing.get_by_role("button", name="Clore le dossier").click()
    closed = select(Case.status).where(Case.id == case_id)
    expect(officer.get_by_role("status").first).to_be_visible()
    assert _one(live_runtime, closed) is CaseStatus.CLOSED
    step(officer, "dossier clos")

    # 4. The auditor answers the person's subject access request.
    auditor = new_page("desktop")
    login(auditor, world, AUDITOR)
    auditor.get_by_role("navigation", name="Audit console").get_by_role(
        "link", name="Subject access"
    ).click()
    auditor.get_by_label("Family name").fill(family_name(TAG))
    auditor.get_by_label("Date of birth").fill(BIRTH_DATE)
    auditor.get_by_role("button", name="Find").click()
    auditor.wait_for_url(re.compile(r"/audit/people/[0-9a-f-]{36}/report$"))
    assert family_name(TAG) not in auditor.url
    report = auditor.locator(".report-lines")
    expect(report).to_contain_text(partner)  # the receiving officer read the referred case
    expect(report).to_contain_text(world.org_names["metropole"])
    step(auditor, "who reached the person's data")
    auditor.emulate_media(media="print")
    expect(auditor.get_by_role("navigation", name="Audit console")).to_be_hidden()
    step(auditor, "report printed")
