"""Accounts through the pages: two-factor sign-in, sessions, throttling, headers, CSRF, and an org
admin's management of their own organisation's users."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from databank.domain.enums import Role
from databank.models import AuditEntry, Organisation, SignInFailure, User
from databank.schemas.handles import Handle
from databank.services.accounts import organisations, two_factor
from databank.services.runtime import Runtime
from tests.support import app_on
from tests.web.conftest import (
    PASSWORD,
    SECRETS,
    World,
    csrf,
    current_code,
    freeze_throttle,
    login,
    totp_secret_of,
)

# Endpoints any visitor may reach without being signed in (they show no data).
PUBLIC = {"auth.login", "auth.second_factor", "pages.healthz", "static", "account.setup_two_factor"}
PUBLIC |= {"auth.invitation"}  # the code form: it shows nothing before a valid code
# The API's description is public: it names operations and fields, never data.
PUBLIC |= {"api.openapi_json", "api.docs"}
# The outreach pages' service worker: a static script (web/static/outreach-sw.js), no data.
PUBLIC |= {"outreach_offline.worker"}
# plotly.js, served from the installed package (a vendor script, no data).
PUBLIC |= {"statistics.plotly_js"}


def _make_user(runtime: Runtime, org_slug: str, *roles: Role) -> str:
    username = f"u-{uuid.uuid4().hex[:10]}"
    with runtime.transaction() as session:
        org = session.execute(
            select(Organisation).where(Organisation.slug == org_slug)
        ).scalar_one()
        organisations.create_user(session, org, username, "Test user", PASSWORD, roles)
    return username


def _user(runtime: Runtime, username: str) -> User:
    with runtime.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        session.expunge(user)
    return user


def _post(client: FlaskClient, path: str, data: dict[str, str], page: str = "/") -> int:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)}).status_code


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _get_paths(app: Flask, world: World) -> list[tuple[str, str]]:
    """(endpoint, path) for every GET route, with a real case id where one is asked for."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        values = {}
        words = {"filename": "app.css", "fmt": "csv", "table": "needs", "month": "2026-11"}
        for arg in rule.arguments:
            values[arg] = str(world.own_case) if "case" in arg else words.get(arg, "x")
        with app.test_request_context():
            from flask import url_for

            paths.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return paths


# -- two-factor at sign-in ------------------------------------------------------------------------


def test_roles_that_need_two_factor_are_sent_to_enrolment(
    client: FlaskClient, app: Flask, web_runtime: Runtime
) -> None:
    for role, target in [
        (Role.HOUSING_OFFICER, "/account/2fa/setup"),
        (Role.AUDITOR, "/account/2fa/setup"),
        (Role.ORG_ADMIN, "/account/2fa/setup"),
        (Role.OUTREACH_WORKER, "/outreach/"),  # the street screen (navigation.LANDINGS)
    ]:
        fresh = app.test_client()
        username = _make_user(web_runtime, "charity", role)
        response = fresh.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf(fresh)},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == target, role


def test_enrolment_shows_the_secret_then_the_recovery_codes_once(
    client: FlaskClient, web_runtime: Runtime
) -> None:
    username = _make_user(web_runtime, "council", Role.HOUSING_OFFICER)
    _post(client, "/login", {"username": username, "password": PASSWORD}, "/login")
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    secret = totp_secret_of(page)
    assert "otpauth://totp/" in page
    # The half-signed-in visitor is not signed in: the caseload sends them to sign in.
    assert client.get("/").status_code == 302
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    response = client.post(
        "/account/2fa/setup", data={"code": wrong, "csrf_token": csrf(client, "/account/2fa/setup")}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in body
    assert 'id="code-error"' in body
    assert totp_secret_of(body) == secret  # the same secret, still to confirm
    response = client.post(
        "/account/2fa/setup",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(client, "/account/2fa/setup")},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9A-F-]+)</code></li>", body)
    assert len(codes) == 10
    assert 'id="recovery-codes"' in body
    assert client.get("/").status_code == 200  # signed in now
    assert client.get("/account/2fa/setup").status_code == 302  # enrolled: nothing to show


def _half_sign_in(client: FlaskClient, username: str) -> None:
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)}
    )
    assert response.headers["Location"] == "/login/2fa"


