"""Languages: English and French (flask-babel), chosen from the browser, switched by the user.

Every user-facing string in views and templates goes through `gettext` (`_` in templates), so the
catalogue in `databank/web/translations/` covers the whole interface. Dates and times are formatted
by `web/dates.py`, in the user's locale and the deployment's time zone.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel
from werkzeug.wrappers import Response

LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language the user picked, else the browser's best match, else English."""
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


@bp.route("/language", methods=["POST"])
def switch_language() -> Response:
    """One click: the choice is kept in the session (not a personal data point)."""
    value = request.form.get("lang", "")
    if value in LANGUAGES:
        session["lang"] = value
    return redirect(back_to())


# A path of this site: printable ASCII without spaces, not starting "//" or "/\\" (another host).
_SITE_PATH = re.compile(r"/(?![/\\])[!-~]*")


def site_path(target: str) -> str | None:
    """`target` if it is a path on this site, else None. Threat: an open redirect. Browsers drop
    tabs and newlines and read a backslash as a slash, so "/<tab>/evil.example" would lead to
    //evil.example: anything with a control character, space or backslash, even percent-encoded,
    is refused rather than cleaned."""
    if not _SITE_PATH.fullmatch(target) or "\\" in target:
        return None
    decoded = unquote(target)
    if decoded.startswith("//") or any(c < " " or c in "\x7f\\" for c in decoded):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def back_to() -> str:
    """The `next` path a form posted to come back to: only a path on this site (never an open
    redirect), else the home page."""
    return site_path(request.form.get("next", "")) or url_for("pages.home")


def _context() -> dict[str, object]:
    return {"languages": LANGUAGES, "current_language": select_locale()}


def init_app(app: Flask) -> None:
    # flask-babel's own formatting, if anything uses it, shows times in the deployment's zone too.
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["DATABANK_SETTINGS"].time_zone
    Babel(app, locale_selector=select_locale, default_translation_directories="web/translations")
    app.register_blueprint(bp)
    app.context_processor(_context)
