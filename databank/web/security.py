"""CSRF tokens on every form, session cookie settings, and security headers on every response
(a strict Content-Security-Policy: no inline scripts or styles)."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, current_app, request, session
from flask_babel import gettext as _

from databank.config import Settings
from databank.domain.errors import PermissionDenied

CSRF_FIELD = "csrf_token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def _check_csrf() -> None:
    if request.method not in _UNSAFE:
        return
    if request.path.startswith("/api/"):
        _check_api_csrf()
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    # Cross-site request forgery: a form posted from another site cannot know the token.
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        abort(
            400, description=_("The form expired or did not come from this site. Please try again.")
        )


def _check_api_csrf() -> None:
    """API calls made with the browser's session cookie carry the session's token in a header.

    A bearer-token call needs none: a cross-site page cannot set the Authorization header (and the
    API then judges the token alone, never the cookie). A request without a signed-in session has
    nothing to forge; the API answers it 401.
    """
    if "Authorization" in request.headers or "_user_id" not in session:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get("X-CSRF-Token", "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise PermissionDenied(
            "send the session's CSRF token in the X-CSRF-Token header",
            {"X-CSRF-Token": ["is missing or does not match this session"]},
        )


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Permissions-Policy", "geolocation=(self), camera=(), microphone=()"
    )
    # Another site's window cannot script this one, nor embed its resources.
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        # Served over HTTPS: browsers must not fall back to plain HTTP for a year.
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _minutes(settings: Settings, name: str, default: int) -> int:
    raw = settings.environ.get(name, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


MAX_REQUEST_BODY = 256 * 1024  # bytes


def init_app(app: Flask) -> None:
    # Set, not setdefault: Flask's default config already holds these keys (SameSite None,
    # Secure off), so setdefault would silently keep the weak defaults.
    settings = app.config["DATABANK_SETTINGS"]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = settings.cookie_secure
    app.config["PERMANENT_SESSION_LIFETIME"] = 8 * 3600
    # Every request body, a page's form as the API's JSON, is refused with 413 past this size
    # before it is parsed (the largest form, an encounter with a full note, is a few kilobytes):
    # a 30 MB form parsed before sign-in is work an anonymous client should not cause.
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BODY
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_REQUEST_BODY
    app.config["MAX_FORM_PARTS"] = 200
    # A signed-in session ends after this long without a request, and in any case after the
    # absolute lifetime (web/auth.py enforces both; the cookie itself cannot be trusted to expire).
    app.config.setdefault(
        "DATABANK_IDLE_TIMEOUT", 60 * _minutes(settings, "DATABANK_SESSION_IDLE_MINUTES", 30)
    )
    app.config.setdefault(
        "DATABANK_SESSION_LIFETIME",
        60 * _minutes(settings, "DATABANK_SESSION_LIFETIME_MINUTES", 8 * 60),
    )
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
