"""Who may call the API: tokens (hashed, scoped, expiring, revocable) or the browser session."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.models import AuditEntry
from databank.services.runtime import Runtime
from tests.api.conftest import (
    World,
    assert_error_shape,
    bearer,
    entries_since,
    last_seq,
    signed_in,
)

ENCOUNTER = {"occurred_at": "2026-11-21T22:00:00Z", "needs": [{"category": "food"}]}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic d29ya2VyOnB3",
        "Bearer dbk_",
        "Bearer dbk_nope_nope",
        "Bearer not-a-token",
        "Bearer dbk_" + "a" * 5000,
    ],
)
def test_missing_or_invalid_token_is_401(
    client: FlaskClient, world: World, header: str | None
) -> None:
    """No valid credentials: 401 in the error shape, naming the Authorization header."""
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    body = assert_error_shape(response.get_json(), 401)
    assert "Authorization" in body["errors"]  # type: ignore[operator]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_with_a_real_prefix_is_401(client: FlaskClient, world: World) -> None:
    tag, prefix, _secret = world.tokens["worker"].split("_", 2)
    forged = f"{tag}_{prefix}_{'x' * 43}"
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_a_wrong_guess_is_not_logged_as_the_owners_act(
    client: FlaskClient, world: World, api_runtime: Runtime
) -> None:
    """The prefix is public: a wrong secret must not be charged to the token's owner (it would
    feed their denial-burst alert)."""
    tag, prefix, _secret = world.tokens["worker"].split("_", 2)
    forged = f"{tag}_{prefix}_{'y' * 43}"
    client.get("/api/v1/cases", headers={"Authorization": f"Bearer {forged}"})
    with api_runtime.transaction() as session:
        last = session.execute(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
        ).scalar_one()
    assert last.event == "api_token.denied"
    assert last.actor_user_id is None


@pytest.mark.parametrize("name", ["expired", "revoked"])
def test_expired_and_revoked_tokens_are_401_and_logged(
    client: FlaskClient, world: World, api_runtime: Runtime, name: str
) -> None:
    """A refused token use is in the access log, with its reason and never the secret."""
    before = last_seq(api_runtime)
    response = client.get("/api/v1/me", headers=bearer(world, name))
    assert response.status_code == 401
    assert_error_shape(response.get_json(), 401)
    [entry] = [e for e in entries_since(api_runtime, before) if e.event == "api_token.denied"]
    assert entry.decision == "deny"
    body = json.loads(entry.body)
    assert body["extra"] == {"reason": name}
    secret = world.tokens[name].split("_", 2)[2]
    assert secret.encode() not in entry.body


def test_a_missing_scope_is_403_and_logged(
    client: FlaskClient, world: World, api_runtime: Runtime
) -> None:
    before = last_seq(api_runtime)
    response = client.post(
        "/api/v1/people/search",
        json={"family_name": "Martin", "birth_date": "1980-01-01"},
        headers=bearer(world, "worker-read"),
    )
    assert response.status_code == 403
    assert_error_shape(response.get_json(), 403)
    denied = [e for e in entries_since(api_runtime, before) if e.event == "api_token.denied"]
    assert [json.loads(e.body)["rule"] for e in denied] == ["api_token.scope"]
    # The scope it has works.
    assert client.get("/api/v1/cases", headers=bearer(world, "worker-read")).status_code == 200


def test_a_token_restricted_to_purposes_refuses_others(client: FlaskClient, world: World) -> None:
    ok = client.get("/api/v1/me", headers=bearer(world, "worker-outreach-only"))
    assert ok.status_code == 200
    assert ok.get_json()["token_purposes"] == ["outreach"]
    refused = client.get(
        "/api/v1/cases", headers=bearer(world, "worker-outreach-only", "case_management")
    )
    assert refused.status_code == 403


def test_another_orgs_case_is_refused_without_data(client: FlaskClient, world: World) -> None:
    """Wrong org, no data: the charity's token cannot read the council's unshared case."""
    response = client.get(f"/api/v1/cases/{world.other_case}", headers=bearer(world, "worker"))
    assert response.status_code == 403
    assert_error_shape(response.get_json(), 403)
    assert "Martin-Other" not in response.get_data(as_text=True)
    listed = client.get("/api/v1/cases", headers=bearer(world, "worker")).get_data(as_text=True)
    assert str(world.other_case) not in listed
    consents = client.get(
        f"/api/v1/people/{world.other_person}/consents", headers=bearer(world, "worker")
    )
    assert consents.status_code == 404
    write = client.post(
        f"/api/v1/cases/{world.other_case}/encounters",
        json=ENCOUNTER,
        headers=bearer(world, "worker"),
    )
    assert write.status_code == 403


def test_unknown_purpose_header_is_400_naming_it(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/cases", headers=bearer(world, "worker", "curiosity"))
    assert response.status_code == 400
    body = assert_error_shape(response.get_json(), 400)
    [message] = body["errors"]["X-Databank-Purpose"]  # type: ignore[index]
    assert "outreach" in message
    assert "case_management" in message


def test_a_forbidden_purpose_is_refused_and_logged(
    client: FlaskClient, world: World, api_runtime: Runtime
) -> None:
    """Threat 4: an enforcement purpose is refused by the services, and the refusal logged."""
    before = last_seq(api_runtime)
    response = client.get(
        f"/api/v1/cases/{world.own_case}", headers=bearer(world, "worker", "enforcement")
    )
    assert response.status_code == 403
    assert response.headers["X-Databank-Purpose"] == "enforcement"
    denied = [e for e in entries_since(api_runtime, before) if e.decision == "deny"]
    assert [e.purpose for e in denied] == ["enforcement"]


def test_session_calls_work_and_writes_need_the_csrf_header(app: Flask, world: World) -> None:
    client, token = signed_in(app, "worker")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["authentication"] == "session"
    assert me.get_json()["token_scopes"] is None
    path = f"/api/v1/cases/{world.own_case}/encounters"
    forged = client.post(path, json=ENCOUNTER)
    assert forged.status_code == 403
    body = assert_error_shape(forged.get_json(), 403)
    assert "X-CSRF-Token" in body["errors"]  # type: ignore[operator]
    wrong = client.post(path, json=ENCOUNTER, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    ok = client.post(path, json=ENCOUNTER, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


def test_a_bad_token_never_falls_back_to_the_session(app: Flask, world: World) -> None:
    """A request naming a token is judged by the token alone (and skips no CSRF check)."""
    client, _token = signed_in(app, "worker")
    response = client.post(
        f"/api/v1/cases/{world.own_case}/encounters",
        json=ENCOUNTER,
        headers={"Authorization": "Bearer junk"},
    )
    assert response.status_code == 401


def test_session_purpose_switch_is_used_and_logged(
    app: Flask, world: World, api_runtime: Runtime
) -> None:
    client, token = signed_in(app, "worker")
    before = last_seq(api_runtime)
    bad = client.put(
        "/api/v1/me/purpose", json={"purpose": "enforcement"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 403
    switched = client.put(
        "/api/v1/me/purpose", json={"purpose": "food_aid"}, headers={"X-CSRF-Token": token}
    )
    assert switched.status_code == 200
    assert client.get("/api/v1/me").get_json()["purpose"] == "food_aid"
    assert any(e.event == "purpose.switch" for e in entries_since(api_runtime, before))
    with_token = client.put(
        "/api/v1/me/purpose", json={"purpose": "outreach"}, headers=bearer(world, "worker")
    )
    assert with_token.status_code == 400


def test_tokens_act_with_the_users_roles_never_more(client: FlaskClient, world: World) -> None:
    """Every scope does not make an outreach worker an auditor."""
    response = client.get("/api/v1/audit/status", headers=bearer(world, "worker"))
    assert response.status_code == 403
    reviewed = client.post(
        "/api/v1/audit/alerts/00000000-0000-0000-0000-000000000000/review",
        json={"status": "closed", "note": "x"},
        headers=bearer(world, "auditor"),
    )
    assert reviewed.status_code == 403  # the auditor's token lacks audit:review
