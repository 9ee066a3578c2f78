"""One error shape for the API ({code, status, message, errors}) and a plain page for browsers."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from databank.domain.errors import DatabankError
from databank.web.runtime import close_request, fail_request, finish_request

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(
    code: str, status: int, message: str, errors: dict[str, list[str]]
) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(code=code, status=status, message=message, errors=errors), status
    return render_template("error.html", status=status, message=message, errors=errors), status


def init_app(app: Flask) -> None:
    app.after_request(finish_request)
    app.teardown_request(close_request)

    @app.errorhandler(DatabankError)
    def databank_error(error: DatabankError) -> tuple[Response | str, int]:
        # The message is written for users and never holds personal data (domain/errors.py).
        fail_request(error)
        return _render(error.code, error.status, error.message, error.errors)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        return _render(error.name.lower().replace(" ", "_"), status, error.description or "", {})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        # Only the type is logged: database and crypto messages can quote values.
        fail_request(error)
        request_id = uuid.uuid4().hex[:12]
        log.error("unexpected %s (request %s)", type(error).__name__, request_id)
        return _render("internal_error", 500, f"something went wrong (request {request_id})", {})
