"""A web app over its own committed database (requests commit, so no per-test rollback here)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from databank import create_app
from databank.config import Settings
from databank.domain.enums import OrgKind, Purpose, Role
from databank.services import orgs, people
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.factories import intake_record
from tests.support import fresh_postgres_database, migrated_runtime, postgres_url

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class World:
    own_case: uuid.UUID
    other_case: uuid.UUID


@pytest.fixture(scope="module")
def web_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    base = postgres_url()
    tmp = tmp_path_factory.mktemp("web")
    url = fresh_postgres_database(base, "databank_web") if base else f"sqlite:///{tmp / 'w.sqlite'}"
    runtime = migrated_runtime(url, tmp / "instance")
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def world(web_runtime: Runtime) -> World:
    with web_runtime.transaction() as session:
        charity = orgs.create_organisation(session, "charity", "Charity", OrgKind.CHARITY)
        council = orgs.create_organisation(session, "council", "Council", OrgKind.COUNCIL)
        orgs.create_user(session, charity, "worker", "Worker", PASSWORD, [Role.OUTREACH_WORKER])
        orgs.create_user(session, charity, "admin", "Admin", PASSWORD, [Role.ORG_ADMIN])
        orgs.create_user(session, council, "officer", "Officer", PASSWORD, [Role.HOUSING_OFFICER])
        orgs.create_user(session, council, "victim", "Victim", PASSWORD, [Role.HOUSING_OFFICER])
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
    app = create_app(
        Settings.from_env(
            {}, instance_path=tmp_path, database_url=str(web_runtime.engine.url), testing=True
        )
    )
    app.extensions["databank"] = web_runtime
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(client)}
    )
    return response.status_code
