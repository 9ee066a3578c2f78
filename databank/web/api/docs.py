"""The OpenAPI document and its browsable, server-rendered docs (no script: the CSP is strict)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template

from databank.web.api.registry import operation
from databank.web.api.spec import openapi

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@operation(
    "/openapi.json",
    summary="This API's OpenAPI 3 document",
    tag="docs",
    scope=None,
    media=("application/json",),
)
def openapi_json() -> Response:
    """The OpenAPI 3 description of every operation; no authentication needed."""
    return jsonify(openapi())


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            name = _ref_name(part)
            if name:
                return name
    return None


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's type in words, with the schema it refers to (for a link) and its choices."""
    name = _ref_name(schema)
    if name:
        return {"type": name, "ref": name, "enum": None}
    if schema.get("type") == "array":
        inner = describe(schema.get("items", {}))
        return {"type": f"array of {inner['type']}", "ref": inner["ref"], "enum": inner["enum"]}
    kind = str(schema.get("type", "any"))
    if "format" in schema:
        kind += f" ({schema['format']})"
    return {"type": kind, "ref": None, "enum": schema.get("enum")}


def _schemas(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        props = [
            {
                "name": prop,
                "required": prop in required,
                "nullable": bool(spec.get("nullable")),
                "description": spec.get("description", ""),
                **describe(spec),
            }
            for prop, spec in schema.get("properties", {}).items()
        ]
        out.append({"name": name, "description": schema.get("description", ""), "props": props})
    return out


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    components = doc["components"]
    out = []
    for path, methods in doc["paths"].items():
        for method in METHOD_ORDER:
            op = methods.get(method)
            if op is None:
                continue
            params = []
            for param in op.get("parameters", []):
                if "$ref" in param:
                    param = components["parameters"][param["$ref"].rsplit("/", 1)[-1]]
                params.append({**param, **describe(param.get("schema", {}))})
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for status, response in op["responses"].items():
                if "$ref" in response:
                    response = components["responses"][response["$ref"].rsplit("/", 1)[-1]]
                content = response.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "status": status,
                        "description": response.get("description", ""),
                        "schema": _ref_name(content.get("schema", {})),
                    }
                )
            out.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": op["tags"][0],
                    "scope": op.get("x-scope"),
                    "session_only": op.get("x-session-only", False),
                    "params": params,
                    "body": _ref_name(body.get("schema", {})) if body else None,
                    "responses": responses,
                }
            )
    return out


@operation(
    "/docs",
    summary="Browsable documentation of this API",
    tag="docs",
    scope=None,
    media=("text/html",),
)
def docs() -> str:
    """This page: every operation with its parameters, bodies, responses and scopes."""
    doc = openapi()
    return render_template(
        "api/docs.html",
        info=doc["info"],
        operations=_operations(doc),
        schemas=_schemas(doc),
        security=doc["components"]["securitySchemes"],
    )
