"""The API's operations: each route is registered with what the OpenAPI document says of it, and
that declaration does the work (as flask-smorest's decorators do): its input schemas load the
request into the view's arguments and its response schema dumps what the view returns, so the
document describes the code that runs, and no route exists without its documentation."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from flask import Blueprint, Response, g, jsonify
from marshmallow import Schema

from databank.domain.errors import BadRequest
from databank.schemas import handles
from databank.web import paths
from databank.web.api import io
from databank.web.api.auth import Caller, requires

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
# A path parameter: <uuid:case_id>.
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


class Inputs(Protocol):
    """How a family of operations reads its input and words a refusal (web/api/io.py: the API's;
    web/audit.py: the auditor console's, which says nothing about the input to a non-auditor)."""

    def query(self, schema: Schema) -> dict[str, Any]: ...

    def no_query(self) -> None: ...

    def body(self, schema: Schema) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    rule: str  # Flask rule under /api/v1, e.g. /cases/<uuid:case_id>
    summary: str
    description: str
    tag: str
    scope: str | None  # None: no authentication (the OpenAPI document and its docs)
    status: int = 200
    # The very schema objects the operation loads and dumps with (and the document shows).
    body: Schema | None = None
    query: Schema | None = None
    response: Schema | None = None
    errors: tuple[int, ...] = ()
    path_params: tuple[str, ...] = field(default=())
    session_only: bool = False
    # Media types of a success without a schema (a download, a page).
    media: tuple[str, ...] = ()
    # Path parameters that are words, not ids: name -> the pattern the document gives.
    words: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The OpenAPI path: /api/v1/cases/{case_id}."""
        return PREFIX + PARAM.sub(r"{\2}", self.rule)


OPERATIONS: list[Operation] = []


def _params(rule: str, words: Mapping[str, str]) -> tuple[str, ...]:
    """The path's parameter names; each is a UUID (a record's id, a person's handle), or a word
    the operation declares with its pattern in `words` (a table's id, a month), which the
    document shows and the view checks."""
    found = PARAM.findall(rule)
    for converter, name in found:
        if converter == "string" and name in words:
            continue
        if converter not in ("uuid", "person"):
            raise ValueError(f"{rule}: write the path parameter as <uuid:{name}>")
    if set(words) - {name for converter, name in found if converter == "string"}:
        raise ValueError(f"{rule}: declare a word parameter as <string:name>")
    return tuple(name for _converter, name in found)


def _read(op: Operation, inputs: Inputs, path: dict[str, Any]) -> list[dict[str, Any]]:
    """The declared inputs, loaded: the query, the path's ids, then the body, in that order (so
    each refusal is the one a client got before the inputs were declared)."""
    loaded = []
    if op.query is not None:
        loaded.append(inputs.query(op.query))
    elif op.body is None and not op.media:
        inputs.no_query()  # a JSON operation without parameters accepts none
    malformed = paths.malformed(path)
    if malformed:
        raise BadRequest(
            "the request has invalid parameters", {n: ["Not a valid UUID."] for n in malformed}
        )
    if op.body is not None:
        loaded.append(inputs.body(op.body))
    return loaded


def _respond(op: Operation, result: Any) -> Any:
    """What the view returned (or `(result, status)`), dumped by the declared response schema."""
    if isinstance(result, Response):  # a download the operation's query asked for
        return result
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    if op.response is not None:
        handles.expect_document(op.response, result)  # its people named in one go
        return jsonify(op.response.dump(result)), status
    if result is None:
        return "", status
    return result  # a page or a download (`media`)


def operation(
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    scope: str | None,
    status: int = 200,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    response: type[Schema] | None = None,
    errors: tuple[int, ...] = (),
    session_only: bool = False,
    media: tuple[str, ...] = (),
    guard: Callable[[], None] | None = None,
    words: Mapping[str, str] | None = None,
    blueprint: Blueprint = bp,
    inputs: Inputs = io.JSON,
) -> Callable[[F], F]:
    """Register a view as an API operation: authenticated for its scope (then `guard`, before
    any input is read), its query or body loaded and passed to it (before its path's own
    arguments), and what it returns dumped by `response`; all of it documented."""

    def decorate(view: F) -> F:
        op = Operation(
            endpoint=f"{blueprint.name}.{view.__name__}",
            method=method,
            rule=rule,
            summary=summary,
            description=inspect.cleandoc(view.__doc__ or ""),
            tag=tag,
            scope=scope,
            status=status,
            body=io.schema(body) if body else None,
            query=io.schema(query) if query else None,
            response=io.schema(response) if response else None,
            errors=errors,
            path_params=_params(rule, words or {}),
            session_only=session_only,
            media=media,
            words=dict(words or {}),
        )
        OPERATIONS.append(op)

        def answer(**path: Any) -> Any:
            return _respond(op, view(*_read(op, inputs, path), **path))

        @functools.wraps(view)
        def run(**path: Any) -> Any:
            if guard is not None:
                guard()
            known: Caller | None = g.get("api_caller")
            if known is None:  # the documentation's operations: no caller, no person
                return answer(**path)
            return paths.as_viewer(known.actor.org_id, answer, path)

        run.operation = op  # type: ignore[attr-defined]
        wrapped = requires(scope)(run) if scope is not None else run
        local = (PREFIX + rule).removeprefix(blueprint.url_prefix or "")
        blueprint.add_url_rule(local, view.__name__, wrapped, methods=[method])
        return view

    return decorate
