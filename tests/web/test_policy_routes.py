"""Every data-returning route, for every role of every org, against every org's cases: no field
the policy withholds appears in any response, a location is never finer than released, and a
person's identifiers (names, birth date, phone) show only to their own org's staff, the one
exception being the phone of a person referred to a partner, on its referrals received, where the
owner's policy releases the contact (with the person's consent).

Each case and each person's identity carries sentinel values, one per field, that appear nowhere
else; the expected release comes from the same policy engine the app uses. A route missing from
ROUTES fails the test.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from babel import dates as babel_dates
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain import geo
from databank.domain.enums import (
    CONSENTABLE_PURPOSES,
    NeedSeverity,
    NeedStatus,
    OrgKind,
    Purpose,
    Role,
)
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import Need
from databank.policy import CaseFacts, Principal, Situation
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import (
    CaseIn,
    ConsentIn,
    EncounterIn,
    IdentityIn,
    IntakeRecord,
    NeedIn,
    Point,
)
from databank.services.records import cases, consents, identity_changes, lifecycle, people
from databank.services.records.cases import CASE_FIELDS
from databank.services.runtime import Runtime
from tests.factories import identity
from tests.support import app_on, handle_of, scratch_runtime
from tests.web.conftest import PASSWORD, login

# The person of each seeded case as each org's pages address them: the outreach pages take a
# person's handle, which differs from org to org (the handle an org sees of a person it never
# registered is the one it could try; its pages must still show it nothing).
PERSON_OF: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
# Endpoints that return data, with the paths to fetch for a case id, as seen from an org (slug).
# A new endpoint must be added here (with what it may show) or the coverage test below fails.
# A route with a purpose of its own reads for that purpose, whatever the session declared.
ROUTES: dict[str, tuple[Callable[[uuid.UUID, str], list[str]], Purpose | None]] = {
    "pages.home": (lambda case_id, viewer: ["/"], None),
    "pages.case": (lambda case_id, viewer: [f"/cases/{case_id}"], None),
    "pages.org_policy": (lambda case_id, viewer: ["/organisation/policy"], None),
    "referrals.received": (lambda case_id, viewer: ["/referrals"], None),
    "referrals.sent": (lambda case_id, viewer: ["/referrals/sent"], None),
    "pages.emergency_case": (
        lambda case_id, viewer: [f"/cases/{case_id}/emergency"],
        Purpose.VITAL_INTEREST,
    ),
    "api.read_case": (lambda case_id, viewer: [f"/api/v1/cases/{case_id}"], None),
    "api.list_cases": (
        lambda case_id, viewer: ["/api/v1/cases", "/api/v1/cases?own_only=true"],
        None,
    ),
    "api.referrals_received": (lambda case_id, viewer: ["/api/v1/referrals/received"], None),
    "api.referrals_sent": (lambda case_id, viewer: ["/api/v1/referrals/sent"], None),
    "outreach.index": (lambda case_id, viewer: ["/outreach/"], None),
    "outreach.person": (
        lambda case_id, viewer: [f"/outreach/people/{PERSON_OF[(case_id, viewer)]}"],
        None,
    ),
    "outreach.consent": (
        lambda case_id, viewer: [f"/outreach/people/{PERSON_OF[(case_id, viewer)]}/consent"],
        None,
    ),
    # Outreach forms: no case field, but the own org's name of the person (people.read_identity).
    "outreach.encounter": (
        lambda case_id, viewer: [f"/outreach/cases/{case_id}/encounters/new"],
        None,
    ),
    "outreach.refer": (lambda case_id, viewer: [f"/outreach/cases/{case_id}/refer"], None),
    # An org's own records of a person (duplicates to merge): its own names of them only.
    "records.duplicates": (lambda case_id, viewer: ["/records/duplicates"], None),
    "records.person_records": (
        lambda case_id, viewer: [f"/people/{PERSON_OF[(case_id, viewer)]}/records"],
        None,
    ),
    "api.list_duplicates": (lambda case_id, viewer: ["/api/v1/people/duplicates"], None),
    "api.list_records": (
        lambda case_id, viewer: [f"/api/v1/people/{PERSON_OF[(case_id, viewer)]}/records"],
        None,
    ),
    # A case's changes (each only where its field is released) and an identity's corrections.
    "api.case_history": (lambda case_id, viewer: [f"/api/v1/cases/{case_id}/history"], None),
    "api.identity_history": (
        lambda case_id, viewer: [f"/api/v1/people/{PERSON_OF[(case_id, viewer)]}/identity/history"],
        None,
    ),
    "lifecycle.identity": (
        lambda case_id, viewer: [f"/people/{PERSON_OF[(case_id, viewer)]}/identity"],
        None,
    ),
}
# Lists whose lines show each case's released fields (living situation, needs...): the seeded
# cases share these fields' sentinel values (closed vocabularies), so a case's withheld values are
# looked for in its own line and outside every line, not in another case's line, which may show
# the same code released.
LISTS = {"pages.home", "api.list_cases"}
# The routes that show how to reach the person of a referral received: the person's phone where
# the owner's policy releases the contact to the partner the case is referred to.
REFERRAL_CONTACT_ROUTES = frozenset({"referrals.received", "api.referrals_received"})
# Each consenting seeded case is referred to the next organisation (in slug order) for this.
REFERRAL_PURPOSE = Purpose.CASE_MANAGEMENT
# Endpoints that return no case data (health check, sign-in forms, static files, form posts).
NO_DATA = {
    "pages.healthz",
    "auth.login",
    "auth.logout",
    "auth.choose_purpose",
    "i18n.switch_language",
    "pages.break_glass",
    # Statistics: released aggregates only (disclosure rules, differential privacy for ad-hoc
    # tables), never a case; their own tests are tests/web/test_statistics_pages.py.
    "statistics.dashboard",
    "statistics.tables",
    "statistics.release",
    "statistics.export_published",
    "statistics.export_release",
    "statistics.plotly_js",
    "stats_report.report",
    "stats_report.report_pdf_file",
    "api.stats_tables",
    "api.stats_table",
    "api.stats_budget",
    "api.stats_preview",
    "api.stats_adhoc",
    "api.stats_release",
    "api.stats_flows",
    "api.stats_medians",
    "api.stats_report",
    "static",
    # The auditor console shows access-log metadata only, never case content.
    "audit.index",
    "audit.person",
    "audit_people.find",
    "audit_people.report",
    "audit.alerts_page",
    "audit.review_alert",
    "audit.log_status",
    "audit.export_csv",
    "audit.export_jsonl",
    "audit.find_person",
    "audit.export_person_csv",
    "audit.export_person_jsonl",
    "audit.api_entries",
    "audit.api_person_history",
    "audit.api_person_export",
    "audit.api_alerts",
    "audit.api_review_alert",
    "audit.api_status",
    "audit.api_export",
    # The linkage review queue: evidence in words and the reviewer's own org's handles, never case
    # content (tests/web/test_linkage_review.py, tests/api/test_linkage.py check its answers).
    *("linkage.reviews", "linkage.pair"),
    *("api.list_reviews", "api.get_review", "api.decide_review", "api.pool_status"),
    # Accounts: sign-in steps, the user's own account, their org's staff list (no case data).
    # The outreach pages' service worker and the page shells it keeps: drawn for no person
    # (tests/web/test_outreach_offline.py checks they hold no name, case or key).
    *("outreach_offline.worker", "outreach_offline.start_shell"),
    *("outreach_offline.encounter_shell", "outreach_offline.register_shell"),
    *("auth.second_factor", "auth.invitation", "auth.old_invitation", "admin.users"),
    *("admin.invite", "admin.deactivate", "admin.reactivate"),
    *("admin.reset_two_factor", "account.security", "account.setup_two_factor"),
    *("account.disable_two_factor", "account.recovery_codes", "account.change_password"),
    # The API's writes (POST/PUT/DELETE: the walk GETs), its vocabularies, directory and docs;
    # consents hold purposes and organisation ids only, none of a case's fields.
    "api.me",
    "api.purposes",
    "api.switch_purpose",
    "api.orgs",
    "api.search_people",
    "api.create_person",
    "api.list_consents",
    "api.record_consent",
    "api.revoke_consent",
    "api.record_encounter",
    "api.refer_case",
    # The referral workflow's steps (POST): they answer with the referral's status and dates.
    *("api.accept_referral", "api.decline_referral", "api.referral_outcome"),
    *("api.withdraw_referral", "referrals.accept", "referrals.decline", "referrals.outcome"),
    "referrals.withdraw",
    "api.close_case",
    "api.merge_records",
    "api.reopen_case",
    "api.update_living_situation",
    "api.change_need",
    "api.correct_identity",
    # The case page's lifecycle forms (POST): they answer with the case page, walked above.
    *("lifecycle.living_situation", "lifecycle.need", "lifecycle.close", "lifecycle.reopen"),
    "api.openapi_json",
    "api.docs",
    "tokens.index",
    "tokens.create",
    "tokens.revoke",
    # Outreach forms that show no person: registration, and opening a case (a POST).
    "outreach.register",
    "outreach.open_case",
}
PURPOSES = [
    Purpose.OUTREACH,
    Purpose.CASE_MANAGEMENT,
    Purpose.HOUSING_ALLOCATION,
    Purpose.FOOD_AID,
    Purpose.VITAL_INTEREST,
    Purpose.ENFORCEMENT,
]
ROLES = [
    Role.OUTREACH_WORKER,
    Role.HOUSING_OFFICER,
    Role.AUDITOR,
    Role.ORG_ADMIN,
    Role.BREAK_GLASS_RESPONDER,
]
# Ten points 6.6 km apart, each in its own district cell (so a district shown for one case is not
# another's), with geohashes holding letters outside hex so they cannot occur inside a UUID.
POINTS = [Point(45.50 + 0.06 * i, 4.85) for i in range(10)]


@dataclass(frozen=True)
class SeededCase:
    id: uuid.UUID
    owner: str
    owner_kind: str
    consent: bool  # consented to every other org for every purpose
    sentinels: dict[str, list[str]]
    point: Point
    # The person's identifiers as the owner recorded them, by the policy field that holds them.
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    born: date | None = None
    referred_to: str | None = None  # the org it is referred to (REFERRAL_PURPOSE), if any

    def referred(self, slug: str, purpose: Purpose) -> bool:
        return self.referred_to == slug and purpose is REFERRAL_PURPOSE


@dataclass(frozen=True)
class World:
    cases: list[SeededCase]
    slugs: dict[str, str]  # slug -> kind


@pytest.fixture(scope="module")
def world_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_routes", tmp_path_factory.mktemp("routes"))
    yield runtime
    runtime.dispose()


def _changes(
    session: Session, actor: Actor, case_id: uuid.UUID, person_id: uuid.UUID, tag: str
) -> None:
    """Each case's history holds its sentinels: the living situation it left (ETHOS 13), its
    needs' status changes (education, addiction); the identity's corrections hold the alias
    it replaced."""
    lifecycle.update_living_situation(
        session, actor, Purpose.OUTREACH, case_id, EthosCategory.ETHOS_12_UNFIT_HOUSING
    )
    for need in session.scalars(select(Need).where(Need.case_id == case_id)):
        lifecycle.change_need(
            session, actor, Purpose.OUTREACH, case_id, need.id, NeedStatus.IN_PROGRESS
        )
    identity_changes.correct_identity(
        session,
        actor,
        Purpose.OUTREACH,
        person_id,
        identity_changes.IdentityCorrection(aliases=[f"Alias{tag}", f"Alias{tag}-Two"]),
    )


@pytest.fixture(scope="module")
def world(world_runtime: Runtime) -> World:
    bundle = world_runtime.policy.bundle
    slugs = {slug: meta.kind for slug, meta in bundle.orgs.items()}
    seeded: list[SeededCase] = []
    with world_runtime.transaction() as session:
        made = {
            slug: organisations.create_organisation(session, slug, meta.name, OrgKind(meta.kind))
            for slug, meta in sorted(bundle.orgs.items())
        }
        for slug, org in made.items():
            for role in ROLES:
                organisations.create_user(
                    session, org, f"{role.value}@{slug}", role.value, PASSWORD, [role]
                )
        order = sorted(made)
        for n, (slug, org) in enumerate(sorted(made.items())):
            receiver = order[(n + 1) % len(order)]
            actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
            for consent in (False, True):
                tag = f"{slug[:4].upper()}{int(consent)}"
                point = POINTS[2 * n + int(consent)]
                note, enc_note = f"CASENOTE-{tag}", f"ENCNOTE-{tag}"
                when = datetime(2026, 2, 3 + n, 4, 5 + int(consent), tzinfo=UTC)
                person = identity(
                    given_name=f"Given{tag}",
                    family_name=f"Family{tag}",
                    aliases=(f"Alias{tag}",),
                    birth_place=f"Place{tag}",
                    birth_date=date(1931 + 2 * n + int(consent), 1 + n, 11 + int(consent)),
                    phone=f"+33 6 77 {n:02d} {int(consent)}9 31",
                )
                [result] = people.intake(
                    session,
                    actor,
                    Purpose.OUTREACH,
                    [
                        IntakeRecord(
                            identity=person,
                            case=CaseIn(
                                living_situation=EthosCategory.ETHOS_13_OVERCROWDING,
                                point=point,
                                notes=note,
                            ),
                            needs=(
                                NeedIn(NeedCategory.EDUCATION_TRAINING),
                                NeedIn(NeedCategory.ADDICTION, NeedSeverity.HIGH),
                            ),
                            encounters=(
                                EncounterIn(occurred_at=when, point=point, notes=enc_note),
                            ),
                        )
                    ],
                )
                assert result.case_id is not None
                _changes(session, actor, result.case_id, result.person_id, tag)
                if consent:
                    consents.record_consent(
                        session,
                        actor,
                        Purpose.OUTREACH,
                        result.person_id,
                        ConsentIn(
                            purposes=CONSENTABLE_PURPOSES,
                            recipient_org_ids=tuple(o.id for o in made.values() if o is not org),
                        ),
                    )
                assert result.case_id is not None
                if consent:  # the reason for the referral is a sentinel of the "referrals" field
                    cases.refer(
                        session,
                        actor,
                        Purpose.OUTREACH,
                        result.case_id,
                        made[receiver].id,
                        REFERRAL_PURPOSE,
                        None,
                        f"REFNOTE-{tag}",
                    )
                for viewer, viewer_org in made.items():
                    handle = handle_of(session, viewer_org.id, result.person_id)
                    PERSON_OF[(result.case_id, viewer)] = handle
                seeded.append(
                    SeededCase(
                        id=result.case_id,
                        owner=slug,
                        owner_kind=org.kind.value,
                        consent=consent,
                        point=point,
                        identifiers=_identifiers(person),
                        born=person.birth_date,
                        referred_to=receiver if consent else None,
                        sentinels={
                            "referrals": [f"REFNOTE-{tag}"],
                            "notes": [note, enc_note],
                            "living_situation": ["ethos_13_overcrowding", "ethos_12_unfit_housing"],
                            "needs": ["education_training"],
                            "health": ["addiction"],
                            "encounters": [when.strftime("%Y-%m-%d %H:%M")],
                        },
                    )
                )
    return World(seeded, slugs)


@pytest.fixture(scope="module")
def app(world_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = app_on(world_runtime, tmp_path_factory.mktemp("app"))
    return app


def test_every_data_route_is_covered(app: Flask) -> None:
    """A new route must declare what it may show, or this test fails."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTES) - NO_DATA == set()


