"""An app and its own committed database for the API tests, with users of two orgs and tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import ApiToken, AuditEntry, User
from databank.services.accounts import organisations, tokens
from databank.services.actors import Actor
from databank.services.records import people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.support import app_on, handle_of, scratch_runtime
from tests.web.conftest import PASSWORD, csrf, login

ALL_SCOPES = tuple(tokens.SCOPES)
# The person registered in the charity's records at the start (the factory's identity).
KNOWN = identity()


@dataclass(frozen=True)
class World:
    charity_id: uuid.UUID
    council_id: uuid.UUID
    own_case: uuid.UUID  # the charity's
    own_person: uuid.UUID  # the charity's handle of its person (what its API shows)
    other_case: uuid.UUID  # the council's, not shared
    other_person: uuid.UUID  # the charity's handle of the council's person (it is shown nowhere)
    tokens: dict[str, str]  # name -> secret


@pytest.fixture(scope="package")
def api_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_api", tmp_path_factory.mktemp("api"))
    yield runtime
    runtime.dispose()


def _user(session: object, username: str) -> User:
    found: User = session.execute(select(User).where(User.username == username)).scalar_one()  # type: ignore[attr-defined]
    return found


@pytest.fixture(scope="package")
def world(api_runtime: Runtime) -> World:
    secrets: dict[str, str] = {}
    with api_runtime.transaction() as session:
        charity = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        council = organisations.create_organisation(
            session, "metropole", "Metropole", OrgKind.COUNCIL
        )
        organisations.create_organisation(session, "emsp", "EMSP", OrgKind.HEALTH)
        worker = organisations.create_user(
            session, charity, "worker", "Worker", PASSWORD, [Role.OUTREACH_WORKER]
        )
        admin = organisations.create_user(
            session, charity, "admin", "Admin", PASSWORD, [Role.ORG_ADMIN]
        )
        auditor = organisations.create_user(
            session, charity, "auditor", "Auditor", PASSWORD, [Role.AUDITOR]
        )
        officer = organisations.create_user(
            session, council, "officer", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        reviewer = organisations.create_user(
            session, charity, "reviewer", "Reviewer", PASSWORD, [Role.LINKAGE_REVIEWER]
        )
        [own] = people.intake(
            session,
            Actor(None, charity.id, charity.kind, frozenset({Role.OUTREACH_WORKER})),
            Purpose.OUTREACH,
            [intake_record(KNOWN)],
        )
        [other] = people.intake(
            session,
            Actor(None, council.id, council.kind, frozenset({Role.HOUSING_OFFICER})),
            Purpose.CASE_MANAGEMENT,
            [intake_record(identity(family_name="Martin-Other", given_name="Paul"))],
        )

        def issue(name: str, user: User, scopes: tuple[str, ...], **kw: object) -> ApiToken:
            issued = tokens.issue(
                session,
                Actor.for_user(user),
                user.id,
                name,
                scopes,
                30,
                **kw,  # type: ignore[arg-type]
            )
            secrets[name] = issued.secret
            found = session.get(ApiToken, issued.token.id)
            assert found is not None
            return found

        issue("worker", worker, ALL_SCOPES)
        issue("worker-read", worker, ("cases:read",))
        issue("worker-outreach-only", worker, ALL_SCOPES, purposes=[Purpose.OUTREACH])
        issue("officer", officer, ALL_SCOPES)
        issue("auditor", auditor, ("audit:read",))
        issue("reviewer", reviewer, ("linkage:read", "linkage:review"))
        issue("admin", admin, ALL_SCOPES)
        expired = issue("expired", worker, ALL_SCOPES)
        expired.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        revoked = issue("revoked", worker, ALL_SCOPES)
        tokens.revoke(session, Actor.for_user(worker), revoked.id)
    assert own.case_id is not None
    assert other.case_id is not None
    return World(
        charity.id,
        council.id,
        own.case_id,
        handle_of(api_runtime, charity.id, own.person_id),
        other.case_id,
        handle_of(api_runtime, charity.id, other.person_id),
        secrets,
    )


@pytest.fixture
def app(api_runtime: Runtime, world: World, tmp_path: Path) -> Flask:
    app = app_on(api_runtime, tmp_path)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(world: World, name: str, purpose: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {world.tokens[name]}"}
    if purpose is not None:
        headers["X-Databank-Purpose"] = purpose
    return headers


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    """A browser session and its CSRF token (for the X-CSRF-Token header)."""
    client = app.test_client()
    assert login(client, username) == 302
    return client, csrf(client, "/account/tokens/")


def assert_error_shape(body: object, status: int) -> dict[str, object]:
    assert isinstance(body, dict), body
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["status"] == status
    assert isinstance(body["code"], str)
    assert body["code"]
    assert isinstance(body["message"], str)
    assert isinstance(body["errors"], dict)
    return body


def entries_since(runtime: Runtime, seq: int) -> list[AuditEntry]:
    with runtime.transaction() as session:
        return list(
            session.execute(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))
            .scalars()
            .all()
        )


def last_seq(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        from sqlalchemy import func

        return int(session.execute(select(func.coalesce(func.max(AuditEntry.seq), 0))).scalar_one())
