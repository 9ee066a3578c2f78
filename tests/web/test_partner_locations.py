"""Every GET route of the pages and the API, walked by every partner user (housing officer,
outreach worker, break-glass responder of another organisation) for every purpose their role may
declare, with the ids of every organisation's shared cases and people: no response carries a
place finer than the district of another organisation's case (finding 3 of the attacker review,
design section 6). Break-glass for vital interest is the one exception, and then the owner's
auditors have the alert and the read's entry records the level released.

Each organisation's case and its encounter are placed at known points (the markers); a response
leaks if it holds one of another organisation's points, as coordinates or as a geohash longer
than the district's five characters. The routes come from `app.url_map`, so a new GET route is
walked without being listed here. A complete walk, not a sample: it takes about a minute.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from databank.config import DEMO_AREAS_FILE
from databank.domain import geo
from databank.domain.enums import CONSENTABLE_PURPOSES, OrgKind, Purpose, Role
from databank.models import Person
from databank.models.linkage import LinkageReview
from databank.services.access import roles
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IntakeRecord, Point
from databank.services.linkage import pairs
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.factories import identity
from tests.support import app_on, scratch_runtime
from tests.web.conftest import csrf, login

PARTNER_ROLES = (Role.HOUSING_OFFICER, Role.OUTREACH_WORKER, Role.BREAK_GLASS_RESPONDER)
# GET routes whose path parameters are not records: static files, links of an old format.
# Besides static files: an old invitation link, and an org admin's pages confirming a change to a
# staff account of their own organisation (no case data).
NOT_RECORDS = {"static", "auth.old_invitation", "admin.deactivate", "admin.reactivate"}
# Statistics' files (released aggregates as CSV, XLSX, PDF) and plotly.js: no record in them, and
# no text to read; their pages are walked.
NOT_RECORDS |= {
    "statistics.plotly_js",
    "statistics.export_published",
    "statistics.export_release",
    "stats_report.report_pdf_file",
}
# Sign-in steps: they show no case data, and visiting them ends the session, so they are walked
# once per user, last.
SIGN_IN = {"auth.login", "auth.second_factor", "auth.invitation"}
# Query strings worth walking besides the bare path (lists that page and filter).
QUERIES = {
    "pages.home": ["?sort=opened_asc", "?status=open"],
    "api.list_cases": ["?limit=200", "?own_only=true"],
    "referrals.received": ["?status=pending"],
    "referrals.sent": ["?status=pending"],
}
JUSTIFICATION = "Found unconscious near the station, no papers; the team needs the history."
FINER = 6  # a geohash of this length or more is finer than the district (5)
REVIEW_SCORE = 0.4321  # the review pairs' match probability: it never leaves the linkage zone


@dataclass(frozen=True)
class Owner:
    slug: str
    case_id: uuid.UUID  # the case holding the markers
    points: tuple[Point, ...]  # the case's point and its encounter's

    def district(self) -> str:
        """The case's district cell: what a partner may be shown at most."""
        return geo.encode(self.points[0].lat, self.points[0].lon, 5)

    def markers(self) -> dict[str, int]:
        """Each text that would show one of the points finer than the district, with the
        location level it reveals (3 street, 4 exact)."""
        found: dict[str, int] = {}
        for p in self.points:
            found[geo.encode(p.lat, p.lon, FINER)] = 3
            for value in (p.lat, p.lon):
                for text in (repr(value), f"{value:.6f}", f"{value:.5f}", f"{value:.4f}"):
                    found[text] = 4
        return found


@dataclass
class World:
    owners: dict[str, Owner]
    # The ids each org's own API answers give for its cases and people (every org holds every
    # person, so its own cases' pages carry the timeline of the owners' cases), and the person of
    # each owner's marked case, as its owner's API names it.
    case_ids: dict[str, list[str]] = field(default_factory=dict)
    person_ids: dict[str, list[str]] = field(default_factory=dict)
    marked_person: dict[str, str] = field(default_factory=dict)
    # The pooled person ids, as the server holds them: no answer may carry one (finding 2).
    pooled: frozenset[str] = frozenset()
    # The linkage review queue's pairs (an owner's record against another org's, one person).
    review_ids: list[str] = field(default_factory=list)


