"""databank: a privacy-preserving case databank for homelessness services. Wiring only."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from databank.config import Settings

__all__ = ["create_app"]


def _secret_key(settings: Settings) -> str:
    """The session-signing key: from the environment, else a per-instance file made once."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app. Keys are loaded when first needed, so `databank keys init` can run."""
    settings = config if isinstance(config, Settings) else Settings.from_env(**dict(config or {}))
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path.absolute()),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config["DATABANK_SETTINGS"] = settings
    app.config["SECRET_KEY"] = _secret_key(settings)
    app.config["TESTING"] = settings.testing
    if settings.trusted_proxies:
        # The client's address is the one the nearest trusted proxy appended to X-Forwarded-For
        # (and its scheme, X-Forwarded-Proto): the sign-in throttle tells clients apart by it.
        # With no proxy trusted the headers are the client's own word, and ignored.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from databank.cli import register_commands
    from databank.web import init_web

    init_web(app)
    register_commands(app)
    return app