WORDS_LOCALES = ("en_GB", "en_US", "fr")


def _in_words(day: date | None, locale: str) -> str:
    assert day is not None
    return str(babel_dates.format_date(day, "medium", locale=locale))


def _identifiers(person: IdentityIn) -> dict[str, list[str]]:
    """A person's identifiers as a page could show them (a birth date in words or in digits)."""
    born = person.birth_date
    shown = {born.isoformat(), born.strftime("%d/%m/%Y")}
    shown |= {_in_words(born, locale) for locale in WORDS_LOCALES}
    names = [person.given_name, person.family_name, *person.aliases]
    assert person.birth_place is not None
    assert person.phone is not None
    return {"identity": [*names, person.birth_place, *sorted(shown)], "contact": [person.phone]}


def _forbidden_identifiers(
    runtime: Runtime,
    slug: str,
    kind: str,
    role: Role,
    case: SeededCase,
    purpose: Purpose,
    endpoint: str,
) -> list[str]:
    """A person's identifiers show only to their own org's staff, where its policy releases
    them: never to another org, whatever that org's policy would release (a partner's case is
    shown by a reference). One exception: the phone, on the referrals received by the partner a
    case is referred to, where the owner's policy releases the contact to it."""
    principal = Principal("u", slug, kind, frozenset({role.value}))
    facts = CaseFacts(case.owner, case.owner_kind)
    if slug != case.owner:
        hidden = dict(case.identifiers)
        if endpoint in REFERRAL_CONTACT_ROUTES and case.referred(slug, purpose):
            situation = Situation(purpose.value, consent=case.consent, referred=True)
            if runtime.policy.release(principal, "read", facts, situation, ("contact",)).allowed:
                del hidden["contact"]
        return [t for ts in hidden.values() for t in ts]
    release = runtime.policy.release(
        principal, "read", facts, Situation(purpose.value), tuple(case.identifiers)
    )
    return [t for f, ts in case.identifiers.items() if f not in release.allowed for t in ts]


