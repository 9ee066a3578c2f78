"""The JSON API /api/v1: the same services as the pages, for partner systems and the app's JS.

Authentication by bearer token or browser session (web/api/auth.py); every operation is
registered with its documentation (registry.py), so the OpenAPI document lists them all.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from databank.web.api import (  # noqa: F401 - modules register routes
    cases,
    docs,
    lifecycle,
    linkage,
    meta,
    people,
    records,
    referrals,
    stats,
)
from databank.web.api.auth import PURPOSE_HEADER, Caller
from databank.web.api.io import MAX_BODY
from databank.web.api.registry import bp


def _limit_body() -> None:
    # Every /api/ body (the auditor console's too) larger than this is refused with 413 before
    # it is read: no parser sees it.
    if request.path.startswith("/api/"):
        request.max_content_length = MAX_BODY


@bp.after_request
def _headers(response: Response) -> Response:
    caller: Caller | None = g.get("api_caller")
    if caller is not None:
        response.headers[PURPOSE_HEADER] = caller.purpose.value
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="databank"'
    return response


def init_app(app: Flask) -> None:
    app.before_request(_limit_body)
    app.register_blueprint(bp)
