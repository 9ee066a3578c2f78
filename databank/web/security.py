"""CSRF tokens on every form, and security headers on every response (no inline scripts)."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

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
    if request.method not in _UNSAFE or request.path.startswith("/api/"):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    # Cross-site request forgery: a form posted from another site cannot know the token.
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        abort(400, description="The form expired or did not come from this site. Please try again.")


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Permissions-Policy", "geolocation=(self), camera=(), microphone=()"
    )
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    settings = app.config["DATABANK_SETTINGS"]
    app.config.setdefault("SESSION_COOKIE_SECURE", settings.cookie_secure)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