def _forbidden_texts(
    runtime: Runtime, slug: str, kind: str, role: Role, case: SeededCase, purpose: Purpose
) -> list[str]:
    """What must not appear for this principal: withheld fields' sentinels, finer locations."""
    engine = runtime.policy
    principal = Principal("u", slug, kind, frozenset({role.value}))
    facts = CaseFacts(case.owner, case.owner_kind)
    own = slug == case.owner
    situation = Situation(
        purpose.value,
        consent=case.consent and not own,
        referred=not own and case.referred(slug, purpose),
    )
    release = engine.release(principal, "read", facts, situation, CASE_FIELDS)
    texts = [t for f, ts in case.sentinels.items() if f not in release.allowed for t in ts]
    level = release.location_level
    p = case.point
    if level < 4:
        texts += [f"{p.lat:.5f}", f"{p.lon:.5f}", f"{p.lat:.6f}"]
    if level < 3:
        texts.append(geo.encode(p.lat, p.lon, 7))
        texts.append(geo.encode(p.lat, p.lon, 6))
    if level < 2:
        texts.append(geo.encode(p.lat, p.lon, 5))
    return texts


@dataclass
class Leaks:
    """What one (role, purpose) walk found where it must not be, by kind."""

    case_fields: list[tuple[object, ...]] = field(default_factory=list)
    identifiers: list[tuple[object, ...]] = field(default_factory=list)


