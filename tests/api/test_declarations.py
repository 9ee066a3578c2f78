"""An operation's declaration is what runs: the schema objects the OpenAPI document shows are the
very ones the decorator loads the request with and dumps the answer with, and every id in a path
is a UUID (a malformed one is the documented 400, after authentication)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from databank.domain.enums import Purpose, Role
from databank.extension import runtime_of
from databank.models import Organisation
from databank.services.actors import Actor
from databank.services.linkage import clusters, pairs, review
from databank.services.oversight import alerts
from databank.services.records import people
from databank.web.api import spec
from databank.web.api.registry import OPERATIONS, Operation
from tests.api.conftest import World, assert_error_shape, bearer, signed_in
from tests.factories import identity, intake_record
from tests.support import handle_of

BAD_IDS = ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "x" * 300, "null"]


def _op(endpoint: str) -> Operation:
    [found] = [op for op in OPERATIONS if op.endpoint == endpoint]
    return found


def test_every_route_runs_the_operation_the_document_describes(app: Flask) -> None:
    documented = {op.endpoint for op in spec.all_operations()}
    assert documented == {op.endpoint for op in OPERATIONS}
    for op in OPERATIONS:
        assert app.view_functions[op.endpoint].operation is op, op.endpoint  # type: ignore[attr-defined]
        described = spec._operation(op)
        if op.body is not None:
            assert described["requestBody"]["content"]["application/json"]["schema"] is op.body
        else:
            assert "requestBody" not in described
        ok = described["responses"][str(op.status)]
        if op.response is not None:
            assert ok["content"]["application/json"]["schema"] is op.response
        else:
            assert "application/json" not in ok.get("content", {}) or op.media
        queries = [p["schema"] for p in described["parameters"] if isinstance(p, dict)]
        queries = [s for s in queries if not isinstance(s, dict)]
        assert queries == ([op.query] if op.query is not None else [])
        for name in op.path_params:
            # An id, a person's handle (read as the caller's organisation sees them), or a
            # word the operation declares with its pattern (a table's id, a month).
            ids = (f"<uuid:{name}>", f"<person:{name}>")
            assert any(i in op.rule for i in ids) or (
                f"<string:{name}>" in op.rule and name in op.words
            )


def test_the_served_document_names_the_declared_schemas(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    for op in OPERATIONS:
        described = doc["paths"][op.path][op.method.lower()]
        if op.body is not None:
            ref = described["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1] == type(op.body).__name__
        if op.response is not None:
            content = described["responses"][str(op.status)]["content"]["application/json"]
            assert content["schema"]["$ref"].rsplit("/", 1)[-1] == type(op.response).__name__
        for param in described["parameters"]:
            if param.get("in") == "path" and param["name"] in op.words:
                assert param["schema"] == {"type": "string", "pattern": op.words[param["name"]]}
            elif param.get("in") == "path":
                assert param["schema"] == {"type": "string", "format": "uuid"}


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every declared schema object's load and dump, spied on: the objects used, in order."""
    calls: list[object] = []
    schemas = {id(s): s for op in OPERATIONS for s in (op.body, op.query, op.response) if s}

    def spy(schema: Any, name: str) -> Callable[..., Any]:
        real = getattr(type(schema), name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(schema)
            return real(schema, *args, **kwargs)

        return call

    for schema in schemas.values():
        monkeypatch.setattr(schema, "load", spy(schema, "load"), raising=False)
        monkeypatch.setattr(schema, "dump", spy(schema, "dump"), raising=False)
    return calls


def _review_pair(app: Flask, world: World) -> uuid.UUID:
    """A pair of the charity's records for its linkage reviewer to read and decide."""
    with runtime_of(app).transaction() as session:
        org = session.get(Organisation, world.charity_id)
        assert org is not None
        staff = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
        sides = [
            people.intake(
                session,
                staff,
                Purpose.OUTREACH,
                [intake_record(identity(family_name=family, given_name="Declared"))],
            )[0].subject_id
            for family in ("Alpha-Declared", "Omega-Declared")
        ]
        assert pairs.open_review(session, sides[0], sides[1], 0.5, {"given": "agrees"})
        reviewer = Actor(None, org.id, org.kind, frozenset({Role.LINKAGE_REVIEWER}))
        views = review.queue(session, reviewer)[0]
    [pair] = [v.id for v in views if v.status.value == "open" and v.sides[0].own]
    return pair


def _duplicate(app: Flask, world: World) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """The charity's two records of one person (registered under two spellings, then pooled as
    linkage would): its handle of the person and the two records, oldest first."""
    runtime = runtime_of(app)
    with runtime.transaction() as session:
        org = session.get(Organisation, world.charity_id)
        assert org is not None
        staff = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}))
        found = [
            people.intake(
                session,
                staff,
                Purpose.OUTREACH,
                [intake_record(identity(family_name=family, given_name="Twice"))],
            )[0]
            for family in ("Dupli-Cate", "Dupli-Kate")
        ]
        person = clusters.merge(session, found[0].person_id, found[1].person_id)
    first, second = (r.subject_id for r in found)
    assert first is not None
    assert second is not None
    return handle_of(runtime, world.charity_id, person), first, second


