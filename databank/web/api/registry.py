"""The API's operations: each route is registered here with what the OpenAPI document says of it,
so no route can exist without its documentation (and a test checks the reverse)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint
from marshmallow import Schema

from databank.web.api.auth import requires

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    rule: str  # Flask rule under the blueprint prefix, e.g. /cases/<case_id>
    summary: str
    description: str
    tag: str
    scope: str | None  # None: no authentication (the OpenAPI document and its docs)
    status: int = 200
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    path_params: tuple[str, ...] = field(default=())
    session_only: bool = False
    # Media types of a success without a schema (a download, a page).
    media: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The OpenAPI path: /api/v1/cases/{case_id}."""
        return "/api/v1" + self.rule.replace("<", "{").replace(">", "}")


OPERATIONS: list[Operation] = []


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
) -> Callable[[F], F]:
    """Register a view as an API operation: authenticated for its scope, and documented."""

    def decorate(view: F) -> F:
        params = tuple(p for p in rule.split("/") if p.startswith("<"))
        OPERATIONS.append(
            Operation(
                endpoint=f"api.{view.__name__}",
                method=method,
                rule=rule,
                summary=summary,
                description=inspect.cleandoc(view.__doc__ or ""),
                tag=tag,
                scope=scope,
                status=status,
                body=body,
                query=query,
                response=response,
                errors=errors,
                path_params=tuple(p.strip("<>") for p in params),
                session_only=session_only,
                media=media,
            )
        )
        wrapped = requires(scope)(view) if scope is not None else view
        bp.add_url_rule(rule, view.__name__, wrapped, methods=[method])
        return view

    return decorate
