"""The OpenAPI document is well formed, documents every API route, and the docs page shows it."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from databank.domain.vocab import NeedCategory
from databank.services.accounts.tokens import SCOPES

METHODS = {"get", "put", "post", "delete", "patch"}


def _doc(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc: dict[str, Any] = response.get_json()
    return doc


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_is_openapi_3_without_authentication(client: FlaskClient) -> None:
    doc = _doc(client)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    assert {"schemas", "securitySchemes", "responses", "parameters"} <= set(doc["components"])
    assert doc["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert doc["components"]["securitySchemes"]["session"]["in"] == "cookie"
    assert doc["components"]["parameters"]["Purpose"]["name"] == "X-Databank-Purpose"
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message", "errors"}


def test_every_reference_resolves(client: FlaskClient) -> None:
    doc = _doc(client)
    for ref in _refs(doc):
        assert ref.startswith("#/components/"), ref
        _, _, kind, name = ref.split("/")
        assert name in doc["components"][kind], ref


def test_every_operation_is_complete(client: FlaskClient) -> None:
    doc = _doc(client)
    ids = []
    for path, methods in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for method, op in methods.items():
            assert method in METHODS
            ids.append(op["operationId"])
            assert op["summary"]
            assert op["responses"]
            assert any(code.startswith("2") for code in op["responses"])
            params = set(re.findall(r"{(\w+)}", path))
            documented = {p["name"] for p in op["parameters"] if p.get("in") == "path"}
            assert params == documented, (path, method)
            if op["security"]:
                assert "401" in op["responses"]
                assert "403" in op["responses"]
                scope = op["x-scope"]
                assert scope == "" or scope in SCOPES, scope
            if "requestBody" in op:
                assert {"413", "415", "422"} <= set(op["responses"]), (path, method)
    assert len(ids) == len(set(ids))


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    """A new route under /api/ that is not in the document fails here."""
    doc = _doc(client)
    documented = {
        (path, method.upper()) for path, methods in doc["paths"].items() for method in methods
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                routes.add((path, method))
    assert routes == documented


def test_the_encounter_body_documents_the_vocabularies(client: FlaskClient) -> None:
    schemas = _doc(client)["components"]["schemas"]
    need = schemas["NeedIn"]["properties"]
    assert need["category"]["enum"] == [c.value for c in NeedCategory]
    assert need["severity"]["enum"] == ["low", "medium", "high", "urgent"]
    assert set(schemas["EncounterIn"]["required"]) == {"occurred_at"}


def test_the_docs_page_lists_every_operation_without_inline_script(client: FlaskClient) -> None:
    doc = _doc(client)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert f"{method.upper()} {path}" in page
            assert f'id="{op["operationId"]}"' in page
    for scope in SCOPES:
        assert scope in page
    assert "<script" not in page
    assert "style=" not in page
    assert "onclick" not in page
    assert 'id="schema-EncounterIn"' in page