def _scenario(app: Flask, world: World) -> Iterator[tuple[str, Callable[[], TestResponse]]]:
    """One successful call of every operation (its endpoint, then the call)."""
    client = app.test_client()
    worker, auditor = bearer(world, "worker"), bearer(world, "auditor")
    session, session_csrf = signed_in(app, "worker")
    console, console_csrf = signed_in(app, "auditor")
    registered: dict[str, str] = {}
    consent: dict[str, str] = {}

    def register() -> TestResponse:
        body = {
            "identity": {"given_name": "Decl", "family_name": "Ared", "birth_date": "1980-02-03"},
            "case": {"living_situation": "ethos_1_public_space"},
            "needs": [{"category": "food"}],
        }
        response = client.post("/api/v1/people", json=body, headers=worker)
        registered.update(response.get_json())
        return response

    referred: list[str] = []

    def refer() -> TestResponse:
        response = client.post(
            f"/api/v1/cases/{registered['case_id']}/referrals",
            json={"to_org": "metropole", "purpose": "housing_allocation"},
            headers=worker,
        )
        referred.append(response.get_json()["id"])
        return response

    def record_consent() -> TestResponse:
        response = client.post(
            f"/api/v1/people/{registered['person_id']}/consents",
            json={"purposes": ["housing_allocation"], "recipient_org_kinds": ["council"]},
            headers=worker,
        )
        consent.update(response.get_json())
        return response

    yield "api.me", lambda: client.get("/api/v1/me", headers=worker)
    yield "api.purposes", lambda: client.get("/api/v1/purposes", headers=worker)
    yield "api.orgs", lambda: client.get("/api/v1/orgs", headers=worker)
    yield (
        "api.switch_purpose",
        lambda: session.put(
            "/api/v1/me/purpose",
            json={"purpose": "outreach"},
            headers={"X-CSRF-Token": session_csrf},
        ),
    )
    yield "api.create_person", register
    yield (
        "api.search_people",
        lambda: client.post(
            "/api/v1/people/search",
            json={"family_name": "Ared", "birth_date": "1980-02-03"},
            headers=worker,
        ),
    )
    yield "api.record_consent", record_consent
    yield (
        "api.list_consents",
        lambda: client.get(f"/api/v1/people/{registered['person_id']}/consents", headers=worker),
    )
    yield "api.list_cases", lambda: client.get("/api/v1/cases?limit=5", headers=worker)
    yield (
        "api.read_case",
        lambda: client.get(f"/api/v1/cases/{registered['case_id']}", headers=worker),
    )
    yield (
        "api.record_encounter",
        lambda: client.post(
            f"/api/v1/cases/{registered['case_id']}/encounters",
            json={"occurred_at": "2026-01-02T03:04:05Z"},
            headers=worker,
        ),
    )
    yield "api.refer_case", refer
    yield (
        "api.referrals_received",
        lambda: client.get("/api/v1/referrals/received", headers=bearer(world, "officer")),
    )
    yield "api.referrals_sent", lambda: client.get("/api/v1/referrals/sent", headers=worker)
    officer = bearer(world, "officer")

    def step(name: str, headers: dict[str, str], body: object = None) -> TestResponse:
        url = f"/api/v1/referrals/{referred[-1]}/{name}"
        return client.post(url, json=body, headers=headers)

    yield "api.accept_referral", lambda: step("accept", officer)
    yield "api.referral_outcome", lambda: step("outcome", officer, {"outcome": "housed"})
    refer()
    yield "api.decline_referral", lambda: step("decline", officer, {"reason": "no_capacity"})
    refer()
    yield "api.withdraw_referral", lambda: step("withdraw", worker)
    yield (
        "api.update_living_situation",
        lambda: client.post(
            f"/api/v1/cases/{registered['case_id']}/living-situation",
            json={"living_situation": "ethos_2_night_shelter"},
            headers=worker,
        ),
    )

    def change_need() -> TestResponse:
        case = client.get(f"/api/v1/cases/{registered['case_id']}", headers=worker).get_json()
        return client.patch(
            f"/api/v1/cases/{registered['case_id']}/needs/{case['needs'][0]['id']}",
            json={"status": "in_progress"},
            headers=worker,
        )

    yield "api.change_need", change_need
    yield (
        "api.close_case",
        lambda: client.post(
            f"/api/v1/cases/{registered['case_id']}/close",
            json={"reason": "housed", "destination": "owned"},
            headers=worker,
        ),
    )
    yield (
        "api.reopen_case",
        lambda: client.post(f"/api/v1/cases/{registered['case_id']}/reopen", headers=worker),
    )
    yield (
        "api.case_history",
        lambda: client.get(f"/api/v1/cases/{registered['case_id']}/history", headers=worker),
    )
    yield (
        "api.correct_identity",
        lambda: client.patch(
            f"/api/v1/people/{registered['person_id']}/identity",
            json={"given_name": "Declared"},
            headers=worker,
        ),
    )
    yield (
        "api.identity_history",
        lambda: client.get(
            f"/api/v1/people/{registered['person_id']}/identity/history", headers=worker
        ),
    )
    yield (
        "api.revoke_consent",
        lambda: client.delete(f"/api/v1/consents/{consent['id']}", headers=worker),
    )
    yield "api.openapi_json", lambda: client.get("/api/v1/openapi.json")
    yield "api.docs", lambda: client.get("/api/v1/docs")
    yield "audit.api_entries", lambda: client.get("/api/v1/audit/entries", headers=auditor)
    yield (
        "audit.api_person_history",
        lambda: client.get(
            f"/api/v1/audit/people/{registered['person_id']}/history", headers=auditor
        ),
    )
    yield "audit.api_alerts", lambda: client.get("/api/v1/audit/alerts", headers=auditor)
    yield (
        "audit.api_review_alert",
        lambda: console.post(
            f"/api/v1/audit/alerts/{uuid.uuid4()}/review",
            json={"status": "closed", "note": "checked"},
            headers={"X-CSRF-Token": console_csrf},
        ),
    )
    yield "audit.api_status", lambda: client.get("/api/v1/audit/status", headers=auditor)
    yield (
        "audit.api_export",
        lambda: client.get("/api/v1/audit/export?format=csv", headers=auditor),
    )
    reviewer, pair = bearer(world, "reviewer"), _review_pair(app, world)
    yield "api.list_reviews", lambda: client.get("/api/v1/linkage/reviews", headers=reviewer)
    yield "api.get_review", lambda: client.get(f"/api/v1/linkage/reviews/{pair}", headers=reviewer)
    yield (
        "api.decide_review",
        lambda: client.post(
            f"/api/v1/linkage/reviews/{pair}/decision",
            json={"decision": "apart", "reason": "different_people"},
            headers=reviewer,
        ),
    )
    yield "api.pool_status", lambda: client.get("/api/v1/linkage/status", headers=reviewer)
    twice, keep, other = _duplicate(app, world)
    yield "api.list_duplicates", lambda: client.get("/api/v1/people/duplicates", headers=worker)
    yield (
        "api.list_records",
        lambda: client.get(f"/api/v1/people/{twice}/records", headers=worker),
    )
    yield (
        "api.merge_records",
        lambda: client.post(
            f"/api/v1/people/{twice}/records/merge",
            json={"keep": str(keep), "other": str(other)},
            headers=worker,
        ),
    )
    officer = bearer(world, "officer")
    table = {"dimensions": ["need"], "epsilon": 0.1}
    yield "api.stats_tables", lambda: client.get("/api/v1/stats/tables", headers=officer)
    yield "api.stats_table", lambda: client.get("/api/v1/stats/tables/needs", headers=officer)
    yield "api.stats_budget", lambda: client.get("/api/v1/stats/budget", headers=officer)
    yield (
        "api.stats_preview",
        lambda: client.post("/api/v1/stats/preview", json=table, headers=officer),
    )
    released: dict[str, Any] = {}

    def run_adhoc() -> TestResponse:
        response = client.post("/api/v1/stats/adhoc", json=table, headers=officer)
        released.update(response.get_json())
        return response

    yield "api.stats_adhoc", run_adhoc
    yield (
        "api.stats_release",
        lambda: client.get(f"/api/v1/stats/releases/{released['release_id']}", headers=officer),
    )
    yield "api.stats_flows", lambda: client.get("/api/v1/stats/flows", headers=officer)
    yield (
        "api.stats_medians",
        lambda: client.get("/api/v1/stats/medians?dimension=org_kind", headers=officer),
    )
    yield (
        "api.stats_report",
        lambda: client.get(f"/api/v1/stats/reports/{date.today():%Y-%m}", headers=officer),
    )
    yield (
        "audit.api_person_export",
        lambda: client.get(
            f"/api/v1/audit/people/{registered['person_id']}/export?format=jsonl",
            headers=auditor,
        ),
    )