def _logout(client: FlaskClient) -> None:
    # The account page: every role has one ("/" sends an auditor on to the console).
    assert _post(client, "/logout", {}, "/account/") == 302


def test_wrong_and_replayed_codes_are_refused(app: Flask, web_runtime: Runtime) -> None:
    client = app.test_client()
    username = _make_user(web_runtime, "council", Role.AUDITOR)
    assert login(client, username) == 302
    _logout(client)
    secret = SECRETS[(str(web_runtime.engine.url), username)]
    last = _user(web_runtime, username).totp_last_step
    assert last is not None
    _half_sign_in(client, username)
    replayed = pyotp.TOTP(secret).at(last * 30)  # the code used at enrolment
    assert _post(client, "/login/2fa", {"code": replayed}, "/login/2fa") == 401
    assert _post(client, "/login/2fa", {"code": "12345x"}, "/login/2fa") == 401
    assert client.get("/").status_code == 302
    # The next time step's code is fresh (one step of clock drift is allowed).
    fresh = pyotp.TOTP(secret).at((last + 1) * 30)
    assert _post(client, "/login/2fa", {"code": fresh}, "/login/2fa") == 302
    assert client.get("/account/").status_code == 200


def test_a_recovery_code_works_once(app: Flask, web_runtime: Runtime) -> None:
    client = app.test_client()
    username = _make_user(web_runtime, "council", Role.HOUSING_OFFICER)
    _post(client, "/login", {"username": username, "password": PASSWORD}, "/login")
    secret = totp_secret_of(client.get("/account/2fa/setup").get_data(as_text=True))
    page = client.post(
        "/account/2fa/setup",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(client, "/account/2fa/setup")},
    ).get_data(as_text=True)
    code = re.findall(r"<li><code>([0-9A-F-]+)</code></li>", page)[0]
    _logout(client)
    _half_sign_in(client, username)
    assert _post(client, "/login/2fa", {"code": code}, "/login/2fa") == 302
    assert client.get("/account/").status_code == 200
    _logout(client)
    _half_sign_in(client, username)
    assert _post(client, "/login/2fa", {"code": code}, "/login/2fa") == 401


def test_logged_out_and_half_signed_in_visitors_get_nothing(
    app: Flask, world: World, web_runtime: Runtime
) -> None:
    """No route gives data to a visitor who is not fully signed in."""
    anonymous = app.test_client()
    half = app.test_client()
    username = _make_user(web_runtime, "charity", Role.ORG_ADMIN)
    assert login(half, username) == 302
    _logout(half)
    _half_sign_in(half, username)
    for client in (anonymous, half):
        for endpoint, path in _get_paths(app, world):
            if endpoint in PUBLIC:
                continue
            response = client.get(path)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (endpoint, path)
            else:
                assert response.status_code in (401, 403, 404), (endpoint, path)
            assert "CASENOTE" not in response.get_data(as_text=True)
    # The half-signed-in visitor could still finish signing in.
    assert half.get("/login/2fa").status_code == 200


# -- sessions ----------------------------------------------------------------------------------


def test_session_fixation_is_prevented(app: Flask, client: FlaskClient) -> None:
    client.get("/login")
    before = _session_cookie(client)
    assert login(client, "worker") == 302
    after = _session_cookie(client)
    assert after != before
    planted = app.test_client()
    planted.set_cookie("session", before)
    assert planted.get("/").status_code == 302
    with client.session_transaction() as flask_session:
        # Nothing from the pre-login session survives (its CSRF token is replaced too).
        assert "pending_user" not in flask_session
        assert "_user_id" in flask_session