def _points(n: int) -> tuple[Point, Point]:
    """Two points per organisation, about 300 m apart, none in another's street cell."""
    lat, lon = 45.741237 + 0.011713 * n, 4.834171 + 0.009329 * n
    return Point(lat, lon), Point(lat + 0.003119, lon - 0.002741)


@pytest.fixture(scope="module")
def walk_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_partner_locations", tmp_path_factory.mktemp("walk"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def world(walk_runtime: Runtime) -> World:
    """Every demo organisation owns one person's case placed at its markers, shared with every
    other organisation for every purpose by consent and by referral; every other organisation
    holds the same person too (pooled), with a case of its own and no place."""
    bundle = walk_runtime.policy.bundle
    owners: dict[str, Owner] = {}
    with walk_runtime.transaction() as session:
        made = {
            slug: organisations.create_organisation(session, slug, meta.name, OrgKind(meta.kind))
            for slug, meta in sorted(bundle.orgs.items())
        }
        for slug, org in made.items():
            for role in (*PARTNER_ROLES, Role.AUDITOR, Role.LINKAGE_REVIEWER):
                organisations.create_user(
                    session,
                    org,
                    f"{role.value}@{slug}",
                    role.value,
                    "correct horse battery staple",
                    [role],
                )
        staff = {
            slug: Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
            for slug, org in made.items()
        }
        for n, slug in enumerate(made):
            who = identity(
                given_name=f"Marker{n}", family_name="Walk", birth_date=date(1980, 1, 1 + n)
            )
            case_point, met_point = _points(n)
            met_at = datetime.now(UTC) - timedelta(days=1, minutes=n)
            [result] = people.intake(
                session,
                staff[slug],
                Purpose.OUTREACH,
                [
                    IntakeRecord(
                        identity=who,
                        case=CaseIn(point=case_point),
                        encounters=(EncounterIn(occurred_at=met_at, point=met_point),),
                    )
                ],
            )
            assert result.case_id is not None
            others = [o for s, o in made.items() if s != slug]
            consents.record_consent(
                session,
                staff[slug],
                Purpose.OUTREACH,
                result.person_id,
                ConsentIn(
                    purposes=CONSENTABLE_PURPOSES, recipient_org_ids=tuple(o.id for o in others)
                ),
            )
            for other, purpose in itertools.product(others, CONSENTABLE_PURPOSES):
                cases.refer(
                    session, staff[slug], Purpose.OUTREACH, result.case_id, other.id, purpose
                )
            held = [result.subject_id]
            for other_slug in made:
                if other_slug != slug:
                    [record] = people.intake(
                        session,
                        staff[other_slug],
                        Purpose.OUTREACH,
                        [IntakeRecord(identity=who, case=CaseIn())],
                    )
                    held.append(record.subject_id)
            pairs.open_review(session, held[0], held[1], REVIEW_SCORE, {"given": "agrees"})
            owners[slug] = Owner(slug, result.case_id, (case_point, met_point))
        pooled = frozenset(str(p) for p in session.scalars(select(Person.id)))
        reviews = sorted(str(r) for r in session.scalars(select(LinkageReview.id)))
    # A marker must be one owner's only, and not occur in the deployment's own text (a
    # district's centre on a plan): else the walk could not tell whose place it saw.
    areas_text = Path(DEMO_AREAS_FILE).read_text(encoding="utf-8")
    markers = [m for owner in owners.values() for m in owner.markers()]
    assert len(markers) == len(set(markers))
    assert not [m for m in markers if m in areas_text]
    assert pooled
    return World(owners, pooled=pooled, review_ids=reviews)


