"""English and French throughout: every string is in the French catalogue, the compiled catalogue
is the one the .po gives, and the language follows the browser, then the user's switch."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import pgettext
from sqlalchemy import select
from werkzeug.test import TestResponse

import databank
from databank.domain.enums import Role
from databank.models import Organisation, User
from databank.services.accounts import organisations
from databank.services.accounts.tokens import SCOPES
from databank.services.runtime import Runtime
from databank.web.tokens import SCOPE_TEXT
from tests.web.conftest import PASSWORD, csrf, login

PACKAGE = Path(databank.__file__).parent
CATALOGUE = PACKAGE / "web" / "translations" / "fr" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
# The same keywords as scripts/translations: a context (pgettext) tells apart one English text
# said two ways in French ("Open case" as a heading and as a link).
CONTEXT = ((1, "c"), 2)
FR = {"Accept-Language": "fr"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "pgettext": CONTEXT,
    "_lp": CONTEXT,
    "lazy_pgettext": CONTEXT,
}


def _source_messages() -> set[tuple[str, str | None]]:
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        PACKAGE, METHODS, keywords=KEYWORDS
    ):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


def _translated(catalogue: Catalog, msgid: str, context: str | None) -> bool:
    message = catalogue.get(msgid, context=context)
    if message is None or message.fuzzy:
        return False
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)  # every plural form too


def test_every_string_has_a_french_translation() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="fr")
    source = _source_messages()
    missing = sorted(
        f"{context}|{m}" if context else m
        for m, context in source
        if not _translated(catalogue, m, context)
    )
    assert len(source) > 100
    assert ("Open case", "heading") in source
    assert ("Open case", "link") in source
    assert missing == [], f"run scripts/translations and translate: {missing[:20]}"


def test_every_token_scope_is_described_on_the_page() -> None:
    assert SCOPE_TEXT.keys() == SCOPES.keys()


def _messages(catalogue: Catalog) -> dict[tuple[object, str | None], object]:
    """What a catalogue translates: each message's id (plural ids as a tuple) and context, to
    its string(s). The compiled file's header, which names the Babel that wrote it, is left
    out: it changes with each Babel release, the translations do not."""
    return {
        (m.id if isinstance(m.id, str) else tuple(m.id), m.context): m.string
        for m in catalogue
        if m.id
    }


def test_the_compiled_catalogue_is_up_to_date() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="fr")
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    with (CATALOGUE / "messages.mo").open("rb") as mo:
        shipped = read_mo(mo)
    assert _messages(shipped) == _messages(read_mo(compiled)), (
        "run scripts/translations to compile messages.mo"
    )
    assert len(_messages(shipped)) > 100


def test_language_follows_the_browser_then_the_switch(client: FlaskClient) -> None:
    french = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert 'lang="fr"' in french.text
    assert "Se connecter" in french.text or "Connexion" in french.text
    english = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert 'lang="en"' in english.text
    client.get("/login")  # a CSRF token in the session
    with client.session_transaction() as session:
        token = session["csrf_token"]
    switched = client.post(
        "/language",
        data={"lang": "fr", "next": "/login", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login")
    assert 'lang="fr"' in client.get("/login", headers={"Accept-Language": "en"}).text


def test_the_switch_never_redirects_off_site(client: FlaskClient) -> None:
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            "/language", data={"lang": "fr", "next": target, "csrf_token": token}
        )
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]
        assert not response.headers["Location"].startswith("javascript")


def test_signed_in_pages_speak_french(client: FlaskClient) -> None:
    assert login(client, "officer") == 302
    page = client.get("/", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert 'lang="fr"' in page.text
    assert "Se déconnecter" in page.text


def _text(response: TestResponse) -> str:
    """The page as read: entities such as &#39; decoded."""
    return html.unescape(response.get_data(as_text=True))


