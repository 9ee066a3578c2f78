"""The outreach pages without signal: the service worker, the page shells it keeps, the drafts' key.

What the phone keeps (docs/architecture.md, "The outreach worker's phone offline"):
- the service worker's cache holds only *shells*: the start page, an empty encounter form and
  the empty registration form, drawn for no person (no name, no case, no draft key in them), and
  the pages' own scripts and styles;
- what a worker typed (a form's draft) and the recent contacts' names are kept encrypted
  (AES-GCM, WebCrypto) under a key the server derives for the user and their session epoch
  (`draft_key`): the page hands it over, the script keeps it as a non-extractable key in the
  browser's IndexedDB. Signing out moves the epoch (the key is then never given again) and
  the sign-out answer clears the site's storage (Clear-Site-Data), the key and the shells with it.
A lost session (idle, expired) keeps the epoch: after signing in again, the same key opens the
draft, which comes back in its form. Another user of the phone gets another key: nothing opens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template
from flask_login import current_user

from databank.web import outreach_labels as labels
from databank.web.auth import login_required
from databank.web.deployment import areas, local_zone
from databank.web.i18n import select_locale
from databank.web.outreach_forms import TIME_FORMAT
from databank.web.outreach_map import plan

bp = Blueprint("outreach_offline", __name__, url_prefix="/outreach")
bp.context_processor(labels.vocabulary)

_WORKER = Path(__file__).parent / "static" / "outreach-sw.js"
_DRAFT_KEY_LABEL = b"databank outreach drafts v1\x00"


def draft_key() -> str:
    """The signed-in user's key for what their phone keeps of the outreach forms (32 bytes,
    base64url): HMAC of the app's secret over the user and their session epoch, so it is the
    same after a lost session and another after a sign-out (the epoch moves), never stored."""
    user = current_user.user
    message = _DRAFT_KEY_LABEL + user.id.bytes + int(user.session_epoch).to_bytes(8, "big")
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@bp.app_context_processor
def _draft_key_context() -> dict[str, object]:
    return {"draft_key": draft_key}


@bp.route("/sw.js")
def worker() -> Response:
    """The service worker, served under /outreach/ so that its scope is the outreach pages."""
    response = Response(_WORKER.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # a new version is picked up at once
    return response


@bp.route("/offline")
@login_required
def start_shell() -> str:
    """The start page without signal: the recent contacts come from the phone's encrypted copy."""
    return render_template("outreach/offline.html", page_shell=True)


@bp.route("/offline/encounter")
@login_required
def encounter_shell() -> str:
    """An empty encounter form for no one: sent, it goes to the page's own address (the case's
    form the worker opened), so the shell names no case."""
    now = datetime.now(UTC).astimezone(local_zone()).strftime(TIME_FORMAT)
    return render_template(
        "outreach/encounter.html",
        page_shell=True,
        form=_Empty({"occurred_at": now}),
        errors={},
        identity=None,
        case_id=None,
        map=plan(areas(), select_locale()),
    )


@bp.route("/offline/register")
@login_required
def register_shell() -> str:
    return render_template("outreach/register.html", page_shell=True, form=_Empty({}), errors={})


class _Empty(dict[str, str]):
    """A form's starting values, read the way the templates read a MultiDict."""

    def getlist(self, key: str) -> list[str]:
        return [self[key]] if key in self else []