@pytest.fixture(scope="module")
def app(walk_runtime: Runtime, world: World, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = app_on(walk_runtime, tmp_path_factory.mktemp("walk-app"))
    # The ids to walk with, as the API gives them to each organisation's own staff.
    for slug in world.owners:
        client = app.test_client()
        assert login(client, f"{Role.OUTREACH_WORKER.value}@{slug}") == 302
        listed = client.get("/api/v1/cases?own_only=true&limit=200").get_json()["cases"]
        world.case_ids[slug] = [c["id"] for c in listed]
        world.person_ids[slug] = sorted({c["person_id"] for c in listed})
        [marked] = [c for c in listed if c["id"] == str(world.owners[slug].case_id)]
        world.marked_person[slug] = marked["person_id"]
    return app


def _get_rules(app: Flask, sign_in: bool = False) -> list[Rule]:
    """The GET rules to walk: those of the signed-in pages, or (`sign_in`) the sign-in steps."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or set())
        and r.endpoint not in NOT_RECORDS
        and (r.endpoint in SIGN_IN) == sign_in
    ]
    return sorted(rules, key=lambda r: r.rule)


def _paths(rule: Rule, world: World, slug: str) -> list[str]:
    """The rule's path for every id of its kind, and its listed query strings: every owner's
    shared case and the walking org's own cases (their pages show the timeline of the person's
    other cases); every person, by the ids each org's API gives. A parameter of another kind
    fails: the walk would be incomplete."""
    shared = {str(owner.case_id) for owner in world.owners.values()}
    values: dict[str, list[str]] = {
        "case_id": sorted(shared | set(world.case_ids[slug])),
        "person_id": sorted({p for ids in world.person_ids.values() for p in ids}),
        "review_id": world.review_ids,
        # Statistics (released aggregates): a table, its download formats, a report's month, and
        # a release of nobody's (a 404: a release is its own user's only).
        "table": ["needs", "people_by_area", "flows"],
        "fmt": ["csv", "xlsx"],
        "month": [date.today().strftime("%Y-%m")],
        "release_id": [str(uuid.UUID(int=7))],
    }
    names = sorted(rule.arguments)
    unknown = [n for n in names if n not in values]
    assert not unknown, f"{rule.rule}: no ids to walk for {unknown}"
    paths = []
    for combo in itertools.product(*(values[n] for n in names)):
        path = rule.rule
        for name, value in zip(names, combo, strict=True):
            path = re.sub(rf"<(?:[^>:]*:)?{name}>", value, path)
        paths.append(path)
    return [p + q for p in paths for q in ["", *QUERIES.get(rule.endpoint, [])]]


@dataclass
class Leak:
    owner: str
    level: int
    user: str
    purpose: str
    path: str
    marker: str = ""  # the text found: what a failure report needs to be read


# A time as a page or a document writes it (2026-12-06T00:41:14.859412+00:00): its seconds and
# microseconds can spell a coordinate's digits ("4.8594") by chance, so times are taken out first.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?")


def _leaks(world: World, user: str, slug: str, purpose: str, path: str, text: str) -> list[Leak]:
    text = ISO_TIME.sub("<time>", text)
    return [
        Leak(owner.slug, level, user, purpose, path, marker)
        for owner in world.owners.values()
        if owner.slug != slug
        for marker, level in owner.markers().items()
        if marker in text
    ]


@dataclass
class Walked:
    leaks: list[Leak] = field(default_factory=list)
    # Owners whose district an answer about their case showed: the walk reached shared places.
    districts: set[str] = field(default_factory=set)
    # Answers that carried a pooled person id: (user, purpose, path).
    pooled: list[tuple[str, str, str]] = field(default_factory=list)


def _walk(
    client: FlaskClient,
    app: Flask,
    world: World,
    user: str,
    slug: str,
    purpose: str,
    sign_in: bool = False,
) -> Walked:
    """GET every route with every id; the places finer than a district found in the answers."""
    found = Walked()
    for rule in _get_rules(app, sign_in):
        for path in _paths(rule, world, slug):
            response = client.get(path)
            assert response.status_code < 500, (user, purpose, path, response.status_code)
            text = response.get_data(as_text=True) + response.headers.get("Location", "")
            found.leaks += _leaks(world, user, slug, purpose, path, text)
            if any(pooled in text for pooled in world.pooled):
                found.pooled.append((user, purpose, path))
            found.districts |= {
                o.slug
                for o in world.owners.values()
                if str(o.case_id) in path and o.district() in text and o.slug != slug
            }
    return found


def _switch(client: FlaskClient, purpose: Purpose) -> None:
    response = client.post(
        "/purpose", data={"purpose": purpose.value, "csrf_token": csrf(client, "/")}
    )
    assert response.status_code == 302, purpose


@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_finding3_no_partner_route_shows_a_place_finer_than_the_district(
    app: Flask, world: World, role: Role
) -> None:
    """Whatever the GET route (page or API), the purpose the role may declare and the shared
    case or person asked for, a partner never gets another organisation's place finer than the
    district (finding 3 of the attacker review, design section 6)."""
    leaks: list[Leak] = []
    pooled: list[tuple[str, str, str]] = []
    for slug in sorted(world.owners):
        user = f"{role.value}@{slug}"
        client = app.test_client()
        assert login(client, user) == 302
        districts: set[str] = set()
        for purpose in roles.declarable_purposes({role}):
            _switch(client, purpose)
            walked = _walk(client, app, world, user, slug, purpose.value)
            leaks += walked.leaks
            pooled += walked.pooled
            districts |= walked.districts
        last = _walk(client, app, world, user, slug, "(signing in)", sign_in=True)
        leaks += last.leaks
        pooled += last.pooled
        if role is not Role.BREAK_GLASS_RESPONDER and slug != "entraide":
            # Not a vacuous pass: entraide's policy shares its place with every partner's staff
            # who work with people, and the walk saw it, at the district.
            assert "entraide" in districts, user
    assert leaks == [], f"{len(leaks)} leaks, e.g. {leaks[:5]}"
    # The same walk: no answer carries a pooled person id, only the org's handles (finding 2).
    assert pooled == [], f"{len(pooled)} answers with a pooled id, e.g. {pooled[:5]}"


def test_finding2_no_auditor_route_shows_a_pooled_person_id(app: Flask, world: World) -> None:
    """Every GET route (the audit console and its API included), walked by every organisation's
    auditor over every case and person id: the log names each person by the auditor's own
    organisation's handles, never by the pooled id (finding 2 of the attacker review)."""
    pooled: list[tuple[str, str, str]] = []
    for slug in sorted(world.owners):
        user = f"{Role.AUDITOR.value}@{slug}"
        client = app.test_client()
        assert login(client, user) == 302
        pooled += _walk(client, app, world, user, slug, Purpose.AUDIT.value).pooled
    assert pooled == [], f"{len(pooled)} answers with a pooled id, e.g. {pooled[:5]}"