def test_a_cookie_copied_before_logout_is_dead_after_logout(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    username = _make_user(web_runtime, "charity", Role.OUTREACH_WORKER)
    assert login(client, username) == 302
    copied = _session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 200
    _logout(client)
    assert thief.get("/").status_code == 302
    assert thief.get("/account/").status_code == 302


def test_idle_and_absolute_timeouts(client: FlaskClient, app: Flask) -> None:
    assert login(client, "worker") == 302
    assert client.get("/").status_code == 200
    with client.session_transaction() as flask_session:
        flask_session["seen"] = time.time() - app.config["DATABANK_IDLE_TIMEOUT"] - 1
    assert client.get("/").status_code == 302
    assert login(client, "worker") == 302
    with client.session_transaction() as flask_session:
        flask_session["signed_in_at"] = time.time() - app.config["DATABANK_SESSION_LIFETIME"] - 1
    assert client.get("/").status_code == 302


def test_cookie_flags(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "worker", "password": PASSWORD, "csrf_token": csrf(client)}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


# -- throttling -----------------------------------------------------------------------------------


def test_throttle_answers_429_to_one_account_from_one_address(
    app: Flask, client: FlaskClient
) -> None:
    """Past its free failures, an (account, address) waits: even the right password is answered
    429 there, with Retry-After; the same account from another address is not affected."""
    freeze_throttle(app)
    for _ in range(app.extensions["databank_throttle"].free + 1):
        assert login(client, "worker", "wrong password!!") == 401
    response = client.post(
        "/login", data={"username": "worker", "password": PASSWORD, "csrf_token": csrf(client)}
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "Please wait 1 second and try again" in response.get_data(as_text=True)
    other = client.post(
        "/login",
        data={"username": "worker", "password": PASSWORD, "csrf_token": csrf(client)},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 302


def test_throttle_is_shared_by_every_process_of_the_app(
    app: Flask, client: FlaskClient, web_runtime: Runtime, tmp_path: Path
) -> None:
    """Two apps over one database stand for two workers of a deployment: failures counted by
    one make the (account, address) wait on the other, which once kept counts of its own."""
    second = app_on(web_runtime, tmp_path / "worker2", fresh_throttle=False)
    freeze_throttle(second, freeze_throttle(app))
    other_worker = second.test_client()
    for _ in range(app.extensions["databank_throttle"].free):
        assert login(client, "worker", "wrong password!!") == 401
    assert login(other_worker, "worker", "wrong password!!") == 401  # the last free one
    refused = client.post(
        "/login", data={"username": "worker", "password": PASSWORD, "csrf_token": csrf(client)}
    )
    assert refused.status_code == 429
    refused = other_worker.post(
        "/login",
        data={"username": "worker", "password": PASSWORD, "csrf_token": csrf(other_worker)},
    )
    assert refused.status_code == 429


def test_throttle_keeps_addresses_as_keyed_tags_only(app: Flask, web_runtime: Runtime) -> None:
    """The database holds a tag per failure, never the address: not in the rows, not as a plain
    hash of it (which anyone could compute for every IPv4 address)."""
    client = app.test_client()
    address = "198.51.100.23"
    for _ in range(3):
        response = client.post(
            "/login",
            data={"username": "nobody", "password": "wrong password!!", "csrf_token": csrf(client)},
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 401
    with web_runtime.transaction() as session:
        tags = session.scalars(select(SignInFailure.address_tag)).all()
    assert len(tags) == 3
    assert len(set(tags)) == 1
    [tag] = set(tags)
    assert len(tag) == 16
    plain = {hashlib.sha256(address.encode()).digest()[:16], address.encode()[:16]}
    assert tag not in plain
    assert address.encode() not in tag
    if web_runtime.engine.url.get_backend_name() == "sqlite":
        database = Path(str(web_runtime.engine.url.database))
        raw = b"".join(
            p.read_bytes() for p in database.parent.iterdir() if p.name.startswith(database.name)
        )
        assert address.encode() not in raw
        assert address.encode("utf-16-le") not in raw


def test_wrong_codes_lock_the_account(app: Flask, web_runtime: Runtime) -> None:
    client = app.test_client()
    username = _make_user(web_runtime, "council", Role.AUDITOR)
    assert login(client, username) == 302
    _logout(client)
    _half_sign_in(client, username)
    for _ in range(two_factor.MAX_FAILED_CODES):
        assert _post(client, "/login/2fa", {"code": "ZZZZZ"}, "/login/2fa") == 401
    response = client.post(
        "/login/2fa", data={"code": "ZZZZZ", "csrf_token": csrf(client, "/login/2fa")}
    )
    assert "locked" in response.get_data(as_text=True)
    # The password step says so too, but only after the right password (from an address that
    # has not failed for this account, since failed codes also make this address wait).
    elsewhere = {"REMOTE_ADDR": "192.0.2.77"}
    right = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)},
        environ_base=elsewhere,
    )
    assert right.status_code == 401
    assert "locked" in right.get_data(as_text=True)
    wrong = client.post(
        "/login",
        data={"username": username, "password": "wrong password!!", "csrf_token": csrf(client)},
        environ_base=elsewhere,
    )
    assert wrong.status_code == 401
    assert "locked" not in wrong.get_data(as_text=True)


# -- org admin ------------------------------------------------------------------------------------


def test_invite_accept_enrol_and_sign_in(app: Flask, client: FlaskClient) -> None:
    assert login(client, "admin") == 302
    assert client.get("/organisation/users/").status_code == 200
    response = _invite(client, "New Officer", "housing_officer")
    assert response.status_code == 200
    match = re.search(r'id="invitation-link">/invite#([^<]+)<', response.get_data(as_text=True))
    assert match is not None
    token = match.group(1)
    newcomer = app.test_client()
    # The page at /invite asks for the code (its script takes it from after the #); the code
    # alone, posted, opens the form to join.
    assert 'name="token"' in newcomer.get("/invite").get_data(as_text=True)
    opened = _open(newcomer, token)
    assert opened.status_code == 200
    assert "You are invited as New Officer" in opened.get_data(as_text=True)
    short = _join(newcomer, token, "newofficer", "short")
    assert short.status_code == 422
    assert 'id="password-error"' in short.get_data(as_text=True)
    assert f'name="token" value="{token}"' in short.get_data(as_text=True)  # kept for a retry
    response = _join(newcomer, token, "newofficer", PASSWORD)
    assert response.headers["Location"] == "/account/2fa/setup"
    assert newcomer.get("/").status_code == 302  # not signed in before enrolment
    secret = totp_secret_of(newcomer.get("/account/2fa/setup").get_data(as_text=True))
    page = newcomer.post(
        "/account/2fa/setup",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(newcomer, "/account/2fa/setup")},
    ).get_data(as_text=True)
    assert 'id="recovery-codes"' in page
    assert newcomer.get("/").status_code == 200
    # The admin's list shows the new user, with two-factor on; the link is spent.
    listing = client.get("/organisation/users/").get_data(as_text=True)
    assert "newofficer" in listing
    other = app.test_client()
    spent = _open(other, token)
    assert spent.status_code == 404


