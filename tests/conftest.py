"""Fixtures: a migrated database per test session; per test, a transaction rolled back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind, Role
from databank.models import Organisation
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.support import migrated_runtime, postgres_url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = postgres_url()
    if url is not None:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def runtime(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = migrated_runtime(database_url, tmp_path_factory.mktemp("instance"))
    yield runtime
    runtime.dispose()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session whose work is rolled back after the test (savepoint recipe, both backends)."""
    connection = runtime.engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=dict(runtime.sessions.kw["info"]),
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


OrgMaker = Callable[..., Organisation]
ActorMaker = Callable[..., Actor]


@pytest.fixture
def make_org(session: Session) -> OrgMaker:
    counter = iter(range(1_000_000))

    def make(kind: OrgKind = OrgKind.CHARITY, slug: str | None = None) -> Organisation:
        n = next(counter)
        return organisations.create_organisation(session, slug or f"org-{n}", f"Org {n}", kind)

    return make


@pytest.fixture
def actor_for() -> ActorMaker:
    def make(org: Organisation, *roles: Role) -> Actor:
        return Actor(None, org.id, org.kind, frozenset(roles or (Role.OUTREACH_WORKER,)), "test")

    return make


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


# -- every audit body the suite writes is kept, and scanned for personal data by the last test --

AUDIT_BODIES: list[bytes] = []


@pytest.fixture(autouse=True, scope="session")
def _record_audit_bodies() -> Iterator[None]:
    """Observe (not change) the log: each body the services insert is kept."""
    from databank.services.auditlog.store import Driver

    original = Driver.insert

    def recording(self: Any, rows: list[dict[str, Any]]) -> None:
        AUDIT_BODIES.extend(row["body"] for row in rows)
        original(self, rows)

    Driver.insert = recording  # type: ignore[method-assign]
    yield
    Driver.insert = original  # type: ignore[method-assign]


# Scans of every audit body the suite wrote (tests/test_audit_bodies.py).
LAST = ("test_no_personal_data_in_any_audit_body", "test_every_audit_body_speaks_the_vocabulary")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scans of audit bodies run after every other test (they read what the others wrote)."""
    last = [i for i in items if i.name in LAST]
    items[:] = [i for i in items if i not in last] + last
