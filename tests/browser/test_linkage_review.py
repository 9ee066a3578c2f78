"""The linkage review journey on a phone (360x740): Métropole's linkage reviewer opens the queue
from the navigation, reads a pair's evidence (words and signs, their own side marked), decides
"Different people" with a reason and is told so; the pair leaves the open queue. Every page: a
screenshot and the axe scan (`step`), and nothing wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select

from databank.domain.enums import Purpose, Role
from databank.models.linkage import LinkageReview
from databank.services.access.directory import get_organisation
from databank.services.actors import Actor
from databank.services.linkage import pairs
from databank.services.records import people
from databank.services.runtime import Runtime
from tests.browser.conftest import World, login, user
from tests.factories import identity, intake_record

Step = Callable[[Page, str], None]
REVIEWER = user(Role.LINKAGE_REVIEWER, "metropole")
SCORE = 0.4321


def _open_pair(runtime: Runtime) -> str:
    """A grey-zone pair: a Métropole record and an Entraide one; the review's id."""
    with runtime.transaction() as session:
        subjects = []
        for slug, given, family, born in (
            ("metropole", "Oumar", "Diallo", date(1984, 5, 2)),
            ("entraide", "Umar", "Diallo", date(1984, 2, 5)),
        ):
            org = get_organisation(session, slug)
            actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
            who = identity(given_name=given, family_name=family, birth_date=born)
            [found] = people.intake(session, actor, Purpose.OUTREACH, [intake_record(who)])
            subjects.append(found.subject_id)
        evidence = {"given": "agrees", "family": "agrees_strongly", "birth_date": "differs"}
        assert pairs.open_review(session, subjects[0], subjects[1], SCORE, evidence)
    with runtime.transaction() as session:
        found = session.scalars(
            select(LinkageReview.id).where(LinkageReview.subject_a_id.in_(subjects))
        ).one()
    return str(found)


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_reviewer_decides_a_pair_on_a_phone(
    page: Page, world: World, live_runtime: Runtime, step: Step
) -> None:
    review_id = _open_pair(live_runtime)
    login(page, world, REVIEWER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Linkage review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Linkage review")
    step(page, "queue")
    assert fits_the_screen(page)
    expect(page.get_by_text("Pairs to decide")).to_be_visible()
    card = page.locator(f'li.pair[data-review="{review_id}"]')
    expect(card).to_contain_text("your organisation’s record")
    expect(card).to_contain_text("another organisation’s record")
    assert str(SCORE) not in page.content()
    title = card.get_by_role("heading", level=2).inner_text()
    card.get_by_role("link", name=re.compile("^Decide")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    step(page, "pair")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Save decision").click()  # nothing chosen: told what to do
    expect(page.get_by_role("alert")).to_contain_text("The decision was not saved")
    step(page, "pair-errors")
    page.get_by_label("Different people").check()
    page.get_by_label("Reason").select_option("different_people")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("status")).to_contain_text(f"{title} decided: different people")
    step(page, "decided")
    assert fits_the_screen(page)
    expect(page.locator("li.pair").filter(has_text=title)).to_have_count(0)
