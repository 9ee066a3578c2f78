"""Web pages: sign-in, caseload with filters, case page and cross-org timeline, referrals
received, statistics placeholder, and the protections around them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from databank.config import DEMO_AREAS_FILE
from databank.domain import geo
from databank.domain.areas import Area
from databank.domain.areas_file import load_areas
from databank.domain.enums import Decision, OrgKind, Purpose, Role
from databank.domain.vocab import EthosCategory, NeedCategory
from databank.models import AuditEntry, Organisation, User
from databank.policy import CaseFacts, Principal, Situation
from databank.services.access.roles import SESSION_PURPOSES
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IntakeRecord, NeedIn, Point
from databank.services.records import cases, consents, people
from databank.services.records.cases import CASE_FIELDS
from databank.services.runtime import Runtime
from databank.web.pages import NEED_CODES
from databank.web.security import CONTENT_SECURITY_POLICY
from tests.factories import identity
from tests.support import logged_about
from tests.web.conftest import PASSWORD, World, csrf, freeze_throttle, login


def test_sign_in_then_see_own_caseload_and_case(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    home = client.get("/").get_data(as_text=True)
    assert str(world.own_case)[:8] in home
    assert str(world.other_case)[:8] not in home
    page = client.get(f"/cases/{world.own_case}").get_data(as_text=True)
    assert "Sleeps rough near Part-Dieu" in page
    assert "shelter" in page


def test_other_orgs_case_is_refused_and_logged(
    client: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """A signed-in user of another org gets no data, and the refusal is in the access log."""
    login(client, "worker")
    response = client.get(f"/cases/{world.other_case}")
    assert response.status_code == 403
    assert "Part-Dieu" not in response.get_data(as_text=True)
    with web_runtime.transaction() as session:
        denied = session.scalars(
            select(AuditEntry.decision).where(
                AuditEntry.event == "access.read", AuditEntry.decision == "deny"
            )
        ).all()
    assert denied


def test_signed_out_users_get_nothing(client: FlaskClient, world: World) -> None:
    for path in ("/", f"/cases/{world.own_case}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_wrong_passwords_are_refused_and_never_lock_the_account(
    app: Flask, client: FlaskClient
) -> None:
    """Wrong passwords are refused; they slow the address that sent them for that account but
    never lock the account, which anyone could then do (finding 6 of the attacker review)."""
    freeze_throttle(app)
    free = app.extensions["databank_throttle"].free
    for _ in range(free):
        response = client.post(
            "/login",
            data={"username": "victim", "password": "wrong password!", "csrf_token": csrf(client)},
        )
        assert response.status_code == 401
        assert "Wrong username or password." in response.get_data(as_text=True)
    assert login(client, "victim") == 302  # not locked: the right password signs in


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    """Cross-site request forgery: a form post without the session's token is a 400."""
    response = client.post("/login", data={"username": "worker", "password": "x" * 20})
    assert response.status_code == 400
    assert csrf(client)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_bad_case_ids_are_404_not_500(client: FlaskClient) -> None:
    login(client, "worker")
    assert client.get("/cases/not-a-uuid").status_code == 404
    assert client.get(f"/cases/{uuid.uuid4()}").status_code == 404


def test_forbidden_purpose_cannot_be_chosen(client: FlaskClient, world: World) -> None:
    login(client, "worker")
    client.post("/purpose", data={"purpose": "enforcement", "csrf_token": csrf(client, "/")})
    page = client.get("/").get_data(as_text=True)
    assert 'data-purpose="outreach"' in page