# One walk per (role, purpose), shared by the tests below (GETs change no page).
WALKS: dict[tuple[Role, Purpose], Leaks] = {}


def _lines(body: str, case_ids: list[str]) -> tuple[dict[str, str], str]:
    """A list's lines by case id (an API list's objects, a page's table rows), and the rest."""
    if body.lstrip().startswith("{"):
        data = json.loads(body)
        items = data.pop("cases", [])
        lines: dict[str, str] = {}
        for item in items:
            lines[str(item["id"])] = lines.get(str(item["id"]), "") + json.dumps(item)
        return lines, json.dumps(data)
    rest, lines = [], {}
    for number, chunk in enumerate(body.split("<tr")):
        owner = next((i for i in case_ids if f"/cases/{i}" in chunk), None) if number else None
        if owner is None:
            rest.append(chunk)
        else:
            lines[owner] = lines.get(owner, "") + chunk
    return lines, "<tr".join(rest)


def _walk(app: Flask, world: World, runtime: Runtime, role: Role, purpose: Purpose) -> Leaks:
    """Every route for every case, signed in as `role` of each org with `purpose` declared."""
    if (role, purpose) in WALKS:
        return WALKS[(role, purpose)]
    leaks = Leaks()
    for slug, kind in sorted(world.slugs.items()):
        client: FlaskClient = app.test_client()
        assert login(client, f"{role.value}@{slug}") == 302
        with client.session_transaction() as flask_session:
            flask_session["purpose"] = purpose.value
        # A path that is the same for every case (a list, the policy page) is fetched once per
        # session and checked against every case's withheld values: GETs change no page.
        fetched: dict[str, tuple[int, str]] = {}
        case_ids = [str(c.id) for c in world.cases]
        for case in world.cases:
            for endpoint, (paths, route_purpose) in ROUTES.items():
                asked = route_purpose or purpose
                forbidden = _forbidden_texts(runtime, slug, kind, role, case, asked)
                hidden = _forbidden_identifiers(runtime, slug, kind, role, case, asked, endpoint)
                for path in paths(case.id, slug):
                    if path not in fetched:
                        response = client.get(path)
                        fetched[path] = (response.status_code, response.get_data(as_text=True))
                    status, body = fetched[path]
                    # The caseload sends roles without one (auditors) on to their section.
                    landing = (302,) if endpoint == "pages.home" else ()
                    assert status in (200, 403, 404, *landing), (endpoint, path)
                    if endpoint in LISTS and status == 200:
                        lines, rest = _lines(body, case_ids)
                        body = lines.get(str(case.id), "") + rest
                    where = (slug, role.value, purpose.value, case.owner, path)
                    if leaked := [t for t in forbidden if t in body]:
                        leaks.case_fields.append((*where, leaked))
                    if shown := [t for t in hidden if t in body]:
                        leaks.identifiers.append((*where, shown))
    WALKS[(role, purpose)] = leaks
    return leaks


