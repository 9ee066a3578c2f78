"""Bad input gets a 4xx in the one error shape, naming the field, and never echoes the value."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import World, assert_error_shape, bearer, signed_in

SECRET_VALUE = "Zyxwvut-Personal"  # a value that must never come back in an error


def _post(client: FlaskClient, world: World, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(path, json=body, headers=bearer(world, "worker"))
    return response.status_code, response.get_json()


ENCOUNTER_OK = {"occurred_at": "2026-11-21T22:00:00Z"}

# (body, the field path the error must name)
ENCOUNTER_CASES = [
    ({}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2026-11-21T22:00:00"}, "occurred_at"),  # no time zone
    ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),  # future
    ({"occurred_at": 12}, "occurred_at"),
    ({**ENCOUNTER_OK, "district": "u05"}, "district"),
    ({**ENCOUNTER_OK, "district": "aaaaa"}, "district"),  # 'a' is not in the geohash alphabet
    ({**ENCOUNTER_OK, "point": {"lat": 91, "lon": 0}}, "point.lat"),
    ({**ENCOUNTER_OK, "point": {"lat": 0}}, "point.lon"),
    ({**ENCOUNTER_OK, "point": "45.7,4.8"}, "point._schema"),
    ({**ENCOUNTER_OK, "needs": [{"category": "cake"}]}, "needs.0.category"),
    ({**ENCOUNTER_OK, "needs": [{"category": "food", "severity": "dire"}]}, "needs.0.severity"),
    ({**ENCOUNTER_OK, "needs": "food"}, "needs"),
    ({**ENCOUNTER_OK, "services_given": [""]}, "services_given.0"),
    ({**ENCOUNTER_OK, "notes": "x" * 2001}, "notes"),
    ({**ENCOUNTER_OK, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), ENCOUNTER_CASES)
def test_encounter_errors_name_the_field(
    client: FlaskClient, world: World, body: dict[str, Any], field: str
) -> None:
    status, error = _post(client, world, f"/api/v1/cases/{world.own_case}/encounters", body)
    assert status == 422, error
    assert_error_shape(error, 422)
    assert field in error["errors"], error["errors"]


PERSON_OK = {"identity": {"given_name": "A", "family_name": "B", "birth_date": "1990-01-01"}}
PERSON_CASES = [
    ({}, "identity"),
    ({"identity": {}}, "identity.given_name"),
    ({"identity": {**PERSON_OK["identity"], "family_name": "--"}}, "identity.family_name"),
    ({"identity": {**PERSON_OK["identity"], "family_name": "x" * 101}}, "identity.family_name"),
    ({"identity": {**PERSON_OK["identity"], "birth_date": "1990-13-01"}}, "identity.birth_date"),
    ({"identity": {**PERSON_OK["identity"], "birth_date": "2999-01-01"}}, "identity.birth_date"),
    ({"identity": {**PERSON_OK["identity"], "birth_date": "1850-01-01"}}, "identity.birth_date"),
    ({"identity": {**PERSON_OK["identity"], "sex": "x"}}, "identity.sex"),
    ({"identity": {**PERSON_OK["identity"], "phone": "1" * 40}}, "identity.phone"),
    ({**PERSON_OK, "case": {"living_situation": "palace"}}, "case.living_situation"),
    ({**PERSON_OK, "case": {"is_minor": "perhaps"}}, "case.is_minor"),
    ({**PERSON_OK, "needs": [{"category": "food"}]}, "case"),
    ({**PERSON_OK, "case": {}, "encounter": {}}, "encounter.occurred_at"),
]


@pytest.mark.parametrize(("body", "field"), PERSON_CASES)
def test_registration_errors_name_the_field(
    client: FlaskClient, world: World, body: dict[str, Any], field: str
) -> None:
    status, error = _post(client, world, "/api/v1/people", body)
    assert status == 422, error
    assert field in error["errors"], error["errors"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/people/search", {"family_name": "Martin"}, "birth_date"),
        ("/api/v1/people/search", {"family_name": "", "birth_date": "1990-01-01"}, "family_name"),
        ("/api/v1/people/search", {"family_name": 3, "birth_date": "1990-01-01"}, "family_name"),
        ("/api/v1/people/search", {"family_name": "A", "birth_date": "01/02/1990"}, "birth_date"),
        ("{person}/consents", {"purposes": []}, "purposes"),
        (
            "{person}/consents",
            {"purposes": ["enforcement"], "recipient_org_kinds": ["council"]},
            "purposes",
        ),
        ("{person}/consents", {"purposes": ["outreach"]}, "recipient_orgs"),
        (
            "{person}/consents",
            {"purposes": ["outreach"], "recipient_orgs": ["nowhere"]},
            "recipient_orgs.0",
        ),
        (
            "{person}/consents",
            {"purposes": ["outreach"], "recipient_org_kinds": ["bank"]},
            "recipient_org_kinds.0",
        ),
        (
            "{person}/consents",
            {
                "purposes": ["outreach"],
                "recipient_org_kinds": ["council"],
                "expires_at": "2000-01-01T00:00:00Z",
            },
            "expires_at",
        ),
        ("{case}/referrals", {}, "to_org"),
        ("{case}/referrals", {"to_org": "nowhere"}, "to_org"),
        ("{case}/referrals", {"to_org": "metropole", "purpose": "fun"}, "purpose"),
        ("{case}/referrals", {"to_org": "metropole", "need": "cake"}, "need"),
        ("{case}/referrals", {"to_org": "entraide"}, "to_org"),  # its own organisation
        ("{case}/close", {}, "reason"),
        ("{case}/close", {"reason": "x" * 33}, "reason"),
    ],
)
def test_other_bodies_name_the_field(
    client: FlaskClient, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    path = path.replace("{person}", f"/api/v1/people/{world.own_person}").replace(
        "{case}", f"/api/v1/cases/{world.own_case}"
    )
    status, error = _post(client, world, path, body)
    assert status == 422, error
    assert field in error["errors"], error["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 100000}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "pending"}, "status"),
        ({"own_only": "maybe"}, "own_only"),
        ({"family_name": "Martin"}, "family_name"),  # no personal data in a query string
    ],
)
def test_caseload_query_errors_name_the_parameter(
    client: FlaskClient, world: World, query: dict[str, Any], field: str
) -> None:
    response = client.get("/api/v1/cases", query_string=query, headers=bearer(world, "worker"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_errors_never_echo_the_value_sent(client: FlaskClient, world: World) -> None:
    """Personal data sent in a bad request does not come back in the error."""
    bodies = [
        {
            "identity": {
                "given_name": SECRET_VALUE,
                "family_name": SECRET_VALUE,
                "birth_date": SECRET_VALUE,
            }
        },
        {"identity": {**PERSON_OK["identity"], "sex": SECRET_VALUE}},
        {**PERSON_OK, SECRET_VALUE: 1},
    ]
    for body in bodies:
        status, error = _post(client, world, "/api/v1/people", body)
        assert status == 422
        assert SECRET_VALUE not in str(error["message"]) + str(
            [m for ms in error["errors"].values() for m in ms]
        )


def test_http_errors_have_the_shape(client: FlaskClient, world: World) -> None:
    auth = bearer(world, "worker")
    unknown = client.get("/api/v1/nothing-here", headers=auth)
    assert unknown.status_code == 404
    assert assert_error_shape(unknown.get_json(), 404)["code"] == "not_found"
    wrong_method = client.delete("/api/v1/cases", headers=auth)
    assert wrong_method.status_code == 405
    assert assert_error_shape(wrong_method.get_json(), 405)["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]
    bad_id = client.get("/api/v1/cases/not-a-uuid", headers=auth)
    assert bad_id.status_code == 400
    assert "case_id" in bad_id.get_json()["errors"]
    missing = client.get("/api/v1/cases/00000000-0000-0000-0000-000000000000", headers=auth)
    assert missing.status_code == 404
    assert_error_shape(missing.get_json(), 404)


def test_body_errors_have_the_shape(client: FlaskClient, world: World) -> None:
    path = f"/api/v1/cases/{world.own_case}/encounters"
    auth = bearer(world, "worker")
    form = client.post(path, data={"occurred_at": "x"}, headers=auth)
    assert form.status_code == 415
    assert "Content-Type" in assert_error_shape(form.get_json(), 415)["errors"]  # type: ignore[operator]
    junk = client.post(path, data="{nope", content_type="application/json", headers=auth)
    assert junk.status_code == 400
    assert "body" in junk.get_json()["errors"]
    deep = client.post(path, data="[" * 100_000, content_type="application/json", headers=auth)
    assert deep.status_code == 400
    array = client.post(path, json=[1, 2], headers=auth)
    assert array.status_code == 422
    assert "body" in array.get_json()["errors"]
    huge = client.post(path, json={**ENCOUNTER_OK, "notes": "x" * 300_000}, headers=auth)
    assert huge.status_code == 413
    assert_error_shape(huge.get_json(), 413)
    nan = client.post(
        path,
        data='{"occurred_at": "2026-01-01T00:00:00Z", "point": {"lat": NaN, "lon": 1}}',
        content_type="application/json",
        headers=auth,
    )
    assert nan.status_code == 422
    assert "point.lat" in nan.get_json()["errors"]


def test_the_audit_api_refuses_huge_bodies_too(app: Flask, world: World) -> None:
    client, token = signed_in(app, "auditor")
    response = client.post(
        f"/api/v1/audit/alerts/{world.own_case}/review",
        data=b'{"note": "' + b"x" * 400_000 + b'"}',
        content_type="application/json",
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 413
    assert_error_shape(response.get_json(), 413)