def test_json_errors_have_one_shape(client: FlaskClient) -> None:
    login(client, "worker")
    response = client.get(f"/cases/{uuid.uuid4()}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}


def test_purpose_switch_is_logged(client: FlaskClient, web_runtime: Runtime) -> None:
    login(client, "worker")
    client.post("/purpose", data={"purpose": "case_management", "csrf_token": csrf(client, "/")})
    assert 'data-purpose="case_management"' in client.get("/").get_data(as_text=True)
    with web_runtime.transaction() as session:
        switches = session.scalars(
            select(AuditEntry.purpose).where(AuditEntry.event == "purpose.switch")
        ).all()
    assert "case_management" in switches


def test_every_other_purpose_is_one_button_away(client: FlaskClient) -> None:
    """Switching purpose is one click: each other purpose the user's roles may declare is a
    submit button of the bar; forbidden purposes and vital interest are never offered, nor, to
    an outreach worker, audit or statistics (finding 8)."""
    login(client, "worker")
    page = client.get("/").get_data(as_text=True)
    offered = set(re.findall(r'<button type="submit" name="purpose" value="([a-z_]+)"', page))
    assert offered == {"case_management", "housing_allocation", "food_aid"}
    assert {p.value for p in SESSION_PURPOSES} - offered == {
        "outreach",  # the current one
        "aggregate_statistics",
        "audit",
    }
    assert not offered & {"enforcement", "immigration_control", "public_order", "vital_interest"}


def test_switching_purpose_comes_back_to_the_page(client: FlaskClient) -> None:
    login(client, "worker")
    token = csrf(client, "/")
    back = client.post(
        "/purpose", data={"purpose": "food_aid", "next": "/referrals", "csrf_token": token}
    )
    assert back.headers["Location"].endswith("/referrals")
    away = client.post(
        "/purpose",
        data={"purpose": "outreach", "next": "https://evil.example/", "csrf_token": token},
    )
    assert "evil" not in away.headers["Location"]


def test_vital_interest_is_not_a_session_purpose(client: FlaskClient) -> None:
    """Vital interest is only reachable through a justified break-glass."""
    login(client, "worker")
    client.post("/purpose", data={"purpose": "vital_interest", "csrf_token": csrf(client, "/")})
    assert 'data-purpose="outreach"' in client.get("/").get_data(as_text=True)


def test_policy_page_is_for_admins_and_auditors(client: FlaskClient) -> None:
    login(client, "worker")
    assert client.get("/organisation/policy").status_code == 403


def test_refused_case_offers_break_glass_only_to_responders(
    client: FlaskClient, world: World
) -> None:
    login(client, "worker")
    page = client.get(f"/cases/{world.other_case}")
    assert page.status_code == 403
    assert "Emergency access" in page.get_data(as_text=True)
    response = client.post(
        f"/cases/{world.other_case}/break-glass",
        data={
            "justification": "Collapsed in the street, unconscious.",
            "csrf_token": csrf(client, "/"),
        },
    )
    assert response.status_code == 403  # an outreach worker is not a break-glass responder


def test_policy_page_shows_what_partners_would_see(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/organisation/policy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "What a partner would see" in text
    assert "tables-du-coeur" in text  # every organisation with a policy is listed as a partner


# --- Housing officer pages: caseload filters, case page, cross-org timeline, referrals ---------

# Two real policies: Métropole (council) shares status, needs, the district and referrals with a
# charity's staff for case management if the person agreed; it never shares a place finer than
# the district, nor notes or encounters. Points at district centroids, so a district filter
# (by district code) can find them.
LYON = load_areas(DEMO_AREAS_FILE)  # the web tests run the demo's deployment
METRO_POINT = LYON.by_code["lyon-3"]  # geohash5 u05kq
ENTRAIDE_POINT = LYON.by_code["lyon-9"]  # geohash5 u05km


@dataclass(frozen=True)
class Pooled:
    metro_case: uuid.UUID  # held by Métropole, consented and referred to Entraide
    entraide_case: uuid.UUID  # the same person at Entraide
    hidden_case: uuid.UUID  # held by Métropole, another person, shared with nobody
    metro_point: Point
    person_id: uuid.UUID
    metro_org: uuid.UUID
    entraide_org: uuid.UUID


def _point(district: Area) -> Point:
    return Point(district.lat, district.lon)


@pytest.fixture(scope="module")
def pooled(web_runtime: Runtime, world: World) -> Pooled:
    with web_runtime.transaction() as session:
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        metro = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        for org, slug in ((entraide, "entraide"), (metro, "metropole")):
            roles = [Role.HOUSING_OFFICER]
            organisations.create_user(session, org, f"officer@{slug}", "Officer", PASSWORD, roles)
        organisations.create_user(
            session, metro, "auditor@metropole", "Aud", PASSWORD, [Role.AUDITOR]
        )
        officer = frozenset({Role.HOUSING_OFFICER})
        metro_actor = Actor(None, metro.id, metro.kind, officer)
        entraide_actor = Actor(None, entraide.id, entraide.kind, officer)
        person = identity(given_name="Pooled", family_name="Personne")

        def record(point: Point, tag: str) -> IntakeRecord:
            when = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
            return IntakeRecord(
                identity=person,
                case=CaseIn(
                    living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE,
                    point=point,
                    notes=f"CASENOTE-{tag}",
                ),
                needs=(NeedIn(NeedCategory.SHELTER),),
                encounters=(EncounterIn(occurred_at=when, point=point, notes=f"ENCNOTE-{tag}"),),
            )

        metro_point = _point(METRO_POINT)
        [at_metro] = people.intake(
            session, metro_actor, Purpose.CASE_MANAGEMENT, [record(metro_point, "METRO")]
        )
        [at_entraide] = people.intake(
            session,
            entraide_actor,
            Purpose.CASE_MANAGEMENT,
            [record(_point(ENTRAIDE_POINT), "ENTRAIDE")],
        )
        assert at_entraide.outcome == "created"  # new to Entraide; the pool is not said
        assert at_entraide.person_id == at_metro.person_id
        [hidden] = people.intake(
            session,
            metro_actor,
            Purpose.CASE_MANAGEMENT,
            [
                IntakeRecord(
                    identity=identity(given_name="Hidden", family_name="Other"),
                    case=CaseIn(
                        living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE, point=metro_point
                    ),
                    needs=(NeedIn(NeedCategory.SHELTER),),
                )
            ],
        )
        shared = ConsentIn(
            purposes=(Purpose.CASE_MANAGEMENT, Purpose.OUTREACH),
            recipient_org_ids=(entraide.id,),
        )
        consents.record_consent(
            session, metro_actor, Purpose.CASE_MANAGEMENT, at_metro.person_id, shared
        )
        back = ConsentIn(purposes=(Purpose.CASE_MANAGEMENT,), recipient_org_ids=(metro.id,))
        consents.record_consent(
            session, entraide_actor, Purpose.CASE_MANAGEMENT, at_entraide.person_id, back
        )
        assert at_metro.case_id is not None
        assert at_entraide.case_id is not None
        assert hidden.case_id is not None
        cases.refer(
            session,
            metro_actor,
            Purpose.CASE_MANAGEMENT,
            at_metro.case_id,
            entraide.id,
            Purpose.CASE_MANAGEMENT,
            need=NeedCategory.SHELTER,
        )
        cases.refer(
            session,
            entraide_actor,
            Purpose.CASE_MANAGEMENT,
            at_entraide.case_id,
            metro.id,
            Purpose.CASE_MANAGEMENT,
        )
    return Pooled(
        at_metro.case_id,
        at_entraide.case_id,
        hidden.case_id,
        metro_point,
        at_metro.person_id,
        metro.id,
        entraide.id,
    )


def _finer_than_district(point: Point) -> list[str]:
    return [
        f"{point.lat:.5f}",
        f"{point.lon:.5f}",
        geo.encode(point.lat, point.lon, 7),
        geo.encode(point.lat, point.lon, 6),
    ]


def _need_code(category: NeedCategory) -> str:
    return next(code for code, c in NEED_CODES.items() if c is category)


def test_caseload_lists_own_and_shared_cases_never_unshared_ones(
    client: FlaskClient, pooled: Pooled
) -> None:
    """A caseload holds the org's own cases and the ones shared with it, under every filter."""
    assert login(client, "officer@entraide") == 302
    shelter = _need_code(NeedCategory.SHELTER)
    queries = [
        "",
        "?status=open",
        f"?need={shelter}",
        "?district=lyon-3",
        "?situation=1",
        "?sort=opened_asc",
        f"?status=open&need={shelter}&district=lyon-3&situation=1&sort=opened_desc&page=1",
    ]
    for query in queries:
        response = client.get("/" + query)
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        assert f"/cases/{pooled.hidden_case}" not in page, query
    home = client.get("/").get_data(as_text=True)
    assert f"/cases/{pooled.metro_case}" in home
    assert f"/cases/{pooled.entraide_case}" in home
    assert "Pooled Personne" in home  # the own org's case shows the name it recorded


def test_caseload_filters_narrow_the_list(client: FlaskClient, pooled: Pooled) -> None:
    login(client, "officer@entraide")
    closed = client.get("/?status=closed").get_data(as_text=True)
    assert f"/cases/{pooled.metro_case}" not in closed
    assert f"/cases/{pooled.entraide_case}" not in closed
    in_lyon3 = client.get("/?district=lyon-3").get_data(as_text=True)
    assert f"/cases/{pooled.metro_case}" in in_lyon3
    assert f"/cases/{pooled.entraide_case}" not in in_lyon3
    food = client.get(f"/?need={_need_code(NeedCategory.FOOD)}").get_data(as_text=True)
    assert f"/cases/{pooled.metro_case}" not in food
    # Métropole does not share the living situation: a filter on it must not reveal it.
    rough = client.get("/?situation=1").get_data(as_text=True)
    assert f"/cases/{pooled.entraide_case}" in rough
    assert f"/cases/{pooled.metro_case}" not in rough


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=maybe", "status"),
        ("need=shelter", "need"),
        ("district=u05kq", "district"),
        ("situation=14", "situation"),
        ("sort=name", "sort"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ],
)
def test_bad_caseload_filters_are_400_naming_the_parameter(
    client: FlaskClient, pooled: Pooled, query: str, parameter: str
) -> None:
    login(client, "officer@entraide")
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<a href="#f-{parameter}">{parameter}</a>' in page
    assert f"/cases/{pooled.entraide_case}" not in page


def test_partner_case_page_shows_the_district_and_withheld_notes(
    client: FlaskClient, pooled: Pooled
) -> None:
    """A partner's housing officer sees what the policy releases: the district, not the point."""
    login(client, "officer@entraide")
    response = client.get(f"/cases/{pooled.metro_case}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert METRO_POINT.cell in page
    for finer in _finer_than_district(pooled.metro_point):
        assert finer not in page
    assert "CASENOTE-METRO" not in page
    assert "ENCNOTE-METRO" not in page
    assert "Pooled" not in page  # Métropole's identity stays with Métropole
    assert "withheld by the policy of Métropole" in page
    assert '<data value="shelter">' in page  # needs are shared


def test_own_case_shows_everything_released_to_the_owner(
    client: FlaskClient, pooled: Pooled
) -> None:
    login(client, "officer@entraide")
    page = client.get(f"/cases/{pooled.entraide_case}").get_data(as_text=True)
    assert "Pooled Personne" in page
    assert "CASENOTE-ENTRAIDE" in page
    assert "ENCNOTE-ENTRAIDE" in page
    assert 'href="/" aria-current="page"' in page  # a case page sits under the caseload


def test_timeline_shows_partner_items_at_the_released_level_only(
    client: FlaskClient, pooled: Pooled, web_runtime: Runtime
) -> None:
    """The cross-org timeline: a partner's case at district level, its withheld parts noted."""
    login(client, "officer@entraide")
    page = client.get(f"/cases/{pooled.entraide_case}").get_data(as_text=True)
    timeline = page[page.index('id="s-timeline"') :]
    assert "Métropole" in timeline
    assert METRO_POINT.cell in timeline
    for finer in _finer_than_district(pooled.metro_point):
        assert finer not in page
    assert "CASENOTE-METRO" not in page
    assert "ENCNOTE-METRO" not in page
    assert "withheld by the policy of Métropole" in timeline
    assert f"/cases/{pooled.metro_case}" in timeline
    with web_runtime.transaction() as session:
        # Each partner case on the timeline is a logged read, partly released.
        logged = session.scalars(
            select(AuditEntry.decision).where(
                AuditEntry.event == "access.read",
                logged_about(session, pooled.person_id),
                AuditEntry.owner_org_id == pooled.metro_org,
                AuditEntry.actor_org_id == pooled.entraide_org,
            )
        ).all()
    assert "partial" in logged


@pytest.fixture(scope="module")
def unshared_case(web_runtime: Runtime, pooled: Pooled) -> uuid.UUID:
    """The pooled person's case at the charity of the first world, which neither Métropole nor
    Entraide share anything with."""
    with web_runtime.transaction() as session:
        charity = session.scalars(select(Organisation).where(Organisation.slug == "charity")).one()
        worker = Actor(None, charity.id, charity.kind, frozenset({Role.OUTREACH_WORKER}))
        [result] = people.intake(
            session,
            worker,
            Purpose.OUTREACH,
            [
                IntakeRecord(
                    identity=identity(given_name="Pooled", family_name="Personne"),
                    case=CaseIn(living_situation=EthosCategory.ETHOS_1_PUBLIC_SPACE),
                )
            ],
        )
    assert result.person_id == pooled.person_id
    assert result.case_id is not None
    return result.case_id


def test_finding13_timeline_is_empty_for_an_org_the_person_shared_nothing_with(
    client: FlaskClient, pooled: Pooled, unshared_case: uuid.UUID, web_runtime: Runtime
) -> None:
    """Without consent or referral to an org, other orgs' cases of the same person never reach
    its timeline, and are not even decided for it (no entry about them is logged): the org's own
    case page says that nothing is shared."""
    login(client, "worker")  # the charity of the first world: nothing shared with it
    before = _last_seq(web_runtime)
    response = client.get(f"/cases/{unshared_case}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    timeline = page[page.index('id="s-timeline"') :]
    assert "Nothing from other organisations is shared with you for this purpose." in timeline
    assert "Métropole" not in timeline
    assert "Entraide" not in timeline
    assert f"/cases/{pooled.metro_case}" not in page
    assert f"/cases/{pooled.entraide_case}" not in page
    with web_runtime.transaction() as session:
        owners = session.scalars(
            select(AuditEntry.owner_org_id).where(
                AuditEntry.seq > before, logged_about(session, pooled.person_id)
            )
        ).all()
    assert owners  # the charity's own case read is logged...
    assert not set(owners) & {pooled.metro_org, pooled.entraide_org}  # ...and nothing else


def _last_seq(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEntry.seq), -1))))


