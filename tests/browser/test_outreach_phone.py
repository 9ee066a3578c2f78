"""The outreach worker's phone (issue 17, points 2 and 5), at 360x740, in English and French.

Each test is one short journey of a Métropole street worker on people of its own: the header's
share of the screen and a language switch that keeps the form; a known person registered again
lands on their file, whose open needs the encounter form starts with; a consent and a referral
sent with the connection cut (the referral's answer lost mid-submit) are recorded once; a page
opened without signal shows its shell with the recent contacts; a lost session keeps what was
typed until the worker has signed in again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from databank.domain.enums import Role
from databank.models import Case, Consent, Encounter, Organisation, Referral
from databank.services.runtime import Runtime
from tests.browser.conftest import (
    BIRTH_DATE,
    CASE_NOTE,
    ENCOUNTER_NOTE,
    PASSWORD,
    VIEWPORTS,
    World,
    _intake,
    family_name,
    login,
    user,
)
from tests.browser.test_outreach import Step, nothing_in_clear
from tests.support import handle_of

WORKER = user(Role.OUTREACH_WORKER, "metropole")
SCREEN_HEIGHT = VIEWPORTS["mobile"]["viewport"]["height"]
TAGS = ("KNOWN", "LANG", "SENDONCE", "SHELL", "SESSION")
TYPED = "Waiting by the north exit; will come back at six."


@dataclass(frozen=True)
class Person:
    case_id: uuid.UUID
    handle: uuid.UUID  # Métropole's handle of the person


@pytest.fixture(scope="module")
def street(live_runtime: Runtime, world: World) -> dict[str, Person]:
    """Métropole's people of this module, each registered with shelter (high), food, and an
    encounter two days ago."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    with live_runtime.transaction() as session:
        council = session.scalars(
            select(Organisation).where(Organisation.slug == "metropole")
        ).one()
        made = {
            tag: _intake(session, council, world.private.point, tag, CASE_NOTE, when)
            for tag in TAGS
        }
    return {
        tag: Person(case_id, handle_of(live_runtime, council.id, person_id))
        for tag, (case_id, person_id) in made.items()
    }


