"""Browser tests: a real app on a live server, driven by Playwright through Debian's chromium.

The server is the real app (`databank.create_app`) on a fresh migrated database (a SQLite file, or
PostgreSQL when DATABANK_TEST_DATABASE_URL names a server), served by werkzeug in a thread on
127.0.0.1. Chromium is launched from the system (never downloaded); without it the tests are
skipped, except in CI (CI=true), where a missing chromium fails them.

Helpers for journeys:
- `shot(page, name)`: a numbered screenshot under
  test-output/browser/<database>/<test>/<NN-name>.png;
- `axe_check(page)`: axe-core (bundled with axe-playwright-python, injected locally) fails the test
  on any serious or critical violation;
- `step(page, name)`: both, for each step of a journey;
- `login(page, username)`: the sign-in form, and the second factor when the app asks for one.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from databank.domain import geo
from databank.domain.enums import CONSENTABLE_PURPOSES, NeedSeverity, OrgKind, Purpose, Role
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IntakeRecord, NeedIn, Point
from databank.services.records import consents, people
from databank.services.runtime import Runtime
from tests.factories import identity
from tests.support import app_on, handle_of, postgres_url, scratch_runtime

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]
# One folder per database: the two passes can run at the same time (scripts/test).
OUTPUT = ROOT / "test-output" / "browser" / ("postgresql" if postgres_url() else "sqlite")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS: dict[str, dict[str, Any]] = {
    "mobile": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
# axe impacts that fail a test; "minor" and "moderate" ones are reported in the output only.
BLOCKING_IMPACTS = {"serious", "critical"}
# Organisations of the world, from the shipped policies (policies/orgs/<slug>.cedar).
ORG_SLUGS = ("metropole", "entraide", "habitat-rhone")
# Place Bellecour, Lyon: the exact point an outreach worker recorded.
BELLECOUR = Point(45.75781, 4.83201)
# Made-up sentences that appear nowhere else, to check what a page withholds.
CASE_NOTE = "Sleeps in the porch of the bakery, prefers to be met after 7 pm."
ENCOUNTER_NOTE = "Gave a blanket; asked about the night shelter."


# The identity every person of the world has, but for the tag in the names (tests/factories.py).
BIRTH_DATE = "1987-03-14"


def family_name(tag: str) -> str:
    """The family name of the world's person with this tag (e.g. "JOURNEY")."""
    return f"Family{tag}"


def user(role: Role, slug: str) -> str:
    """The username of the world's user with this role in this organisation."""
    return f"{role.value}@{slug}"


# --- chromium ------------------------------------------------------------------------------------


def chromium_path() -> str | None:
    """Debian's chromium, or the one DATABANK_CHROMIUM names (only that one, when it is set);
    never a browser downloaded by Playwright."""
    chosen = os.environ.get("DATABANK_CHROMIUM")
    for candidate in [chosen] if chosen else ["chromium", "/usr/bin/chromium"]:
        if found := shutil.which(candidate):
            return found
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (marker `browser`)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if chromium_path() is None:
        reason = "no chromium found (apt-get install chromium, or set DATABANK_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


# --- the world -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedCase:
    """A case held by one organisation; `consented_to` lists the orgs the person agreed to."""

    case_id: uuid.UUID
    person_id: uuid.UUID  # the person as the owner's staff see them (its handle)
    owner: str
    point: Point
    consented_to: tuple[str, ...]


@dataclass(frozen=True)
class World:
    org_names: dict[str, str]  # slug -> display name
    shared: SharedCase  # metropole's case, consented to entraide and habitat-rhone
    private: SharedCase  # metropole's case, no consent
    own: SharedCase  # entraide's own case
    journey: SharedCase  # metropole's case, no consent yet: the outreach journey records it
    offline: SharedCase  # metropole's case, no consent: the offline encounter test
    totp_secrets: dict[str, str] = field(default_factory=dict)  # username -> secret, once known
    # username -> the cookies of a session signed in through the form, to sign in again quickly
    sessions: dict[str, list[Any]] = field(default_factory=dict)


@pytest.fixture(scope="session")
def live_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_browser", tmp_path_factory.mktemp("browser"))
    yield runtime
    runtime.dispose()


def _intake(
    session: Any, org: Any, point: Point, tag: str, notes: str, when: datetime
) -> tuple[uuid.UUID, uuid.UUID]:
    actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
    [result] = people.intake(
        session,
        actor,
        Purpose.OUTREACH,
        [
            IntakeRecord(
                identity=identity(given_name=f"Given{tag}", family_name=f"Family{tag}"),
                case=CaseIn(
                    living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE,
                    point=point,
                    notes=notes,
                ),
                needs=(
                    NeedIn(NeedCategory.SHELTER, NeedSeverity.HIGH),
                    NeedIn(NeedCategory.FOOD),
                ),
                encounters=(EncounterIn(occurred_at=when, point=point, notes=ENCOUNTER_NOTE),),
            )
        ],
    )
    assert result.case_id is not None
    return result.case_id, result.person_id


