"""Every door addressed by a person's, a case's or a consent's id, tried by another organisation's
worker on a record that exists: the attempt is refused and logged, naming the record and its
owner, so the owner's auditors see it; where the answer is "not found" (the record's existence is
not the worker's to know), a random id gets the very same answer (finding 7 of the attacker
review, issue 15).

A person's doors take the caller's own handle, which names only records of the caller's own
organisation (services/records/anchors.py): no handle the prober can give names the owner's
person, so there the owner's handle copied from its screens is tried, and must be answered
exactly as a random id is.

The doors come from `app.url_map`: every rule with such an id, every method.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import AuditAlert, AuditEntry
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.records import people
from databank.services.runtime import Runtime
from tests.factories import intake_record
from tests.support import app_on, scratch_runtime
from tests.web.conftest import PASSWORD, csrf, login

IDS = ("person_id", "case_id", "consent_id")
# A valid body for each API write addressed by one of these ids: a malformed one is refused
# before the record is looked up (422), and the door would not be tried at all.
API_BODIES: dict[str, dict[str, Any]] = {
    "api.record_consent": {"purposes": ["outreach"], "recipient_org_kinds": ["charity"]},
    "api.record_encounter": {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "notes": "Met at the station.",
    },
    "api.refer_case": {"to_org": "metropole", "purpose": "outreach"},
    "api.merge_records": {"keep": str(uuid.uuid4()), "other": str(uuid.uuid4())},
    "api.close_case": {"reason": "housed", "destination": "owned"},
    "api.update_living_situation": {"living_situation": "housed"},
    "api.change_need": {"status": "met"},
    "api.correct_identity": {"family_name": "Probe"},
    "api.reopen_case": {},
}


@dataclass(frozen=True)
class World:
    owner_org: uuid.UUID
    # Users of another organisation, holding none of the owner's records.
    prober: uuid.UUID
    prober2: uuid.UUID
    prober_org: uuid.UUID


@dataclass(frozen=True)
class Ids:
    """The owner's records, by the ids the owner's own API answers give (the person by the
    owner's handle: copied to the probers' organisation, it names nobody there)."""

    person_id: str
    case_id: str
    consent_id: str


@pytest.fixture(scope="module")
def probe_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_refused_attempts", tmp_path_factory.mktemp("probe"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def world(probe_runtime: Runtime) -> World:
    with probe_runtime.transaction() as session:
        owner = organisations.create_organisation(session, "entraide", "Entraide", OrgKind.CHARITY)
        other = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        organisations.create_user(session, owner, "owner", "Owner", PASSWORD, [Role.ORG_ADMIN])
        organisations.create_user(session, owner, "auditor", "Auditor", PASSWORD, [Role.AUDITOR])
        prober, prober2 = (
            organisations.create_user(session, other, name, name, PASSWORD, [Role.OUTREACH_WORKER])
            for name in ("prober", "prober2")
        )
        actor = Actor(None, owner.id, owner.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        people.intake(session, actor, Purpose.OUTREACH, [intake_record()])
        return World(owner.id, prober.id, prober2.id, other.id)


@pytest.fixture(scope="module")
def app(probe_runtime: Runtime, world: World, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return app_on(probe_runtime, tmp_path_factory.mktemp("probe-app"))


@pytest.fixture(scope="module")
def ids(app: Flask, probe_runtime: Runtime, world: World) -> Ids:
    client = app.test_client()
    assert login(client, "owner") == 302
    [case] = client.get("/api/v1/cases?own_only=true").get_json()["cases"]
    person_id = case["person_id"]
    token = csrf(client, "/")
    created = client.post(
        f"/api/v1/people/{person_id}/consents",
        json={"purposes": ["outreach"], "recipient_org_kinds": ["health"]},
        headers={"X-CSRF-Token": token},
    )
    assert created.status_code == 201
    return Ids(person_id, case["id"], created.get_json()["id"])


def _doors(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) addressed by a person's, a case's or a consent's id."""
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if set(rule.arguments) & set(IDS)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]


