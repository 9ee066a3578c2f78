"""The referral pages in a real browser (phone and desktop): the receiving housing officer reads
the reason, accepts and records the outcome; the referrer sees the outcome on its sent list.
Each page is screenshotted and scanned by axe (no serious or critical violation)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from databank.domain.enums import Purpose, Role
from databank.domain.vocab import NeedCategory
from databank.models import User
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.browser.conftest import World, login, user
from tests.factories import identity, intake_record

Step = Callable[[Page, str], None]
NOTE = "Fled a violent flatmate; needs a room away from Part-Dieu, has a dog."
RECEIVER = user(Role.HOUSING_OFFICER, "entraide")
REFERRER = user(Role.OUTREACH_WORKER, "metropole")


def _refer(runtime: Runtime) -> uuid.UUID:
    """Métropole's outreach worker registers someone who agreed to share with Entraide for
    housing allocation, and refers them to Entraide for that purpose."""
    with runtime.transaction() as session:
        worker = session.scalars(select(User).where(User.username == REFERRER)).one()
        actor = Actor.for_user(worker)
        family = f"Referred{uuid.uuid4().hex[:6]}"
        [made] = people.intake(
            session, actor, Purpose.OUTREACH, [intake_record(identity(family_name=family))]
        )
        entraide = session.scalars(select(User.org_id).where(User.username == RECEIVER)).one()
        consents.record_consent(
            session,
            actor,
            Purpose.OUTREACH,
            made.person_id,
            ConsentIn(purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(entraide,)),
        )
        assert made.case_id is not None
        return cases.refer(
            session,
            actor,
            Purpose.OUTREACH,
            made.case_id,
            entraide,
            Purpose.HOUSING_ALLOCATION,
            NeedCategory.SHELTER,
            NOTE,
        )


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_the_receiver_accepts_and_records_the_outcome_the_referrer_sees_it(
    page: Page,
    new_page: Callable[[str], Page],
    viewport: str,
    world: World,
    live_runtime: Runtime,
    step: Step,
) -> None:
    referral_id = _refer(live_runtime)
    login(page, world, RECEIVER)
    page.goto("/referrals")
    page.get_by_role("button", name="Housing allocation").click()
    card = page.locator("article", has=page.locator(f'[id="r-{referral_id}"]'))
    expect(card).to_contain_text(NOTE)
    expect(card).to_contain_text("Contact the referring worker")
    step(page, "referral received")

    card.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("The referral is accepted.")
    step(page, "accepted")

    card = page.locator("article", has=page.locator(f'[id="r-{referral_id}"]'))
    card.get_by_label("Outcome").select_option("housed")
    card.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("The outcome is recorded.")
    card = page.locator("article", has=page.locator(f'[id="r-{referral_id}"]'))
    expect(card).to_contain_text("Outcome recorded")
    expect(card).to_contain_text("Housed")
    step(page, "outcome recorded")

    referrer = new_page(viewport)
    login(referrer, world, REFERRER)
    referrer.goto("/referrals/sent")
    sent = referrer.locator("article", has=referrer.locator(f'[id="s-{referral_id}"]'))
    expect(sent).to_contain_text("Housed")
    expect(sent).to_contain_text(world.org_names["entraide"])
    step(referrer, "referral sent, with its outcome")
