"""Walk every operation of the served OpenAPI document with malformed requests: each answer is a
4xx in the error shape, never a 500 (wrong types, missing fields, junk JSON, wrong content type,
huge bodies, bad path ids, unknown and absurd query parameters, generated JSON)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import World, assert_error_shape, bearer

WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    10**30,
    1.5,
    True,
    "",
    "x" * 5000,
    "\x00\ud7ff",
    [],
    [None, 1, "a"],
    {},
    {"nested": {"deeper": [1]}},
]
BAD_IDS = ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "x" * 300, "%00", "null"]
JUNK_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b'{"a":',
    b"\xff\xfe\x00",
    b"[" * 50_000,
]
TOKENS = ("worker", "admin", "auditor")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _operations(client: FlaskClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            yield path, method.upper(), op


def _spec(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return doc


def _fill(path: str, world: World, bad: str | None = None) -> str:
    """The path with real ids (or a bad one in every id place)."""
    values = {
        "{case_id}": str(world.own_case),
        "{person_id}": str(world.own_person),
        "{consent_id}": str(uuid.uuid4()),
        "{alert_id}": str(uuid.uuid4()),
    }
    for name, value in values.items():
        path = path.replace(name, bad if bad is not None else value)
    return path


def _body_properties(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    props: dict[str, Any] = doc["components"]["schemas"][name].get("properties", {})
    return props


def _check(response: Any, label: object) -> None:
    assert response.status_code < 500, label
    if response.status_code >= 400:
        assert_error_shape(response.get_json(), response.status_code)


def _check_4xx(response: Any, label: object) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code)
    assert_error_shape(response.get_json(), response.status_code)


def test_the_walk_covers_every_documented_operation(client: FlaskClient) -> None:
    ops = list(_operations(client))
    assert len(ops) >= 20
    assert sum(1 for _p, _m, op in ops if "requestBody" in op) >= 8


@pytest.mark.parametrize("token", TOKENS)
def test_bad_path_ids_are_4xx(client: FlaskClient, world: World, token: str) -> None:
    for path, method, _op in _operations(client):
        if "{" not in path:
            continue
        for bad in BAD_IDS:
            url = _fill(path, world, bad)
            response = client.open(url, method=method, json={}, headers=bearer(world, token))
            _check_4xx(response, (method, url))


@pytest.mark.parametrize("token", TOKENS)
def test_wrong_types_and_missing_fields_are_4xx(
    client: FlaskClient, world: World, token: str
) -> None:
    doc = _spec(client)
    for path, method, op in _operations(client):
        if "requestBody" not in op:
            continue
        url = _fill(path, world)
        headers = bearer(world, token)
        props = _body_properties(doc, op)
        required = set(
            doc["components"]["schemas"][
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[
                    -1
                ]
            ].get("required", [])
        )
        if required:
            _check_4xx(client.open(url, method=method, json={}, headers=headers), (url, "{}"))
        for name in props:
            for value in WRONG_VALUES:
                response = client.open(url, method=method, json={name: value}, headers=headers)
                _check(response, (method, url, name, value))
                if required - {name}:
                    _check_4xx(response, (method, url, name, value))
        for raw in JUNK_BODIES:
            response = client.open(
                url, method=method, data=raw, content_type="application/json", headers=headers
            )
            _check_4xx(response, (method, url, raw[:10]))
        wrong_type = client.open(
            url,
            method=method,
            data="a=1",
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        _check_4xx(wrong_type, (method, url, "form"))
        no_type = client.open(url, method=method, data=b"{}", headers=headers)
        _check_4xx(no_type, (method, url, "no content type"))
        huge = client.open(
            url,
            method=method,
            data=b'{"a": "' + b"x" * 1_000_000 + b'"}',
            content_type="application/json",
            headers=headers,
        )
        _check_4xx(huge, (method, url, "huge"))


@pytest.mark.parametrize("token", TOKENS)
def test_query_parameters_are_checked(client: FlaskClient, world: World, token: str) -> None:
    for path, method, op in _operations(client):
        if method != "GET" or op.get("security") == []:
            continue
        url = _fill(path, world)
        headers = bearer(world, token)
        names = [p["name"] for p in op["parameters"] if p.get("in") == "query"]
        _check(client.get(url, query_string={"unknown_param": "1"}, headers=headers), url)
        for name in names:
            for value in ("x" * 3000, "-1", "1e309", "\x00", "9" * 40, "", "[]"):
                response = client.get(url, query_string={name: value}, headers=headers)
                _check(response, (url, name, value[:10]))


def test_a_bad_purpose_header_is_4xx_everywhere(client: FlaskClient, world: World) -> None:
    for path, method, op in _operations(client):
        if op.get("security") == []:
            continue
        url = _fill(path, world)
        for purpose in ("nope", "", "x" * 1000, "OUTREACH"):
            response = client.open(
                url, method=method, json={}, headers=bearer(world, "worker", purpose)
            )
            _check_4xx(response, (url, purpose))


def test_no_credentials_is_401_everywhere(client: FlaskClient, world: World) -> None:
    for path, method, op in _operations(client):
        if op.get("security") == []:
            continue
        response = client.open(_fill(path, world), method=method, json={})
        assert response.status_code == 401, (method, path)
        assert_error_shape(response.get_json(), 401)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_json_bodies_never_give_a_500(
    app: Flask, world: World, data: st.DataObject
) -> None:
    client = app.test_client()
    doc = _spec(client)
    writes = [(p, m, op) for p, m, op in _operations(client) if "requestBody" in op]
    path, method, op = data.draw(st.sampled_from(writes))
    names = list(_body_properties(doc, op))
    body = data.draw(
        st.dictionaries(st.sampled_from(names) | st.text(max_size=8), json_values, max_size=6)
        | json_values
    )
    response = client.open(
        _fill(path, world), method=method, json=body, headers=bearer(world, "worker")
    )
    _check(response, (method, path, body))
