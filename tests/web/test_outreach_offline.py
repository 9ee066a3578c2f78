"""The outreach pages without signal and after a lost session (issue 17, point 5): the service
worker and its shells, the key of what the phone keeps, signing in again back to the form."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, World, csrf, login

SHELLS = ("/outreach/offline", "/outreach/offline/encounter", "/outreach/offline/register")


@pytest.fixture
def worker(client: FlaskClient) -> FlaskClient:
    assert login(client, "worker") == 302
    return client


def _key(client: FlaskClient, path: str = "/outreach/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<meta name="draft-key" content="([A-Za-z0-9_-]{43})">', page)
    assert found is not None, "an online outreach page hands over the user's key"
    return found.group(1)


def _sign_in(client: FlaskClient, username: str = "worker", then: str | None = None) -> str:
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf(client)}
    if then is not None:
        data["next"] = then
    response = client.post("/login", data=data)
    assert response.status_code == 302
    return response.headers["Location"]


def test_the_service_worker_is_served_for_the_outreach_scope(client: FlaskClient) -> None:
    response = client.get("/outreach/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "registration.scope" in response.get_data(as_text=True)


def test_the_shells_name_no_one_and_carry_no_key(worker: FlaskClient, world: World) -> None:
    """What the service worker keeps is drawn for no person: no name, no case, no draft key."""
    for path in SHELLS:
        response = worker.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert 'name="draft-key"' not in page, path
        assert "Lefèvre" not in page
        assert "Amélie" not in page
        assert str(world.own_case) not in page
    encounter = worker.get("/outreach/offline/encounter").get_data(as_text=True)
    # Sent to the address the shell was opened at: the case's own form.
    form = re.search(r"<form [^>]*data-queue[^>]*>", encounter)
    assert form is not None
    assert "action=" not in form.group(0)
    assert "data-shell" in form.group(0)
    assert "data-offline-contacts" in worker.get("/outreach/offline").get_data(as_text=True)


def test_the_shells_need_a_signed_in_user(client: FlaskClient) -> None:
    for path in SHELLS:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_key_survives_a_lost_session_but_not_a_sign_out(worker: FlaskClient) -> None:
    """The key is the same after a session lost (idle, expired: the draft opens again once signed
    in), another after signing out (what was kept never opens again)."""
    first = _key(worker)
    worker.delete_cookie("session")  # the session is lost: no sign-out
    _sign_in(worker)
    assert _key(worker) == first
    signed_out = worker.post("/logout", data={"csrf_token": csrf(worker, "/outreach/")})
    assert signed_out.status_code == 302
    assert "storage" in signed_out.headers["Clear-Site-Data"]
    _sign_in(worker)
    assert _key(worker) != first


def test_signing_in_again_goes_back_to_the_form(worker: FlaskClient, world: World) -> None:
    form = f"/outreach/cases/{world.own_case}/encounters/new"
    worker.delete_cookie("session")
    lost = worker.get(form)
    assert lost.status_code == 302
    assert lost.headers["Location"].startswith("/login?next=")
    page = worker.get(lost.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="{form}"' in page
    assert _sign_in(worker, then=form) == form
    # Never to another site.
    worker.delete_cookie("session")
    assert _sign_in(worker, then="//evil.example/x") == "/outreach/"
