"""The web interface: blueprints, sign-in, error pages. Thin: parse, call a service, render."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from databank.web import audit, auth, errors, pages, security

    security.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(audit.bp)
