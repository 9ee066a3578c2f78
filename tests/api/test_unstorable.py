"""Text no database can store (NUL, lone surrogates) and free text where only codes are stored in
clear: each is a 4xx naming the field, on SQLite and PostgreSQL alike (PostgreSQL raised a 500
for a NUL in a clear column before these checks)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import World, bearer
from tests.web.conftest import csrf

OK = {"occurred_at": "2026-11-21T22:00:00Z"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"occurred_at": "2026-11-21T22:00:00Z", "notes": "a\\u0000b"}', "notes"),
        ('{"occurred_at": "2026-11-21T22:00:00Z", "notes": "a\\ud800b"}', "notes"),
        (
            '{"occurred_at": "2026-11-21T22:00:00Z", "services_given": ["me\\u0000al"]}',
            "services_given.0",
        ),
        (
            '{"occurred_at": "2026-11-21T22:00:00Z", "needs": [{"category": "\\udfff"}]}',
            "needs.0.category",
        ),
    ],
)
def test_unstorable_characters_in_json_name_the_field(
    client: FlaskClient, world: World, body: str, field: str
) -> None:
    response = client.post(
        f"/api/v1/cases/{world.own_case}/encounters",
        data=body,
        content_type="application/json",
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_free_text_services_are_refused(client: FlaskClient, world: World) -> None:
    """Services given are stored in clear: only the closed list is accepted."""
    response = client.post(
        f"/api/v1/cases/{world.own_case}/encounters",
        json={**OK, "services_given": ["gave a coat to Jean Dupont"]},
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422
    assert "services_given.0" in response.get_json()["errors"]
    assert "Dupont" not in response.get_data(as_text=True)


@pytest.mark.parametrize("reason", ["Jean Dupont moved", "a\u0000b", ""])
def test_close_reason_is_a_code(client: FlaskClient, world: World, reason: str) -> None:
    response = client.post(
        f"/api/v1/cases/{world.own_case}/close",
        data=json.dumps({"reason": reason}),
        content_type="application/json",
        headers=bearer(world, "worker"),
    )
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]


def test_unstorable_characters_in_forms_and_queries_are_400(app: Flask, world: World) -> None:
    client = app.test_client()
    token = csrf(client, "/login")
    form = client.post("/login", data={"username": "ana\x00", "password": "x", "csrf_token": token})
    assert form.status_code == 400
    assert "username" in form.get_data(as_text=True)
    query = client.get("/login?next=%00")
    assert query.status_code == 400
    api_query = client.get("/api/v1/cases?status=%00", headers=bearer(world, "officer"))
    assert api_query.status_code == 400
    assert "status" in api_query.get_json()["errors"]