def test_no_linkage_reviewer_route_shows_a_place_a_pooled_id_or_a_score(
    app: Flask, world: World
) -> None:
    """Every GET route (the review queue, its pairs and their API included), walked by every
    organisation's linkage reviewer: no place finer than the district, no pooled person id, no
    match score (issue 16, point 6)."""
    walked = Walked()
    scored: list[str] = []
    for slug in sorted(world.owners):
        user = f"{Role.LINKAGE_REVIEWER.value}@{slug}"
        client = app.test_client()
        assert login(client, user) == 302
        found = _walk(client, app, world, user, slug, Purpose.AUDIT.value)
        walked.leaks += found.leaks
        walked.pooled += found.pooled
        for review_id in world.review_ids:
            for path in (f"/linkage/reviews/{review_id}", f"/api/v1/linkage/reviews/{review_id}"):
                response = client.get(path)
                assert response.status_code == 200, path  # the walk reached the pairs
                if str(REVIEW_SCORE) in response.get_data(as_text=True):
                    scored.append(path)
    assert walked.leaks == []
    assert walked.pooled == [], f"{len(walked.pooled)} answers with a pooled id"
    assert scored == []


def test_the_markers_are_found_where_they_may_be_shown(app: Flask, world: World) -> None:
    """The walk's detector works: an owner's own case page and API answer show its markers."""
    for owner in world.owners.values():
        client = app.test_client()
        assert login(client, f"{Role.OUTREACH_WORKER.value}@{owner.slug}") == 302
        for path in (f"/cases/{owner.case_id}", f"/api/v1/cases/{owner.case_id}"):
            text = client.get(path).get_data(as_text=True)
            assert [m for m in owner.markers() if m in text], (owner.slug, path)