def _seen_by_owner(
    runtime: Runtime, org: Any, made: tuple[uuid.UUID, uuid.UUID]
) -> tuple[uuid.UUID, uuid.UUID]:
    return made[0], handle_of(runtime, org.id, made[1])


@pytest.fixture(scope="session")
def world(live_runtime: Runtime) -> World:
    """Three organisations with their shipped policies, a user of every role in each (password
    PASSWORD), and three cases: one shared by consent, one not, one of the partner's own."""
    bundle = live_runtime.policy.bundle
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    with live_runtime.transaction() as session:
        made = {
            slug: organisations.create_organisation(
                session, slug, bundle.orgs[slug].name, OrgKind(bundle.orgs[slug].kind)
            )
            for slug in ORG_SLUGS
        }
        for slug, org in made.items():
            for role in Role:
                organisations.create_user(
                    session, org, user(role, slug), role.value.replace("_", " "), PASSWORD, [role]
                )
        council, charity = made["metropole"], made["entraide"]
        shared = _intake(session, council, BELLECOUR, "SHARED", CASE_NOTE, when)
        private = _intake(session, council, Point(45.7640, 4.8357), "PRIVATE", CASE_NOTE, when)
        own = _intake(session, charity, Point(45.7484, 4.8467), "OWN", CASE_NOTE, when)
        journey = _intake(session, council, BELLECOUR, "JOURNEY", CASE_NOTE, when)
        offline = _intake(session, council, Point(45.7640, 4.8357), "OFFLINE", CASE_NOTE, when)
        recipients = ("entraide", "habitat-rhone")
        consents.record_consent(
            session,
            Actor(None, council.id, council.kind, frozenset({Role.OUTREACH_WORKER}), "test"),
            Purpose.OUTREACH,
            shared[1],
            ConsentIn(
                purposes=CONSENTABLE_PURPOSES,
                recipient_org_ids=tuple(made[s].id for s in recipients),
            ),
        )
    shared, private, journey, offline = (
        _seen_by_owner(live_runtime, council, c) for c in (shared, private, journey, offline)
    )
    own = _seen_by_owner(live_runtime, charity, own)
    return World(
        org_names={slug: org.name for slug, org in made.items()},
        shared=SharedCase(shared[0], shared[1], "metropole", BELLECOUR, recipients),
        private=SharedCase(private[0], private[1], "metropole", Point(45.7640, 4.8357), ()),
        own=SharedCase(own[0], own[1], "entraide", Point(45.7484, 4.8467), ()),
        journey=SharedCase(journey[0], journey[1], "metropole", BELLECOUR, ()),
        offline=SharedCase(offline[0], offline[1], "metropole", Point(45.7640, 4.8357), ()),
    )


# --- the live server -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(
    live_runtime: Runtime, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    # Not in testing mode, and plain http on the loopback (no secure cookies).
    app = app_on(live_runtime, tmp_path_factory.mktemp("live"), testing=False, cookie_secure=False)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


# --- pages, screenshots, accessibility -----------------------------------------------------------


@pytest.fixture
def viewport() -> str:
    """The default viewport; a test can parametrize `viewport` with "mobile" and/or "desktop"."""
    return "mobile"


# What every page of the app must be served with (databank/web/security.py); checked on each.
CSP_REQUIRED = ("script-src 'self'", "style-src 'self'", "object-src 'none'")


def watch(target: Page, base_url: str, problems: list[str]) -> None:
    """Record in `problems` what breaks the rules on this page: an app page served without the
    strict Content-Security-Policy, a CSP violation (an inline script or style), a JS error."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" or not response.url.startswith(base_url):
            return
        policy = response.headers.get("content-security-policy", "")
        missing = [part for part in CSP_REQUIRED if part not in policy]
        if missing or "unsafe-inline" in policy:
            problems.append(f"CSP header on {response.url}: {policy!r} lacks {missing}")

    target.on("console", on_console)
    target.on("response", on_response)
    target.on("pageerror", lambda error: problems.append(f"JavaScript: {error}"))


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[[str], Page]]:
    """`new_page(viewport)`: a page in a fresh browser context (its own cookies: another user) on
    the live server. Fails the test if a page comes without the strict Content-Security-Policy,
    breaks it (an inline script or style) or throws a JavaScript error (see `watch`)."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def make(viewport: str = "mobile") -> Page:
        context = browser.new_context(base_url=live_server, locale="en-GB", **VIEWPORTS[viewport])
        context.set_default_timeout(10_000)
        contexts.append(context)
        created = context.new_page()
        watch(created, live_server, problems)
        return created

    yield make
    for context in contexts:
        context.close()
    assert not problems, "the pages reported errors:\n" + "\n".join(problems)