def test_referrals_received_lists_only_referrals_to_the_own_org(
    client: FlaskClient, pooled: Pooled
) -> None:
    login(client, "officer@entraide")
    page = client.get("/referrals").get_data(as_text=True)
    assert f"/cases/{pooled.metro_case}" in page
    assert "Métropole" in page
    assert '<data value="shelter">' in page
    assert f"/cases/{pooled.entraide_case}" not in page  # sent by Entraide, not received
    assert client.get("/referrals?status=declined").get_data(as_text=True).count("/cases/") == 0
    login(client, "officer@metropole")
    page = client.get("/referrals").get_data(as_text=True)
    assert f"/cases/{pooled.entraide_case}" in page
    assert f"/cases/{pooled.metro_case}" not in page


def test_bad_referral_filter_is_400_naming_it(client: FlaskClient, pooled: Pooled) -> None:
    login(client, "officer@entraide")
    response = client.get("/referrals?status=lost")
    assert response.status_code == 400
    assert '<a href="#f-status">status</a>' in response.get_data(as_text=True)


def test_auditors_get_no_case_data_on_officer_pages(client: FlaskClient, pooled: Pooled) -> None:
    login(client, "auditor@metropole")
    page = client.get("/referrals").get_data(as_text=True)
    assert "does not give access to case records" in page
    assert "/cases/" not in page


