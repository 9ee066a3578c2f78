"""A web app over its own committed database (requests commit, so no per-test rollback here)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import User
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.records import people
from databank.services.runtime import Runtime
from tests.factories import intake_record
from tests.support import app_on, scratch_runtime

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class World:
    own_case: uuid.UUID
    other_case: uuid.UUID


@pytest.fixture(scope="module")
def web_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_web", tmp_path_factory.mktemp("web"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def world(web_runtime: Runtime) -> World:
    with web_runtime.transaction() as session:
        charity = organisations.create_organisation(session, "charity", "Charity", OrgKind.CHARITY)
        council = organisations.create_organisation(session, "council", "Council", OrgKind.COUNCIL)
        organisations.create_user(
            session, charity, "worker", "Worker", PASSWORD, [Role.OUTREACH_WORKER]
        )
        organisations.create_user(session, charity, "admin", "Admin", PASSWORD, [Role.ORG_ADMIN])
        organisations.create_user(
            session, council, "officer", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        organisations.create_user(
            session, council, "victim", "Victim", PASSWORD, [Role.HOUSING_OFFICER]
        )
        [own] = people.intake(
            session,
            Actor(None, charity.id, charity.kind, frozenset({Role.OUTREACH_WORKER})),
            Purpose.OUTREACH,
            [intake_record()],
        )
        [other] = people.intake(
            session,
            Actor(None, council.id, council.kind, frozenset({Role.HOUSING_OFFICER})),
            Purpose.CASE_MANAGEMENT,
            [intake_record()],
        )
    assert own.case_id is not None
    assert other.case_id is not None
    return World(own.case_id, other.case_id)


@pytest.fixture
def app(web_runtime: Runtime, world: World, tmp_path: Path) -> Flask:
    app = app_on(web_runtime, tmp_path)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


# TOTP secrets the login helper enrolled, by (database, username): it signs in again with them.
SECRETS: dict[tuple[str, str], str] = {}


def _database(client: FlaskClient) -> str:
    runtime: Runtime = client.application.extensions["databank"]
    return str(runtime.engine.url)


def totp_secret_of(page: str) -> str:
    match = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)
    assert match is not None
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    """Sign in through the pages, two-factor included; 302 once signed in (as a one-step sign-in
    would answer), else the status of the step that refused.

    A user whose role needs two-factor and who has none is enrolled through the setup page (its
    secret is kept here); an enrolled user gets a code computed from that secret.
    """
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(client)}
    )
    if response.status_code != 302:
        return response.status_code
    target = response.headers["Location"]
    key = (_database(client), username)
    if target.endswith("/account/2fa/setup"):
        page = client.get(target).get_data(as_text=True)
        secret = totp_secret_of(page)
        response = client.post(
            target,
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(client, target)},
        )
        if response.status_code != 200 or 'id="recovery-codes"' not in response.get_data(
            as_text=True
        ):
            return response.status_code
        SECRETS[key] = secret
        return 302
    if target.endswith("/login/2fa"):
        # The same user signs in many times within one 30-second step in these tests, and a code
        # is accepted once only (replay is tested in test_accounts).
        code = current_code(client.application.extensions["databank"], username)
        response = client.post(
            "/login/2fa", data={"code": code, "csrf_token": csrf(client, "/login/2fa")}
        )
    return response.status_code


def current_code(runtime: Runtime, username: str) -> str:
    """A fresh TOTP code of a user `login` enrolled (their last used step forgotten, as a code
    is accepted once per 30-second step and the tests sign in many times within one)."""
    with runtime.transaction() as session:
        session.execute(update(User).where(User.username == username).values(totp_last_step=None))
    return str(pyotp.TOTP(SECRETS[(str(runtime.engine.url), username)]).now())


def freeze_throttle(app: Flask, moment: datetime | None = None) -> datetime:
    """The app's sign-in throttle reads a clock that stands still at `moment` (now by default):
    a test sees the waits it computes, without sleeping and without a wait running out between
    two requests. Returns the moment."""
    moment = moment or datetime.now(UTC)
    throttle = app.extensions["databank_throttle"]
    app.extensions["databank_throttle"] = dataclasses.replace(throttle, clock=lambda: moment)
    return moment
