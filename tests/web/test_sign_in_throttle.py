"""Sign-in throttling as an attacker meets it: failures slow the (account, address) that made
them, never another user, never the account's owner elsewhere, and an unknown username is
answered as an existing one (findings 5 and 6 of the attacker review, issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from databank.models import SignInFailure
from databank.services.keys.keyring import keyring_of
from databank.services.runtime import Runtime
from tests.support import app_on
from tests.web.conftest import PASSWORD, World, csrf, freeze_throttle

WRONG = "not the password at all"
OUTREACH_HOME = "/outreach/"  # where a signed-in outreach worker lands (navigation.LANDINGS)


def _attempt(
    client: FlaskClient,
    username: str,
    password: str,
    address: str = "192.0.2.10",
    forwarded_for: str | None = None,
) -> TestResponse:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _signed_in(response: TestResponse) -> bool:
    return response.status_code == 302 and response.headers["Location"] == OUTREACH_HOME


def _tags(runtime: Runtime) -> set[bytes]:
    with runtime.transaction() as session:
        return set(session.scalars(select(SignInFailure.address_tag)))


def _tag(runtime: Runtime, address: str) -> bytes:
    with runtime.transaction() as session:
        return keyring_of(session).address_tags.tag(address)


def test_finding5_one_users_failures_do_not_stop_another_user_at_the_same_address(
    app: Flask, world: World
) -> None:
    """Failures for one username from an address never stop another user from signing in
    with a correct password from that address (finding 5)."""
    client = app.test_client()
    for _ in range(25):
        assert _attempt(client, "victim", WRONG).status_code in (401, 429)
    assert _signed_in(_attempt(app.test_client(), "worker", PASSWORD))


def test_finding5_a_correct_password_is_never_refused_for_other_usernames_failures(
    app: Flask, world: World
) -> None:
    """However many usernames fail from one address (a shared proxy, an office), a correct
    password of a username that has not failed there is accepted, never answered 429."""
    spray = app.test_client()
    for n in range(45):
        response = _attempt(spray, f"nobody-{n}", WRONG)
        assert response.status_code == 401, n  # a first failure for each name: not slowed
        if n % 5 == 4:
            assert _signed_in(_attempt(app.test_client(), "worker", PASSWORD)), n


def test_finding5_the_client_address_honours_trusted_proxies_only(
    app: Flask, web_runtime: Runtime, tmp_path: Path
) -> None:
    """Without trusted proxies configured, a forged X-Forwarded-For is ignored (the peer's
    address counts); with DATABANK_TRUSTED_PROXIES=1, the address the proxy appended counts,
    so clients behind one proxy are told apart."""
    client = app.test_client()
    for n in range(3):
        assert (
            _attempt(client, "worker", WRONG, "203.0.113.5", f"198.51.100.{n}").status_code == 401
        )
    assert _tags(web_runtime) == {_tag(web_runtime, "203.0.113.5")}

    proxied = app_on(web_runtime, tmp_path / "proxied", trusted_proxies=1)
    freeze_throttle(proxied)
    proxy = "10.0.0.1"  # every request reaches the app from the proxy
    attacker = proxied.test_client()
    for _ in range(12):
        response = _attempt(attacker, "worker", WRONG, proxy, "6.6.6.6, 198.51.100.66")
        assert response.status_code in (401, 429)
    assert _tags(web_runtime) == {_tag(web_runtime, "198.51.100.66")}
    assert _attempt(attacker, "worker", PASSWORD, proxy, "198.51.100.66").status_code == 429
    owner = proxied.test_client()
    assert _signed_in(_attempt(owner, "worker", PASSWORD, proxy, "198.51.100.7"))


def _body(response: TestResponse) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def test_finding6_unknown_and_existing_usernames_get_the_same_answer(
    app: Flask, world: World
) -> None:
    """A wrong password for an existing user and any password for an unknown username get the
    same status and the same page, at every attempt (no enumeration, no "locked" tell)."""
    freeze_throttle(app)
    client = app.test_client()
    for attempt in range(1, 11):
        known = _attempt(client, "officer", WRONG)
        unknown = _attempt(client, "no-such-officer", WRONG)
        assert (known.status_code, _body(known)) == (unknown.status_code, _body(unknown)), attempt
        assert known.status_code in (401, 429)
        assert "locked" not in _body(known)


def test_finding6_an_attackers_failures_do_not_lock_the_owner_out(app: Flask, world: World) -> None:
    """Failures from an attacker's address slow that address for that account, with growing
    waits; the account's owner signs in from their own address as usual (no lock that any
    address can trigger)."""
    freeze_throttle(app)
    attacker = app.test_client()
    free = app.extensions["databank_throttle"].free
    statuses = [_attempt(attacker, "worker", WRONG, "198.51.100.99").status_code for _ in range(8)]
    assert statuses == [401] * (free + 1) + [429] * (7 - free)  # the free ones, then a wait
    waiting = _attempt(attacker, "worker", PASSWORD, "198.51.100.99")
    assert waiting.status_code == 429  # the attacker's address cannot test a password meanwhile
    assert int(waiting.headers["Retry-After"]) >= 1
    assert _signed_in(_attempt(app.test_client(), "worker", PASSWORD, "192.0.2.44"))