def test_each_operation_loads_and_dumps_with_its_declared_schemas(
    app: Flask, world: World, used: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewed = SimpleNamespace(
        id=uuid.uuid4(),
        rule="night_reads",
        created_at=datetime.now(UTC),
        status="closed",
        actor_user_id=None,
        actor_org_id=None,
        owner_org_id=None,
        person_id=None,
        entry_seqs=[1],
        details={},
        reviewer_id=None,
        reviewed_at=None,
    )
    # No alert exists in this world: the service's answer stands in (the dump is what is tested).
    monkeypatch.setattr(alerts, "review", lambda *args, **kwargs: reviewed)
    called = set()
    for endpoint, call in _scenario(app, world):
        op = _op(endpoint)
        used.clear()
        response = call()
        assert response.status_code == op.status, (endpoint, response.get_data(as_text=True))
        declared = [s for s in (op.query, op.body, op.response) if s is not None]
        assert [s for s in used if any(s is d for d in declared)] == declared, endpoint
        called.add(endpoint)
    assert called == {op.endpoint for op in OPERATIONS}


def _path_ops() -> list[Operation]:
    """The operations with an id in their path (a word parameter is the view's to check)."""
    return [op for op in OPERATIONS if set(op.path_params) - set(op.words)]


def _with(op: Operation, value: str) -> str:
    return re.sub(r"{\w+}", value, op.path)


@pytest.mark.parametrize("op", _path_ops(), ids=lambda op: op.endpoint)
def test_a_malformed_path_id_is_the_documented_400(
    app: Flask, client: FlaskClient, world: World, op: Operation
) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "400" in doc["paths"][op.path][op.method.lower()]["responses"]
    # A session of a user the operation is for: no scope narrows it, no role refuses first.
    user = {"audit": "auditor", "linkage": "reviewer"}.get(op.tag, "worker")
    session, token = signed_in(app, user)
    for bad in BAD_IDS:
        url = _with(op, bad)
        signed_out = client.open(url, method=op.method, json={})
        assert signed_out.status_code == 401, url  # authentication first, whatever the path
        answer = session.open(url, method=op.method, json={}, headers={"X-CSRF-Token": token})
        assert answer.status_code == 400, (url, answer.get_json())
        error = assert_error_shape(answer.get_json(), 400)
        assert error["errors"] == {name: ["Not a valid UUID."] for name in op.path_params}
        assert error["message"] == "the request has invalid parameters"


@pytest.mark.parametrize("op", _path_ops(), ids=lambda op: op.endpoint)
def test_any_spelling_of_a_uuid_is_an_id(app: Flask, world: World, op: Operation) -> None:
    user = {"audit": "auditor", "linkage": "reviewer"}.get(op.tag, "worker")
    session, token = signed_in(app, user)
    some = uuid.uuid4()
    for spelling in (str(some).upper(), some.hex, f"{{{some}}}", f"urn:uuid:{some}"):
        answer = session.open(
            _with(op, spelling), method=op.method, json={}, headers={"X-CSRF-Token": token}
        )
        assert "Not a valid UUID." not in answer.get_data(as_text=True), (spelling, op.endpoint)