def _invite(admin: FlaskClient, display_name: str, role: str) -> TestResponse:
    """An org admin's invitation, through their staff page."""
    data = {"display_name": display_name, "roles": [role]}
    return admin.post(
        "/organisation/users/invite",
        data={**data, "csrf_token": csrf(admin, "/organisation/users/")},
    )


def _open(client: FlaskClient, token: str) -> TestResponse:
    """The invitation code alone, posted as the page's script posts it."""
    return client.post("/invite", data={"token": token, "csrf_token": csrf(client, "/invite")})


def _join(client: FlaskClient, token: str, username: str, password: str) -> TestResponse:
    data = {"token": token, "username": username, "password": password}
    return client.post("/invite", data={**data, "csrf_token": csrf(client, "/invite")})


def test_invitation_token_never_in_an_address(app: Flask, client: FlaskClient) -> None:
    """The token travels after # (never sent by browsers) and in POST bodies, never in a path or
    a query: request logs, proxies and the history's paths never hold it."""
    assert login(client, "admin") == 302
    page = _invite(client, "Some Worker", "outreach_worker").get_data(as_text=True)
    link = re.search(r'id="invitation-link">([^<]+)<', page)
    assert link is not None
    parts = urlsplit(link.group(1))
    assert (parts.path, parts.query) == ("/invite", "")
    token = parts.fragment
    assert len(token) >= 40
    # The token in the path, as earlier links had it, opens nothing, and says what to do.
    old = app.test_client().get(f"/invite/{token}")
    assert old.status_code == 404
    assert "Ask your organisation administrator for a new one" in old.get_data(as_text=True)
    # The form to join posts back to the bare address.
    newcomer = app.test_client()
    opened = _open(newcomer, token)
    assert 'action="/invite"' in opened.get_data(as_text=True)
    assert _join(newcomer, token, "someworker", PASSWORD).status_code == 302