@pytest.fixture
def page(new_page: Callable[[str], Page], viewport: str) -> Page:
    """The test's page, at the `viewport` size (mobile unless the test parametrizes it)."""
    return new_page(viewport)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """`shot(page, name)`: a full-page screenshot
    test-output/browser/<database>/<test>/<NN-name>.png."""
    folder = OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    if folder.exists():
        shutil.rmtree(folder)
    counter = iter(range(1, 100))

    def take(target: Page, name: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()
        path = folder / f"{next(counter):02d}-{slug}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(path), full_page=True)
        return path

    return take


def axe_violations(target: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (axe.min.js ships with axe-playwright-python and
    is injected through the DevTools protocol, so the page's CSP does not block it)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(target)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {target}: {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def axe_check(target: Page) -> None:
    """Fail on any serious or critical axe violation on the page as it is now."""
    blocking = [v for v in axe_violations(target) if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"accessibility violations on {target.url}:\n" + describe_violations(
        blocking
    )


@pytest.fixture
def step(shot: Callable[[Page, str], Path]) -> Callable[[Page, str], None]:
    """`step(page, name)`: a screenshot of the step, then the accessibility scan of the page."""

    def run(target: Page, name: str) -> None:
        target.wait_for_load_state("load")
        shot(target, name)
        axe_check(target)

    return run


# --- signing in ----------------------------------------------------------------------------------

# The second factor, in one place: the pages and field names of the sign-in flow.
TOTP_SETUP_PATH = "/account/2fa/setup"
TOTP_LOGIN_PATH = "/login/2fa"
TOTP_SECRET_SELECTOR = "#totp-secret"
TOTP_FIELD = "code"
RECOVERY_CODES_SELECTOR = "#recovery-codes"
_last_step: dict[str, int] = {}


def totp_code(username: str, secret: str) -> str:
    """A fresh code for this user, never one of a time step already used (a replayed code is
    refused). The app accepts the codes of the steps either side of now (clock drift), so when
    this step's code was used, the next step's code is given; only when that one was used too does
    it wait for the next 30-second step."""
    totp = pyotp.TOTP(secret)
    step_now = int(time.time()) // totp.interval
    used = _last_step.get(username)
    chosen = step_now if used is None or used < step_now else used + 1
    if chosen > step_now + 1:
        time.sleep(totp.interval - time.time() % totp.interval + 0.1)
        chosen = int(time.time()) // totp.interval + 1
    _last_step[username] = chosen
    return totp.at(chosen * totp.interval)


def _submit_code(target: Page, username: str, secret: str) -> None:
    field = target.locator(f"input[name='{TOTP_FIELD}']")
    field.fill(totp_code(username, secret))
    target.locator(f"form:has(input[name='{TOTP_FIELD}']) [type='submit']").first.click()
    target.wait_for_load_state("load")


def login(
    target: Page,
    world: World,
    username: str,
    password: str = PASSWORD,
    on_step: Callable[[Page, str], None] | None = None,
) -> None:
    """Sign in through the form; enrol in or answer the second factor when the app asks.

    `on_step(page, name)` is called on each page of the flow (e.g. `step`, for screenshots and the
    accessibility scan). A TOTP secret shown at enrolment is kept in `world.totp_secrets`.

    Without `on_step`, a user who already signed in through the form in this run gets that
    session's cookies back (as a second tab would), if the app still takes them: each fresh
    sign-in of a 2FA user spends a 30-second TOTP step, and the suite must stay fast. With
    `on_step`, or when the session is gone (signed out), it goes through the form.
    """
    if on_step is None and _resume(target, world, username):
        return
    target.goto("/login")
    if on_step:
        on_step(target, "sign-in")
    target.get_by_label("Username").fill(username)
    target.get_by_label("Password").fill(password)
    target.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    target.wait_for_load_state("load")
    path = urlparse(target.url).path
    if path.startswith(TOTP_SETUP_PATH):
        if on_step:
            on_step(target, "2fa-setup")
        secret = target.locator(TOTP_SECRET_SELECTOR).inner_text().replace(" ", "").strip()
        world.totp_secrets[username] = secret
        _submit_code(target, username, secret)
        # Enrolment ends on the recovery codes, shown once, then "Continue".
        if target.locator(RECOVERY_CODES_SELECTOR).count():
            if on_step:
                on_step(target, "recovery-codes")
            target.get_by_role("link", name="Continue").click()
            target.wait_for_load_state("load")
    elif path.startswith(TOTP_LOGIN_PATH):
        if on_step:
            on_step(target, "2fa-code")
        known = world.totp_secrets.get(username)
        assert known is not None, f"{username} has a second factor the tests do not know"
        _submit_code(target, username, known)
    landed = urlparse(target.url).path
    assert not landed.startswith(("/login", TOTP_SETUP_PATH)), f"{username} could not sign in"
    world.sessions[username] = target.context.cookies()


def _resume(target: Page, world: World, username: str) -> bool:
    """Reuse the session of an earlier sign-in of this user; False if there is none (any more)."""
    cookies = world.sessions.get(username)
    if not cookies:
        return False
    target.context.add_cookies(cookies)
    target.goto("/")
    if urlparse(target.url).path.startswith("/login"):
        target.context.clear_cookies()
        del world.sessions[username]
        return False
    return True


def district_of(point: Point) -> str:
    """The 5-character geohash (about 5 km) that a district-level release shows."""
    return geo.encode(point.lat, point.lon, 5)