def test_an_auditor_lands_on_the_console_and_signing_in_writes_no_refusal(
    client: FlaskClient, pooled: Pooled, web_runtime: Runtime
) -> None:
    """Signing in as an auditor leads to the audit console and logs no refused access: the
    caseload, which would only refuse them, is not where an auditor starts."""
    with web_runtime.transaction() as session:
        auditor = session.scalars(select(User).where(User.username == "auditor@metropole")).one()
        auditor_id = auditor.id
        before = session.scalar(select(func.max(AuditEntry.seq))) or 0
    login(client, "auditor@metropole")
    landed = client.get("/", follow_redirects=True)
    assert landed.status_code == 200
    assert landed.request.path == "/audit/"
    with web_runtime.transaction() as session:
        refused = session.scalars(
            select(AuditEntry.event).where(
                AuditEntry.seq > before,
                AuditEntry.actor_user_id == auditor_id,
                AuditEntry.decision == Decision.DENY,
            )
        ).all()
        signed_in = session.scalars(
            select(AuditEntry.event).where(
                AuditEntry.seq > before, AuditEntry.actor_user_id == auditor_id
            )
        ).all()
    assert refused == []
    assert "login" in signed_in  # the test would pass vacuously if nothing were logged


def test_statistics_dashboard_renders_without_case_data(
    client: FlaskClient, pooled: Pooled
) -> None:
    login(client, "officer@entraide")
    response = client.get("/statistics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="people_by_area-table"' in page
    assert "/cases/" not in page
    assert 'href="/statistics" aria-current="page"' in page


def test_every_page_redirects_signed_out_users_to_sign_in(
    client: FlaskClient, pooled: Pooled
) -> None:
    for path in (
        "/",
        "/?status=open",
        f"/cases/{pooled.metro_case}",
        f"/cases/{pooled.metro_case}/emergency",
        "/referrals",
        "/statistics",
        "/organisation/policy",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


def test_caseload_filters_speak_the_users_language(client: FlaskClient, pooled: Pooled) -> None:
    login(client, "officer@entraide")
    client.post("/language", data={"lang": "fr", "csrf_token": csrf(client, "/")})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert ">Hébergement</option>" in page  # the need vocabulary's French label


@pytest.mark.parametrize(
    "purpose",
    [Purpose.OUTREACH, Purpose.CASE_MANAGEMENT, Purpose.HOUSING_ALLOCATION, Purpose.FOOD_AID],
)
def test_timeline_never_shows_what_the_partners_policy_withholds(
    client: FlaskClient, pooled: Pooled, web_runtime: Runtime, purpose: Purpose
) -> None:
    """Threat 3 on the timeline: for each purpose, the expected release comes from the policy
    engine itself, and nothing finer or withheld of the partner's case reaches the page."""
    login(client, "officer@entraide")
    with client.session_transaction() as flask_session:
        flask_session["purpose"] = purpose.value
    situation = Situation(
        purpose.value,
        consent=purpose in (Purpose.CASE_MANAGEMENT, Purpose.OUTREACH),
        referred=purpose is Purpose.CASE_MANAGEMENT,
    )
    release = web_runtime.policy.release(
        Principal("u", "entraide", "charity", frozenset({Role.HOUSING_OFFICER.value})),
        "read",
        CaseFacts("metropole", "council"),
        situation,
        CASE_FIELDS,
    )
    point = pooled.metro_point
    forbidden = [] if "notes" in release.allowed else ["CASENOTE-METRO", "ENCNOTE-METRO"]
    if release.location_level < 4:
        forbidden += [f"{point.lat:.5f}", f"{point.lon:.5f}"]
    if release.location_level < 3:
        forbidden += [geo.encode(point.lat, point.lon, 7), geo.encode(point.lat, point.lon, 6)]
    if release.location_level < 2:
        forbidden.append(geo.encode(point.lat, point.lon, 5))
    page = client.get(f"/cases/{pooled.entraide_case}").get_data(as_text=True)
    assert [t for t in forbidden if t in page] == []
    shared = bool(release.allowed)
    assert (f"/cases/{pooled.metro_case}" in page) is shared


def test_caseload_pages_link_to_each_other(client: FlaskClient, pooled: Pooled) -> None:
    login(client, "officer@entraide")
    beyond = client.get("/?page=2&status=open")
    assert beyond.status_code == 200
    page = beyond.get_data(as_text=True)
    assert "No cases match." in page
    assert 'rel="prev" href="/?status=open&amp;page=1"' in page
    assert 'rel="next"' not in page


def test_a_page_writes_its_access_entries_at_its_commit_or_returns_nothing(
    client: FlaskClient, world: World, web_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's access entries wait for its commit and go in together, in order; if they
    cannot be written there, the page fails and shows nothing ("no log, no data")."""
    from sqlalchemy import func

    from databank.services.auditlog import writer

    def last_seq() -> int:
        with web_runtime.transaction() as session:
            return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)

    login(client, "worker")
    before = last_seq()
    page = client.get(f"/cases/{world.own_case}")
    assert page.status_code == 200
    with web_runtime.transaction() as session:
        written = session.execute(
            select(AuditEntry.seq, AuditEntry.event, AuditEntry.at)
            .where(AuditEntry.seq > before)
            .order_by(AuditEntry.seq)
        ).all()
    assert len(written) >= 2  # the case, and the timeline's own decisions
    assert [row.seq for row in written] == list(range(before + 1, before + 1 + len(written)))
    assert "access.read" in {row.event for row in written}

    def log_down(*_args: object) -> None:
        raise RuntimeError("the access log cannot be written")

    monkeypatch.setattr(writer, "_locked_head", log_down)  # a fault: the write fails
    before = last_seq()
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(f"/cases/{world.own_case}")
    assert response.status_code == 500
    assert "Sleeps rough near Part-Dieu" not in response.get_data(as_text=True)
    monkeypatch.undo()
    assert last_seq() == before


def test_a_large_form_is_refused_before_it_is_read(client: FlaskClient) -> None:
    """Every route refuses a body over the limit with 413 and the error page, before sign-in
    and before parsing; so does a form of too many parts (finding 12 of the attacker review)."""
    token = csrf(client)
    big = {"username": "x" * (2 * 1024 * 1024), "password": "y", "csrf_token": token}
    response = client.post("/login", data=big)
    assert response.status_code == 413
    assert "Too much data sent" in response.text
    many = {f"field{n}": "1" for n in range(1000)} | {"csrf_token": token}
    assert client.post("/login", data=many, content_type="multipart/form-data").status_code == 413
    assert client.post("/login", data={"username": "a", "password": "b"}).status_code != 413


@pytest.mark.parametrize("purpose", ["enforcement", "public_order", "vital_interest"])
def test_a_refused_purpose_switch_is_logged_and_a_forbidden_one_alerts(
    client: FlaskClient, web_runtime: Runtime, purpose: str
) -> None:
    """Choosing a purpose the user's roles may not declare, through the page's bar or the API,
    is refused and the attempt logged; a forbidden purpose also raises its alert (finding 7)."""
    from databank.models import AuditAlert

    login(client, "worker")
    token = csrf(client, "/")

    def attempts() -> tuple[int, int]:
        with web_runtime.transaction() as session:
            denied = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.event == "purpose.switch",
                    AuditEntry.decision == "deny",
                    AuditEntry.purpose == purpose,
                )
            )
            alerted = session.scalar(
                select(func.count())
                .select_from(AuditAlert)
                .where(AuditAlert.rule == "forbidden_purpose")
            )
            return int(denied or 0), int(alerted or 0)

    denied, alerted = attempts()
    page = client.post("/purpose", data={"purpose": purpose, "csrf_token": token})
    assert page.status_code == 403
    api = client.put(
        "/api/v1/me/purpose", json={"purpose": purpose}, headers={"X-CSRF-Token": token}
    )
    assert api.status_code == 403
    now_denied, now_alerted = attempts()
    assert now_denied == denied + 2
    assert now_alerted - alerted == (0 if purpose == "vital_interest" else 2)
    assert 'data-purpose="outreach"' in client.get("/").get_data(as_text=True)