def _count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _bars_height(page: Page) -> float:
    """How far down the header and the purpose bar reach, in CSS pixels, scrolled to the top, on
    a page as wide as the screen (a wider page would be shown zoomed out, the bars with it)."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width == [VIEWPORTS["mobile"]["viewport"]["width"]] * 2, f"page wider: {width}"
    page.evaluate("() => window.scrollTo(0, 0)")
    bottom: float = page.evaluate(
        """() => Math.max(...['.site-header', '.purpose-bar'].map(
            (s) => document.querySelector(s).getBoundingClientRect().bottom))"""
    )
    return bottom


def _french(page: Page) -> None:
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_the_worker_lands_on_the_street_and_the_bars_take_a_quarter_at_most(
    page: Page, world: World, street: dict[str, Person], step: Step
) -> None:
    """Signed in, the worker is on the street screen; header and purpose bar take at most a
    quarter of the screen, in English and in French; switching language keeps the form."""
    login(page, world, WORKER, on_step=lambda _page, _name: None)  # through the form
    assert urlparse(page.url).path == "/outreach/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Street work")
    assert _bars_height(page) <= SCREEN_HEIGHT / 4
    step(page, "street screen")

    # A search's results open in view (below the search form, on a phone's screen).
    page.get_by_label("Family name").fill(family_name("LANG"))
    page.get_by_label("Date of birth").fill(BIRTH_DATE)
    page.get_by_role("button", name="Find", exact=True).click()
    results = page.get_by_role("heading", name="Search results")
    expect(results).to_be_in_viewport()
    scrolled, wanted = page.evaluate(
        """() => {
            const top = document.getElementById('results-title').getBoundingClientRect().top;
            const most = document.documentElement.scrollHeight - window.innerHeight;
            return [window.scrollY, Math.min(most, window.scrollY + top)];
        }"""
    )
    assert wanted > 0
    assert abs(scrolled - wanted) <= 2, "the answer did not open at its results"
    expect(page.get_by_role("region", name="Search results")).to_contain_text(family_name("LANG"))

    # The recent contacts offer a new encounter in one tap.
    person = street["LANG"]
    page.goto("/outreach/")
    page.get_by_role("link", name=f"New encounter with GivenLANG {family_name('LANG')}").click()
    page.wait_for_url(re.compile(f"/outreach/cases/{person.case_id}/encounters/new$"))
    page.get_by_label("Short note (optional)").fill(TYPED)
    page.get_by_role("group", name=re.compile("^Needs")).get_by_role(
        "checkbox", name="Hygiene", exact=True
    ).check()
    assert _bars_height(page) <= SCREEN_HEIGHT / 4
    _french(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrer une rencontre")
    expect(page.get_by_label("Courte note (facultatif)")).to_have_value(TYPED)
    expect(
        page.get_by_role("group", name=re.compile("^Besoins")).get_by_role(
            "checkbox", name="Hygiène", exact=True
        )
    ).to_be_checked()
    expect(page.locator("[data-send-status]")).to_contain_text("Ce que vous aviez saisi")
    assert _bars_height(page) <= SCREEN_HEIGHT / 4
    assert nothing_in_clear(page, TYPED)
    step(page, "french form kept")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_label("Short note (optional)")).to_have_value(TYPED)


def test_a_known_person_registered_again_lands_on_their_file(
    page: Page, live_runtime: Runtime, world: World, street: dict[str, Person], step: Step
) -> None:
    """In French: registering someone already held opens their file (earlier needs and
    encounters there), and the encounter form starts with the open needs ticked."""
    person = street["KNOWN"]
    login(page, world, WORKER)
    page.goto("/outreach/register")
    _french(page)
    page.get_by_label("Prénom").fill("GivenKNOWN")
    page.get_by_label("Nom de famille").fill(family_name("KNOWN"))
    page.get_by_label("Date de naissance").fill(BIRTH_DATE)
    clothing = page.get_by_role("group", name=re.compile("^Besoins")).get_by_role(
        "checkbox", name="Vêtements", exact=True
    )
    clothing.check()
    step(page, "register a known person")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_url(re.compile(f"/outreach/people/{person.handle}$"))
    expect(page.get_by_role("status").filter(has_text="voici son dossier ouvert")).to_be_visible()
    file = page.get_by_role("region", name="Dossier ouvert")
    for seen in ("Vêtements", "Hébergement", ENCOUNTER_NOTE):
        expect(file).to_contain_text(seen)
    step(page, "the existing file")
    with live_runtime.transaction() as session:
        case = session.get(Case, person.case_id)
        assert case is not None
        subject_id = case.subject_id
    assert _count(live_runtime, Case, Case.subject_id == subject_id) == 1  # no second case
    page.get_by_role("link", name="Enregistrer une rencontre").click()
    needs = page.get_by_role("group", name=re.compile("^Besoins"))
    for ticked in ("Hébergement", "Alimentation", "Vêtements"):
        expect(needs.get_by_role("checkbox", name=ticked, exact=True)).to_be_checked()
    expect(page.locator("#severity-shelter")).to_have_value("high")
    step(page, "open needs ticked")


def test_a_consent_and_a_referral_sent_offline_are_recorded_once(
    page: Page, live_runtime: Runtime, world: World, street: dict[str, Person], step: Step
) -> None:
    """The consent is sent with no connection, then when it is back; the referral's answer is
    lost mid-submit (the server saved it), and its resend counts once."""
    person = street["SENDONCE"]
    partner = world.org_names["entraide"]
    consents_before = _count(live_runtime, Consent)
    login(page, world, WORKER)
    page.goto(f"/outreach/people/{person.handle}/consent")
    page.get_by_role("group", name="Who may see the file?").get_by_role(
        "checkbox", name=partner, exact=True
    ).check()
    page.get_by_role("group", name="What for?").get_by_role(
        "checkbox", name="Case management", exact=True
    ).check()
    page.context.set_offline(True)
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("[data-send-status]")).to_contain_text("Not saved yet")
    step(page, "consent not saved yet")
    page.context.set_offline(False)
    page.wait_for_url(re.compile(f"/outreach/people/{person.handle}$"), timeout=20_000)
    expect(page.get_by_role("status").filter(has_text="Consent recorded.")).to_be_visible()
    assert _count(live_runtime, Consent) == consents_before + 1

    cut: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if cut:
            route.continue_()
            return
        route.fetch()  # the server receives it and saves...
        cut.append(route.request.url)
        route.abort("internetdisconnected")  # ...but the answer never reaches the phone

    page.route(re.compile(r"/refer$"), lose_the_first_answer)
    page.get_by_role("link", name="Refer to a partner").click()
    page.get_by_role("group", name="Refer to").get_by_role(
        "radio", name=re.compile(re.escape(partner))
    ).check()
    page.get_by_label("What for?").select_option("case_management")
    page.get_by_label("Reason for the referral (optional)").fill(TYPED)
    step(page, "referral form")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(re.compile(f"/outreach/people/{person.handle}$"), timeout=20_000)
    assert cut, "the first answer was not cut"
    expect(page.get_by_role("status").filter(has_text="Already saved.")).to_be_visible()
    assert _count(live_runtime, Referral, Referral.case_id == person.case_id) == 1
    assert nothing_in_clear(page, TYPED)
    step(page, "referral sent once")


def test_a_page_opened_without_signal_shows_its_shell(
    page: Page, live_runtime: Runtime, world: World, street: dict[str, Person], step: Step
) -> None:
    """Without signal, the start page shows the recent contacts (kept encrypted) and a case's
    encounter form an empty form, which is sent once the connection is back."""
    person = street["SHELL"]
    login(page, world, WORKER)
    page.goto("/outreach/")
    page.wait_for_function(
        """async () => (await navigator.serviceWorker.ready) &&
            !!navigator.serviceWorker.controller &&
            !!(await caches.match('/outreach/offline/encounter'))""",
        timeout=20_000,
    )
    expect(page.get_by_role("region", name="Recent contacts")).to_contain_text("GivenSHELL")
    page.wait_for_function("() => !!localStorage.getItem('databank.outreach.contacts')")
    assert nothing_in_clear(page)
    before = _count(live_runtime, Encounter, Encounter.case_id == person.case_id)

    page.context.set_offline(True)
    page.goto("/outreach/")
    expect(page.get_by_role("status").filter(has_text="No connection")).to_be_visible()
    contacts = page.get_by_role("region", name="Recent contacts")
    expect(contacts).to_contain_text(f"GivenSHELL {family_name('SHELL')}")
    step(page, "offline start page")
    page.goto(f"/outreach/cases/{person.case_id}/encounters/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an encounter")
    expect(page.get_by_label("Short note (optional)")).to_have_value("")
    page.get_by_label("Or choose a district").select_option(label="Lyon 7e")
    page.get_by_label("Short note (optional)").fill(TYPED)
    step(page, "offline empty encounter form")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.locator("[data-send-status]")).to_contain_text("Not saved yet")
    kept: str = page.evaluate(
        """async () => {
            const texts = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) {
                    texts.push(await (await cache.match(request)).text());
                }
            }
            return texts.join('\\n');
        }"""
    )
    for personal in ("GivenSHELL", family_name("SHELL"), TYPED, 'name="draft-key" content='):
        assert personal not in kept, f"the service worker keeps {personal!r} in clear"
    page.context.set_offline(False)
    page.wait_for_url(re.compile(f"/outreach/people/{person.handle}$"), timeout=30_000)
    expect(page.get_by_role("main")).to_contain_text("Lyon 7e")
    assert _count(live_runtime, Encounter, Encounter.case_id == person.case_id) == before + 1


def test_a_lost_session_keeps_what_was_typed(
    page: Page, live_runtime: Runtime, world: World, street: dict[str, Person], step: Step
) -> None:
    """In French: the session ends while a form is being filled in; the page says to sign in
    again, and after signing in the form has what was typed, then it is saved once."""
    # (The language is kept in the session: the page after signing in again is in English.)
    person = street["SESSION"]
    login(page, world, WORKER)
    page.goto(f"/outreach/cases/{person.case_id}/encounters/new")
    _french(page)
    page.get_by_label("Ou choisissez un arrondissement").select_option(label="Lyon 3e")
    page.get_by_label("Courte note (facultatif)").fill(TYPED)
    page.context.clear_cookies()  # the session is lost (idle, expired)
    page.get_by_role("button", name="Enregistrer la rencontre").click()
    status = page.locator("[data-send-status]")
    expect(status).to_contain_text("Reconnectez-vous")
    step(page, "signed out while typing")
    before = _count(live_runtime, Encounter, Encounter.case_id == person.case_id)
    page.get_by_role("link", name="Se reconnecter").click()
    # The language was the lost session's: the sign-in page is in the browser's language.
    page.get_by_label("Username").fill(WORKER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(f"/outreach/cases/{person.case_id}/encounters/new$"))
    expect(page.get_by_label("Short note (optional)")).to_have_value(TYPED)
    expect(page.get_by_label("Or choose a district")).to_have_value("lyon-3")
    expect(page.locator("[data-send-status]")).to_contain_text("What you typed before is back")
    step(page, "typed text back after signing in")
    world.sessions[WORKER] = page.context.cookies()
    page.get_by_role("button", name="Save encounter").click()
    page.wait_for_url(re.compile(f"/outreach/people/{person.handle}$"))
    assert page.get_by_role("main").inner_text().count(TYPED) == 1
    assert _count(live_runtime, Encounter, Encounter.case_id == person.case_id) == before + 1
    assert nothing_in_clear(page, TYPED)

    # Signing out: nothing the phone kept outlives it (key, ciphertexts, shells, service worker).
    page.goto("/outreach/")  # the recent contacts are kept, encrypted
    page.wait_for_function("() => !!localStorage.getItem('databank.outreach.contacts')")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/login$"))
    page.wait_for_function(
        """async () => localStorage.length === 0
            && (await indexedDB.databases()).length === 0
            && (await caches.keys()).length === 0
            && (await navigator.serviceWorker.getRegistrations()).length === 0""",
        timeout=10_000,
    )
    del world.sessions[WORKER]  # that session is over
