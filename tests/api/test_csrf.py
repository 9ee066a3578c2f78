"""Cross-site request forgery beyond form posts: a browser session's PUT, PATCH and DELETE on
any route, and its writes to the API, need the session's token (finding 13 of issue 15)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from databank.services.runtime import Runtime
from tests.api.conftest import (
    World,
    assert_error_shape,
    bearer,
    entries_since,
    last_seq,
    signed_in,
)

# Methods a cross-site page can send with the browser's cookie (through fetch or a form).
WRITES = {"PUT", "PATCH", "DELETE"}
SEGMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# A body the view would accept, so that a missing check shows as a change, not as a 400.
BODIES: dict[str, dict[str, Any]] = {"api.switch_purpose": {"purpose": "food_aid"}}


def _registered_with_consent(client: FlaskClient, world: World) -> tuple[str, str]:
    """A person registered and a consent recorded through the API (with a bearer token): the
    person's id and the consent's id, as the API's answers give them."""
    created = client.post(
        "/api/v1/people",
        json={"identity": {"given_name": "Cé", "family_name": "Surf", "birth_date": "1991-02-03"}},
        headers=bearer(world, "worker"),
    )
    assert created.status_code == 201, created.get_json()
    person = created.get_json()["person_id"]
    recorded = client.post(
        f"/api/v1/people/{person}/consents",
        json={"purposes": ["housing_allocation"], "recipient_orgs": ["metropole"]},
        headers=bearer(world, "worker"),
    )
    assert recorded.status_code == 201, recorded.get_json()
    return person, recorded.get_json()["id"]


def _consents(client: FlaskClient, world: World, person: str) -> list[dict[str, Any]]:
    listed = client.get(f"/api/v1/people/{person}/consents", headers=bearer(world, "worker"))
    assert listed.status_code == 200
    found: list[dict[str, Any]] = listed.get_json()["consents"]
    return found


def test_finding13_every_put_patch_delete_route_refuses_a_session_call_without_csrf(
    app: Flask, world: World, api_runtime: Runtime
) -> None:
    """A signed-in browser session's PUT, PATCH or DELETE to any route of the app, and its POST
    to any API route, is refused without the session's CSRF token (the API: 403 naming the
    X-CSRF-Token header; a page: 400), before the view runs: nothing changes, nothing is read."""
    client, token = signed_in(app, "worker")
    person, consent = _registered_with_consent(app.test_client(), world)
    values = {"person_id": person, "consent_id": consent, "case_id": str(world.own_case)}
    before = last_seq(api_runtime)
    checked: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & WRITES
        if rule.rule.startswith("/api/"):
            methods |= (rule.methods or set()) & {"POST"}
        for method in sorted(methods):
            # Each <converter:name> segment filled with a value an answer gave (a person's
            # handle, a consent's id) or the own case's id; anything else gets the consent's.
            path = SEGMENT.sub(lambda m: values.get(m.group(1), consent), rule.rule)
            response = client.open(path, method=method, json=BODIES.get(rule.endpoint, {}))
            where = (method, rule.endpoint, response.status_code)
            if rule.rule.startswith("/api/"):
                assert response.status_code == 403, where
                body = assert_error_shape(response.get_json(), 403)
                assert "X-CSRF-Token" in body["errors"], where  # type: ignore[operator]
            else:
                assert response.status_code == 400, where
            checked.add((method, rule.endpoint))
    assert {("PUT", "api.switch_purpose"), ("DELETE", "api.revoke_consent")} <= checked
    assert len(checked) >= 9  # with the API's seven POST routes
    # Nothing was done or read: no log entry, the purpose and the consent as they were.
    assert entries_since(api_runtime, before) == []
    assert client.get("/api/v1/me").get_json()["purpose"] == "outreach"
    assert [c["revoked_at"] for c in _consents(client, world, person)] == [None]
    # With the token, the same session's calls go through: the token was all that was missing.
    headers = {"X-CSRF-Token": token}
    switched = client.put("/api/v1/me/purpose", json={"purpose": "food_aid"}, headers=headers)
    assert switched.status_code == 200
    revoked = client.delete(f"/api/v1/consents/{consent}", headers=headers)
    assert revoked.status_code == 204
