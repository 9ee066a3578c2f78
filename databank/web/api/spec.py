"""The OpenAPI 3 document of /api/v1, built with apispec from the operations' declarations: the
schema objects their views are loaded and dumped with, and the views' docstrings."""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from databank.domain.enums import Purpose
from databank.schemas.common import ErrorOut
from databank.services.accounts.tokens import SCOPES
from databank.web.api.auth import PURPOSE_HEADER
from databank.web.api.registry import OPERATIONS, Operation

TITLE = "Databank API"
VERSION = "1.0"
ERROR_TEXT = {
    400: "Malformed request: bad JSON, an unknown purpose header, a path id that is not a UUID.",
    401: "No valid credentials: missing, malformed, unknown, expired or revoked token.",
    403: "Refused: a scope the token lacks, or an access the policies refuse (logged).",
    404: "No such record in what the caller may reach.",
    405: "Method not allowed on this path.",
    409: "Conflict with the record's state (e.g. an already closed case).",
    410: "The person's data was erased.",
    413: "The body is too large.",
    415: "The body is not JSON.",
    422: "Invalid fields, named in `errors` by field path.",
}

TAGS = {
    "meta": "The caller, the purposes of use, the partner directory.",
    "people": "Search the organisation's own records; register people.",
    "consents": "What a person agreed to share, with whom, for what.",
    "cases": "Caseload, case page, encounters, closing.",
    "referrals": "Referring cases to partners, and referrals received.",
    "statistics": "Anonymised statistics for housing officers: published tables, ad-hoc tables "
    "under a differential-privacy budget, flows, waiting-time medians and the monthly report. "
    'Only protected numbers are released (0, "<10", multiples of 5, suppressed cells).',
    "audit": "The auditor console's API over the access log.",
    "linkage": "For linkage reviewers: the review queue of grey-zone pairs (evidence in words, "
    "never a score or an identity), decisions, the pool's counts.",
    "docs": "This document and its browsable rendering.",
}


def all_operations() -> list[Operation]:
    """Every operation (the auditor console's too, from web/audit.py: `init_web` imports every
    module that declares some), grouped by tag in reading order, declaration order within one."""
    order = list(TAGS)
    return sorted(OPERATIONS, key=lambda op: order.index(op.tag))


def _responses(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if op.status == 204:
        out["204"] = {"description": "Done; no content."}
    else:
        ok: dict[str, Any] = {"description": "Created." if op.status == 201 else "OK."}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": op.response}}
            # Downloads the query can ask for instead (a table as CSV or XLSX).
            ok["content"] |= {
                m: {"schema": {"type": "string", "format": "binary"}} for m in op.media
            }
        elif op.media:
            ok["content"] = {m: {"schema": {"type": "string"}} for m in op.media}
        out[str(op.status)] = ok
    statuses = set(op.errors)
    if op.scope is not None:
        statuses |= {400, 401, 403}
    if op.body is not None:
        statuses |= {400, 413, 415, 422}
    for status in sorted(statuses):
        out[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return out


def _operation(op: Operation) -> dict[str, Any]:
    parameters: list[Any] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": (
                {"type": "string", "pattern": op.words[name]}
                if name in op.words
                else {"type": "string", "format": "uuid"}
            ),
            **(
                {"description": "The person as your organisation sees them (its handle)."}
                if f"<person:{name}>" in op.rule
                else {}
            ),
        }
        for name in op.path_params
    ]
    if op.scope is not None:
        parameters.append("Purpose")  # apispec resolves a component by name
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    result: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": _responses(op),
        "security": [] if op.scope is None else _security(op),
        "x-scope": op.scope,
        "x-session-only": op.session_only,
    }
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    return result


def _security(op: Operation) -> list[dict[str, list[str]]]:
    """Either a token with the operation's scope or a signed-in session (its roles decide)."""
    session: dict[str, list[str]] = {"session": []}
    if op.session_only:
        return [session]
    return [{"bearerToken": [op.scope] if op.scope else []}, session]


@functools.cache
def openapi() -> dict[str, Any]:
    """The document (built once per process: it depends on code only)."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "Case records of a homelessness services network, as each organisation's "
                "policies release them. Every call names a purpose of use (header "
                f"`{PURPOSE_HEADER}`) and is recorded in a tamper-evident access log. "
                "Errors always have the shape {code, status, message, errors}."
            )
        },
        servers=[{"url": "/"}],
        tags=[{"name": name, "description": text} for name, text in TAGS.items()],
    )
    spec.components.security_scheme(
        "bearerToken",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "dbk_<prefix>_<secret>",
            "description": "An API token; its scopes: "
            + "; ".join(f"`{k}`: {v.rstrip('.')}" for k, v in SCOPES.items())
            + ".",
        },
    )
    spec.components.security_scheme(
        "session",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": "session",
            "description": "A signed-in browser session; unsafe methods also need the "
            "`X-CSRF-Token` header.",
        },
    )
    spec.components.schema("Error", schema=ErrorOut)
    for status, text in ERROR_TEXT.items():
        spec.components.response(
            f"Error{status}",
            {"description": text, "content": {"application/json": {"schema": "Error"}}},
        )
    spec.components.parameter(
        "Purpose",
        "header",
        {
            "name": PURPOSE_HEADER,
            "required": False,
            "description": "The purpose of use of this request (default: the session's, or "
            "the role's). Echoed in the response header of the same name. Forbidden purposes "
            "are refused and logged.",
            "schema": {"type": "string", "enum": [p.value for p in Purpose]},
        },
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in all_operations():
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