def _fill(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        # An id of a record inside the case (a need): any, the case's door decides first.
        value = values.get(name) or str(uuid.UUID(int=7))
        path = re.sub(rf"<(?:[^>:]*:)?{name}>", value, path)
    return path


def _send(client: FlaskClient, rule: Rule, method: str, path: str, token: str) -> TestResponse:
    if method == "GET":
        return client.get(path)
    if not rule.rule.startswith("/api/"):
        return client.open(path, method=method, data={"csrf_token": token})
    headers = {"X-CSRF-Token": token}
    if method == "DELETE":
        return client.open(path, method=method, headers=headers)
    assert rule.endpoint in API_BODIES, f"{rule.endpoint}: give the walk a valid body"
    return client.open(path, method=method, json=API_BODIES[rule.endpoint], headers=headers)


def _refusals(runtime: Runtime, user: uuid.UUID, after: int) -> list[AuditEntry]:
    with runtime.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.seq > after,
                    AuditEntry.actor_user_id == user,
                    AuditEntry.decision == "deny",
                )
            )
        )


def _last_seq(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def test_finding7_every_refused_attempt_on_an_existing_record_is_logged(
    app: Flask, probe_runtime: Runtime, world: World, ids: Ids
) -> None:
    """Every refused attempt on another organisation's existing case or consent, through any
    door, is logged naming the record and its owner; a door that answers "not found" answers a
    random id with the very same status and body, and so does a person's door given the owner's
    handle of its person (finding 7 of the attacker review)."""
    client = app.test_client()
    assert login(client, "prober") == 302
    token = csrf(client, "/")
    existing = {"person_id": ids.person_id, "case_id": ids.case_id, "consent_id": ids.consent_id}
    random = {name: str(uuid.uuid4()) for name in IDS}
    unlogged, revealing, not_refused = [], [], []
    tried = 0
    for rule, method in _doors(app):
        before = _last_seq(probe_runtime)
        path = _fill(rule, existing)
        answer = _send(client, rule, method, path, token)
        if answer.status_code not in (403, 404):
            not_refused.append((method, path, answer.status_code))
            continue
        tried += 1
        entries = _refusals(probe_runtime, world.prober, before)
        if "person_id" in rule.arguments and answer.status_code == 404:
            pass  # a handle that names no record of the prober's: no record to name in an entry
        elif not entries:
            unlogged.append((method, rule.rule, answer.status_code))
        elif answer.status_code == 404 and {
            (e.owner_org_id, e.person_id is None) for e in entries
        } != {(world.owner_org, False)}:
            # "Not found" is the answer, but the log names the record's owner and person, so
            # the owner's auditors see the attempt.
            unlogged.append((method, rule.rule, "not about the owner's record"))
        if answer.status_code == 404:
            guess = _fill(rule, random)
            other = _send(client, rule, method, guess, token)
            same_body = other.get_data(as_text=True).replace(guess, path) == answer.get_data(
                as_text=True
            )
            if other.status_code != 404 or not same_body:
                revealing.append((method, rule.rule, other.status_code))
    assert not_refused == []
    assert tried >= 15  # the doors of today: pages, forms and the API
    assert unlogged == [], f"refused but not logged: {unlogged}"
    assert revealing == [], f"a random id is answered otherwise: {revealing}"


def test_finding7_the_owners_auditors_see_the_attempts_and_a_burst_alerts(
    app: Flask, probe_runtime: Runtime, world: World, ids: Ids
) -> None:
    """Each attempt through a "not found" door on the owner's records is in its auditors' view
    of the log, and so many of them in a short time raise the denial-burst alert (finding 7)."""
    client = app.test_client()
    assert login(client, "prober2") == 302
    doors = [
        f"/outreach/cases/{ids.case_id}/encounters/new",
        f"/outreach/cases/{ids.case_id}/refer",
    ] * 2
    for path in doors * 3:
        assert client.get(path).status_code == 404, path
    auditor = app.test_client()
    assert login(auditor, "auditor") == 302
    query = f"/api/v1/audit/entries?actor_user_id={world.prober2}&decision=deny&limit=1000"
    seen = auditor.get(query).get_json()["entries"]
    assert len(seen) == len(doors) * 3
    assert {e["record_owner"] for e in seen} == {str(world.owner_org)}
    assert all(e["person_id"] for e in seen)
    with probe_runtime.transaction() as session:
        burst = session.scalars(
            select(AuditAlert).where(
                AuditAlert.rule == "denial_burst", AuditAlert.actor_user_id == world.prober2
            )
        ).all()
    assert [a.owner_org_id for a in burst] == [world.owner_org]