def test_wrong_invitation_codes_count_as_failed_sign_ins(app: Flask) -> None:
    """A guessed code is refused like a wrong password: past the free failures, the address
    waits before its next code, growing waits after each further wrong one."""
    freeze_throttle(app)
    guesser = app.test_client()
    for _ in range(app.extensions["databank_throttle"].free + 1):
        wrong = _open(guesser, "guess")
        assert wrong.status_code == 404
        assert "This invitation cannot be used" in wrong.get_data(as_text=True)
    refused = _open(guesser, "guess")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_invitation_errors_name_the_field(client: FlaskClient) -> None:
    assert login(client, "admin") == 302
    response = client.post(
        "/organisation/users/invite",
        data={"display_name": "", "csrf_token": csrf(client, "/organisation/users/")},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="display_name-error"' in body
    assert 'id="roles-error"' in body


def test_deactivation_ends_the_users_live_session(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    username = _make_user(web_runtime, "charity", Role.OUTREACH_WORKER)
    member = app.test_client()
    assert login(member, username) == 302
    assert member.get("/").status_code == 200
    assert login(client, "admin") == 302
    user_id = _user(web_runtime, username).id
    assert (
        _post(
            client,
            f"/organisation/users/{user_id}/deactivate",
            {"confirm": "yes"},
            "/organisation/users/",
        )
        == 302
    )
    assert member.get("/").status_code == 302
    assert login(member, username) == 401


def test_deactivation_and_reactivation_ask_for_confirmation_first(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    """Deactivating or reactivating an account changes nothing until the confirm box is ticked;
    then the member is out, and back in once reactivated (both logged)."""
    username = _make_user(web_runtime, "charity", Role.OUTREACH_WORKER)
    user_id = _user(web_runtime, username).id
    assert login(client, "admin") == 302
    listing = client.get("/organisation/users/").get_data(as_text=True)
    assert f'href="/organisation/users/{user_id}/deactivate"' in listing
    page = client.get(f"/organisation/users/{user_id}/deactivate")
    assert page.status_code == 200
    assert 'name="confirm"' in page.get_data(as_text=True)
    path = f"/organisation/users/{user_id}/deactivate"
    unconfirmed = client.post(path, data={"csrf_token": csrf(client, path)})
    assert unconfirmed.status_code == 422
    assert 'id="confirm-error"' in unconfirmed.get_data(as_text=True)
    assert _user(web_runtime, username).is_active
    assert _post(client, path, {"confirm": "yes"}, path) == 302
    assert not _user(web_runtime, username).is_active
    assert login(app.test_client(), username) == 401
    listing = client.get("/organisation/users/").get_data(as_text=True)
    assert "The account is deactivated" in listing
    back = f"/organisation/users/{user_id}/reactivate"
    assert f'href="{back}"' in listing
    assert _post(client, back, {}, back) == 422
    assert not _user(web_runtime, username).is_active
    assert _post(client, back, {"confirm": "yes"}, back) == 302
    assert _user(web_runtime, username).is_active
    assert login(app.test_client(), username) == 302
    # Reactivating an active account is refused, naming the problem.
    again = client.post(back, data={"confirm": "yes", "csrf_token": csrf(client, back)})
    assert again.status_code == 422
    assert "already active" in again.get_data(as_text=True)
    with web_runtime.transaction() as session:
        events = session.scalars(
            select(AuditEntry.event).where(
                AuditEntry.event.in_(["users.deactivate", "users.reactivate"]),
                AuditEntry.decision == "allow",
            )
        ).all()
    assert "users.reactivate" in events


def test_reset_two_factor_ends_sessions_and_forces_enrolment(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    username = _make_user(web_runtime, "charity", Role.HOUSING_OFFICER)
    member = app.test_client()
    assert login(member, username) == 302
    assert login(client, "admin") == 302
    user_id = _user(web_runtime, username).id
    assert (
        _post(client, f"/organisation/users/{user_id}/reset-2fa", {}, "/organisation/users/") == 302
    )
    assert member.get("/").status_code == 302
    fresh = app.test_client()
    response = fresh.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(fresh)}
    )
    assert response.headers["Location"] == "/account/2fa/setup"


def test_an_org_admin_cannot_manage_another_orgs_users(
    client: FlaskClient, web_runtime: Runtime, app: Flask
) -> None:
    victim = _user(web_runtime, "victim")
    assert login(client, "admin") == 302  # the charity's admin; the victim is at the council
    for action in ("deactivate", "reactivate", "reset-2fa"):
        path = f"/organisation/users/{victim.id}/{action}"
        assert _post(client, path, {"confirm": "yes"}, "/organisation/users/") == 403
        if action != "reset-2fa":
            assert client.get(path).status_code == 403
    assert _user(web_runtime, "victim").is_active
    officer = app.test_client()
    assert login(officer, "officer") == 302  # not an admin at all
    assert officer.get("/organisation/users/").status_code == 403
    data = {"display_name": "X", "roles": "auditor"}
    assert _post(officer, "/organisation/users/invite", data) == 403
    listing = client.get("/organisation/users/").get_data(as_text=True)
    assert "<td>victim</td>" not in listing
    assert "<td>officer</td>" not in listing


# -- the account page -----------------------------------------------------------------------------


def test_account_page_and_password_change(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    username = _make_user(web_runtime, "charity", Role.ORG_ADMIN)
    assert login(client, username) == 302
    other = app.test_client()
    assert login(other, username) == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "cannot be turned off" in page
    refused = client.post("/account/recovery-codes", data={"csrf_token": csrf(client, "/account/")})
    assert refused.status_code == 422  # a session alone is not enough
    assert 'id="renewal_code-error"' in refused.get_data(as_text=True)
    response = client.post(
        "/account/recovery-codes",
        data={
            "renewal_code": current_code(web_runtime, username),
            "csrf_token": csrf(client, "/account/"),
        },
    )
    assert 'id="recovery-codes"' in response.get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "new_password": "a new long password",
            "confirm_password": "a new long password",
            "csrf_token": csrf(client, "/account/"),
        },
    )
    assert wrong.status_code == 422
    assert 'id="current_password-error"' in wrong.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "confirm_password": "a new long password",
            "csrf_token": csrf(client, "/account/"),
        },
    )
    assert ok.status_code == 302
    assert client.get("/account/").status_code == 200  # this session goes on
    assert other.get("/account/").status_code == 302  # the other one has ended


