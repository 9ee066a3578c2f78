"""One error shape for the API ({code, status, message, errors}) and a plain page for browsers.

Under /api/ every answer that is not a success has that shape, whatever raised it: a service's
DatabankError, a schema's ValidationError, werkzeug's HTTP errors (unknown route, wrong method,
body too large), or an unexpected error (500, with a request id and nothing else). The JSON
messages stay in English (they are for developers); the page says it in the user's language.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from databank.domain.errors import DatabankError
from databank.schemas.common import flatten
from databank.web.service_messages import message as service_message
from databank.web.service_messages import plain
from databank.web.unit_of_work import close_request, fail_request, finish_request

log = logging.getLogger(__name__)

# Stable codes for werkzeug's errors; their default descriptions never quote the request.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
# The error page's title and plain sentence for the common statuses, in the user's language.
TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Access refused"),
    404: _l("Page not found"),
    405: _l("Action not allowed here"),
    409: _l("Conflict"),
    410: _l("No longer available"),
    413: _l("Too much data sent"),
    422: _l("Some fields are not valid"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}
SENTENCES = {
    400: _l("The request could not be understood. Go back and try again."),
    401: _l("You need to sign in to see this page."),
    403: _l("You are not allowed to see this page or to do this."),
    404: _l(
        "There is no page at this address. Check the address, or start again from the home page."
    ),
    405: _l("This page does not accept this kind of request. Go back and use the page's buttons."),
    409: _l(
        "This could not be done because the record changed in the meantime. Reload and try again."
    ),
    410: _l("What you are looking for is no longer available."),
    413: _l("What you sent is too large. Send less at once."),
    422: _l("Some fields are not valid. Go back and check them."),
    429: _l("Too many attempts in a short time. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Please try again."),
}
# Headers of an HTTP error worth keeping (e.g. Allow on a 405).
KEPT_HEADERS = {"Allow", "Retry-After", "WWW-Authenticate"}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(
    code: str,
    status: int,
    message: str,
    errors: dict[str, list[str]],
    page_message: str | None = None,
) -> tuple[Response | str, int]:
    """JSON with the English message, or the page with `page_message` (default: the message
    in the user's language where we know it)."""
    if _wants_json():
        return jsonify(code=code, status=status, message=message, errors=errors), status
    title = str(TITLES.get(status, status))
    detail = None
    text = page_message
    if text is None:
        # A service's message: in the user's language where we know it, else the plain
        # sentence for the status with the service's English words as a detail.
        text = service_message(message)
        if text == message and status in SENTENCES:
            text, detail = str(SENTENCES[status]), message
    page = render_template(
        "error.html",
        status=status,
        title=title,
        message=text,
        detail=detail,
        errors=plain(errors),
    )
    return page, status


def _http_sentence(error: HTTPException, status: int) -> str:
    """werkzeug's own English description is replaced; a description we wrote is kept."""
    own = error.description and error.description != type(error).description
    if own or status not in SENTENCES:
        return error.description or ""
    return str(SENTENCES[status])


def init_app(app: Flask) -> None:
    app.after_request(finish_request)
    app.teardown_request(close_request)

    @app.errorhandler(DatabankError)
    def databank_error(error: DatabankError) -> tuple[Response | str, int]:
        # The message is written for users and never holds personal data (domain/errors.py).
        fail_request(error)
        return _render(error.code, error.status, error.message, error.errors)

    @app.errorhandler(ValidationError)
    def invalid(error: ValidationError) -> tuple[Response | str, int]:
        # marshmallow's messages name the field and the rule, never the value sent.
        fail_request(error)
        return _render(
            "validation_failed",
            422,
            "the request has invalid fields",
            flatten(error.messages),
            _("The request has invalid fields."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int] | Response:
        status = error.code or 500
        code = HTTP_CODES.get(status, error.name.lower().replace(" ", "_"))
        body, status = _render(
            code, status, error.description or "", {}, _http_sentence(error, status)
        )
        if not isinstance(body, Response):
            return body, status
        for name, value in error.get_headers():
            if name in KEPT_HEADERS:
                body.headers[name] = value
        body.status_code = status
        return body

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        # Only the type is logged: database and crypto messages can quote values.
        fail_request(error)
        request_id = uuid.uuid4().hex[:12]
        log.error("unexpected %s (request %s)", type(error).__name__, request_id)
        return _render(
            "internal_error",
            500,
            f"something went wrong (request {request_id})",
            {},
            _("Something went wrong (request %(id)s). Please try again.", id=request_id),
        )