def test_the_sign_in_note_of_a_signed_out_visitor_is_french(client: FlaskClient) -> None:
    """A signed-out visitor sent to the sign-in page is told why, in their language."""
    page = client.get("/referrals", headers=FR, follow_redirects=True).get_data(as_text=True)
    assert "Connectez-vous pour voir cette page." in page
    english = client.get("/referrals", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in to see this page." in english


def test_error_page_speaks_french_and_names_the_site_once(client: FlaskClient) -> None:
    french = client.get("/nowhere", headers=FR)
    assert french.status_code == 404
    assert "Page introuvable" in _text(french)
    assert "requested URL" not in _text(french)  # werkzeug's English description
    title = re.search(r"<title>(.*)</title>", _text(french))
    assert title is not None
    assert title.group(1).count("Databank") == 1
    assert "Page not found" in client.get("/nowhere", headers={"Accept-Language": "en"}).text


def test_api_errors_stay_english_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nowhere", headers=FR)
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == "not_found"
    assert "not found" in body["message"]


def test_the_form_expired_message_is_french(client: FlaskClient) -> None:
    assert login(client, "worker") == 302
    response = client.post("/account/password", data={}, headers=FR)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in _text(response)


def test_account_messages_from_the_services_are_french(client: FlaskClient) -> None:
    assert login(client, "worker") == 302
    form = {
        "current_password": "not the password",
        "new_password": "a long enough new password",
        "confirm_password": "a long enough new password",
        "csrf_token": csrf(client, "/account/"),
    }
    french = client.post("/account/password", data=form, headers=FR)
    assert french.status_code == 422
    assert "Ce n'est pas votre mot de passe actuel." in _text(french)
    assert "is not your password" not in _text(french)
    english = client.post("/account/password", data=form, headers={"Accept-Language": "en"})
    assert "This is not your current password." in _text(english)


def test_token_scopes_are_described_in_french(client: FlaskClient) -> None:
    assert login(client, "worker") == 302
    page = client.get("/account/tokens/", headers=FR)
    assert page.status_code == 200
    assert "Rechercher dans les dossiers de la structure" in _text(page)
    assert "Search the organisation's own records" not in _text(page)


def test_audit_console_speaks_french(client: FlaskClient, web_runtime: Runtime) -> None:
    with web_runtime.transaction() as session:
        council = session.scalars(select(Organisation).where(Organisation.slug == "council")).one()
        if session.scalars(select(User).where(User.username == "fr-auditor")).first() is None:
            organisations.create_user(
                session, council, "fr-auditor", "Auditor", PASSWORD, [Role.AUDITOR]
            )
    assert login(client, "fr-auditor") == 302
    entries = client.get("/audit/", headers=FR)
    assert entries.status_code == 200
    assert "Journal d'accès" in _text(entries)
    assert "Console d'audit" in _text(entries)
    assert "Access log" not in _text(entries)
    bad = client.get("/audit/?limit=0&actor_user_id=nope&person_id=x", headers=FR)
    assert bad.status_code == 400
    assert "Donnez un nombre de 1 à 1000." in _text(bad)
    assert "Ce n'est pas un identifiant valide (UUID)." in _text(bad)
    assert "Cherchez une personne avec le formulaire" in _text(bad)
    status = client.get("/audit/status", headers=FR)
    assert "Vérifier tout le journal" in _text(status)
    alerts = client.get("/audit/alerts", headers=FR)
    assert "Aucune alerte" in _text(alerts) or "Examen" in _text(alerts)


def test_open_case_is_said_two_ways_in_french(app: Flask) -> None:
    with app.test_request_context(headers=FR):
        assert pgettext("heading", "Open case") == "Dossier ouvert"
        assert pgettext("link", "Open case") == "Ouvrir le dossier"


def test_policy_levels_are_words_not_codes(client: FlaskClient) -> None:
    assert login(client, "admin") == 302
    page = _text(client.get("/organisation/policy", headers=FR))
    assert "non communiqué" in page
    assert "<td>none</td>" not in page


def test_a_refusal_page_is_french(client: FlaskClient) -> None:
    assert login(client, "officer") == 302
    refused = client.get("/audit/", headers=FR)
    assert refused.status_code == 403
    assert "Accès refusé" in _text(refused)
    assert "pour cette finalité" in _text(refused)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",  # browsers drop tabs and newlines: this is //evil.example
        "/\n/evil.example",
        "/\r\n/evil.example/x",
        "/ /evil.example",
        "/%09/evil.example",
        "/\x7f/evil.example",
        "/caseload\r\nSet-Cookie: x=1",
    ],
)
def test_next_is_normalised_before_it_is_checked(client: FlaskClient, target: str) -> None:
    """A `next` path with control characters, or one that normalises to another host, sends
    the user home, never off the site, and never fails (finding 10 of the attacker review)."""
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    response = client.post("/language", data={"lang": "fr", "next": target, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_nul_in_next_is_a_bad_request(client: FlaskClient) -> None:
    """A NUL byte in a form is refused as a bad request, not redirected and not a 500."""
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    data = {"lang": "fr", "next": "/\x00/evil.example", "csrf_token": token}
    assert client.post("/language", data=data).status_code == 400