# -- headers and CSRF -----------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_every_page_has_the_security_headers_and_no_inline_code(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert login(client, "admin") == 302
    for endpoint, path in _get_paths(app, world):
        if endpoint in ("static", "statistics.plotly_js"):  # files as they are, no page
            continue
        response = client.get(path)
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "max-age=" in headers["Strict-Transport-Security"]  # cookies are Secure here
        if response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            assert not INLINE_SCRIPT.search(body), path
            assert "style=" not in body, path
            assert not INLINE_HANDLER.search(body), path


def test_csrf_is_refused_on_every_post_route(app: Flask, client: FlaskClient, world: World) -> None:
    assert login(client, "admin") == 302
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/api/"):
            continue
        values = {
            arg: Handle(int=world.own_case.int)  # a person handle, written as it is
            if arg == "person_id"
            else str(world.own_case)
            if "id" in arg
            else "x"
            for arg in rule.arguments
        }
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **values)
        response = client.post(path, data={"username": "admin", "password": PASSWORD})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        checked += 1
    assert checked >= 10
    assert client.get("/").status_code == 200  # still signed in: nothing was done


def test_finding13_sign_in_pages_work_signed_out(client: FlaskClient) -> None:
    """Signed out, the sign-in pages work: /login answers 200 with the sign-in form, /invite 200
    with the form for an invitation's code, and /login/2fa, with no password step behind it,
    sends back to /login; each with the security headers."""
    pages = {"/login": ("username", "password"), "/invite": ("token",)}
    for path, fields in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response.headers
        form = response.get_data(as_text=True)
        assert f'<form method="post" action="{path}"' in form, path
        for name in (*fields, "csrf_token"):
            assert f'name="{name}"' in form, (path, name)
    second = client.get("/login/2fa")
    assert second.status_code == 302
    assert second.headers["Location"].endswith("/login")
    assert "Content-Security-Policy" in second.headers