@pytest.mark.parametrize(("role", "purpose"), list(itertools.product(ROLES, PURPOSES)))
def test_no_route_shows_what_the_policy_withholds(
    app: Flask, world: World, world_runtime: Runtime, role: Role, purpose: Purpose
) -> None:
    """Threats 3 and 4: whatever the route, a withheld field or a finer location never shows."""
    assert _walk(app, world, world_runtime, role, purpose).case_fields == []


@pytest.mark.parametrize(("role", "purpose"), list(itertools.product(ROLES, PURPOSES)))
def test_finding13_identifiers_show_only_to_their_own_org(
    app: Flask, world: World, world_runtime: Runtime, role: Role, purpose: Purpose
) -> None:
    """Whatever the route, a person's names, aliases, birth date, birth place and phone show
    only to the staff of the org that recorded them, where its policy releases them: never to
    another org, even one its policy would release them to; but the phone of a person referred
    to a partner, on its referrals received, where the owner's policy releases the contact."""
    assert _walk(app, world, world_runtime, role, purpose).identifiers == []


def test_finding13_the_walk_looks_for_identifiers_as_pages_show_them(
    app: Flask, world: World
) -> None:
    """The identifiers the walk looks for are the very texts the owner's person page shows
    (names, birth date in words, phone): the walk cannot pass by looking for the wrong text."""
    case = world.cases[0]
    client = app.test_client()
    assert login(client, f"{Role.OUTREACH_WORKER.value}@{case.owner}") == 302
    page = client.get(f"/outreach/people/{PERSON_OF[(case.id, case.owner)]}").get_data(as_text=True)
    given, family = case.identifiers["identity"][:2]
    for text in (given, family, *case.identifiers["contact"]):
        assert text in page
    assert any(_in_words(case.born, locale) in page for locale in WORDS_LOCALES)


def test_the_walk_meets_a_referral_whose_reason_and_phone_are_released(
    app: Flask, world: World
) -> None:
    """The walk's one exception is exercised, not assumed: Entraide's policy releases the
    reason and the phone of its consenting case to the partner it referred the case to, on the
    partner's referrals received, and nothing else of the person's identity."""
    [case] = [c for c in world.cases if c.owner == "entraide" and c.consent]
    assert case.referred_to == "habitat-rhone"
    client = app.test_client()
    assert login(client, f"{Role.HOUSING_OFFICER.value}@habitat-rhone") == 302
    with client.session_transaction() as flask_session:
        flask_session["purpose"] = REFERRAL_PURPOSE.value
    page = client.get("/referrals").get_data(as_text=True)
    assert case.sentinels["referrals"][0] in page
    assert case.identifiers["contact"][0] in page
    assert not [t for t in case.identifiers["identity"] if t in page]