def _alerts_and_history(
    app: Flask, world: World, slug: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """What the owner's auditor sees: the alerts, and the history of the marked person."""
    client = app.test_client()
    assert login(client, f"{Role.AUDITOR.value}@{slug}") == 302
    alerts = client.get("/api/v1/audit/alerts").get_json()["alerts"]
    path = f"/api/v1/audit/people/{world.marked_person[slug]}/history"
    return alerts, client.get(path).get_json()["entries"]


def test_finding3_break_glass_is_the_one_exception_and_the_owner_is_alerted(
    app: Flask, world: World
) -> None:
    """With a break-glass window open for a person, a vital-interest read may show the owner's
    finer place (where the owner's policy allows it); every route read under another purpose
    stays capped; and for every finer place shown, the owner's auditors have the break-glass
    alert for that person and an entry of the read recording the level released (finding 3)."""
    slugs = sorted(world.owners)
    leaks: list[Leak] = []
    for slug, owner_slug in zip(slugs, slugs[1:] + slugs[:1], strict=True):
        owner = world.owners[owner_slug]
        user = f"{Role.BREAK_GLASS_RESPONDER.value}@{slug}"
        client = app.test_client()
        assert login(client, user) == 302
        response = client.post(
            f"/cases/{owner.case_id}/break-glass",
            data={"justification": JUSTIFICATION, "csrf_token": csrf(client, "/")},
        )
        assert response.status_code == 302
        for purpose in roles.declarable_purposes({Role.BREAK_GLASS_RESPONDER}):
            _switch(client, purpose)
            walked = _walk(client, app, world, user, slug, purpose.value).leaks
            # Only the emergency page reads for vital interest, whatever the session declared.
            leaks += [w for w in walked if "/emergency" in w.path]
            assert [w for w in walked if "/emergency" not in w.path] == []
        client.environ_base["HTTP_X_DATABANK_PURPOSE"] = Purpose.VITAL_INTEREST.value
        for path in (f"/api/v1/cases/{c}" for c in world.case_ids[owner_slug]):
            text = client.get(path).get_data(as_text=True)
            leaks += _leaks(world, user, slug, Purpose.VITAL_INTEREST.value, path, text)
    assert {leak.owner for leak in leaks} >= {"emsp", "entraide"}  # no bound; the street
    assert {leak.owner for leak in leaks} <= set(world.owners)
    seen = {slug: _alerts_and_history(app, world, slug) for slug in {w.owner for w in leaks}}
    for leak in leaks:
        owner = world.owners[leak.owner]
        assert leak.user.endswith(f"@{slugs[slugs.index(leak.owner) - 1]}")  # its window only
        alerts, history = seen[leak.owner]
        person = world.marked_person[leak.owner]
        assert [a for a in alerts if (a["rule"], a["person_id"]) == ("break_glass", person)]
        assert [
            e
            for e in history
            if e["event"] == "access.read"
            and e["record_id"] == str(owner.case_id)
            and e["break_glass"]
            and (e["location_level"] or 0) >= leak.level
        ], leak