def test_cli_invite_and_reset_two_factor(app: Flask, web_runtime: Runtime) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "invite", "--org", "charity", "--name", "Cli Person", "--role", "auditor"]
    )
    assert result.exit_code == 0, result.output
    path = result.output.strip().rsplit(" ", 1)[-1]
    assert path.startswith("/invite#")
    response = _join(app.test_client(), path.removeprefix("/invite#"), "cliperson", PASSWORD)
    assert response.headers["Location"] == "/account/2fa/setup"
    assert login(app.test_client(), "cliperson") == 302  # enrols through the setup page
    assert _user(web_runtime, "cliperson").totp_enabled_at is not None
    result = runner.invoke(args=["users", "reset-2fa", "cliperson"])
    assert result.exit_code == 0, result.output
    assert _user(web_runtime, "cliperson").totp_enabled_at is None
    result = runner.invoke(args=["users", "reset-2fa", "nobody-at-all"])
    assert result.exit_code == 1


def test_an_invitation_link_never_follows_the_host_header(
    web_runtime: Runtime, tmp_path: Path
) -> None:
    """Invitation links are built on the configured public address: a forged Host header does
    not send the invitee (and the token) elsewhere; with none configured, the link is a path to
    append to the site's address (finding 12 of the attacker review)."""
    from databank.web.auth import invitation_link

    public = "https://databank.example.org"
    for public_url, expected in ((public, f"{public}/invite#tok"), ("", "/invite#tok")):
        app = app_on(
            web_runtime, tmp_path / ("public" if public_url else "none"), public_url=public_url
        )
        with app.test_request_context(
            "/organisation/users/invite", headers={"Host": "evil.example"}
        ):
            assert invitation_link("tok") == expected


# -- weak passwords ------------------------------------------------------------------------------

FR = {"Accept-Language": "fr"}


def test_finding12_weak_passwords_are_refused_on_every_door(
    app: Flask, client: FlaskClient, web_runtime: Runtime
) -> None:
    """Every door that sets a password (invitation, password change, the operator's command)
    refuses a known-weak one or one holding the username or the org's name: a 422 or an error
    naming the field and saying why, in English and French; a strong one is accepted
    (finding 12)."""
    strong = "tango ravioli hammock quartz"
    weak = ["password1234", "Password123!", "Summer2024!", "charity12345"]  # org: Charity
    # The invitation.
    assert login(client, "admin") == 302
    link = re.search(
        r'id="invitation-link">/invite#([^<]+)<',
        _invite(client, "Weak Door", "outreach_worker").get_data(as_text=True),
    )
    assert link is not None
    newcomer = app.test_client()
    for password in [*weak, "weakdoor-horse-battery"]:
        refused = _join(newcomer, link.group(1), "weakdoor", password)
        assert refused.status_code == 422, password
        assert 'id="password-error"' in refused.get_data(as_text=True), password
    refused = newcomer.post(
        "/invite",
        data={
            "token": link.group(1),
            "username": "weakdoor",
            "password": "password1234",
            "csrf_token": csrf(newcomer, "/invite"),
        },
        headers=FR,
    )
    assert "trop facile à deviner" in refused.get_data(as_text=True)
    assert _join(newcomer, link.group(1), "weakdoor", strong).status_code == 302
    # The password change.
    username = _make_user(web_runtime, "charity", Role.OUTREACH_WORKER)
    member = app.test_client()
    assert login(member, username) == 302
    for password in [*weak, f"{username}-is-me"]:
        refused = member.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": password,
                "confirm_password": password,
                "csrf_token": csrf(member, "/account/"),
            },
        )
        assert refused.status_code == 422, password
        assert 'id="new_password-error"' in refused.get_data(as_text=True), password
    changed = member.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": strong,
            "confirm_password": strong,
            "csrf_token": csrf(member, "/account/"),
        },
    )
    assert changed.status_code == 302
    # The operator's command.
    runner = app.test_cli_runner()
    base = ["users", "create", "--org", "charity", "--username", "clidoor", "--name", "Cli"]
    base += ["--role", "outreach_worker", "--password"]
    for password in [*weak, "CliDoor-horse-battery"]:
        result = runner.invoke(args=[*base, password])
        assert result.exit_code == 1, password
        assert "password:" in result.output, password
    assert runner.invoke(args=[*base, strong]).exit_code == 0
