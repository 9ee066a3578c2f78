"""Helpers shared by the test suite: fixed test keys, database URLs, runtimes on fresh databases."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import Engine, delete, make_url, select, text
from sqlalchemy.orm import Session

from databank import db_schema
from databank.config import Settings
from databank.crypto import KeyMaterial, LocalKeyProvider
from databank.db import create_engine
from databank.models import Subject
from databank.services.actors import Actor
from databank.services.runtime import Runtime, build_runtime

# Fixed test keys: tests are reproducible, and these never protect real data.
MASTER_KEY = bytes(range(32))
INDEX_ROOT = bytes(range(32, 64))
LINKAGE_SECRET = bytes(range(64, 96))
AUDIT_SEED = bytes(range(96, 128))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def fixed_material() -> KeyMaterial:
    return KeyMaterial(
        provider=LocalKeyProvider({1: MASTER_KEY}, 1),
        index_root=INDEX_ROOT,
        audit_signing_key=Ed25519PrivateKey.from_private_bytes(AUDIT_SEED),
        source="fixed test keys",
    )


def postgres_url() -> str | None:
    """The PostgreSQL server the suite runs against, when DATABANK_TEST_DATABASE_URL names one."""
    url = os.environ.get("DATABANK_TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def fresh_postgres_database(base_url: str, name: str) -> str:
    """(Re)create an empty database beside the test database; returns its URL."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def reset_postgres_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def migrated_runtime(
    url: str, instance: Path, planned_population: int = 100_000, revision: str = "head"
) -> Runtime:
    """A runtime on a database built by running the migrations (up to `revision`), with fixed
    test keys."""
    engine = create_engine(url)
    if url.startswith("postgresql"):
        reset_postgres_schema(engine)
    db_schema.upgrade(engine, revision)
    settings = Settings.from_env(
        {},
        instance_path=instance,
        database_url=url,
        planned_population=planned_population,
        testing=True,
    )
    runtime = build_runtime(
        settings, material=fixed_material(), linkage_secret=LINKAGE_SECRET, engine=engine
    )
    with runtime.transaction() as session:
        runtime.keyring.ensure_blind_index_configs(session)
    return runtime


def scratch_runtime(name: str, tmp: Path, revision: str = "head") -> Runtime:
    """A migrated runtime (up to `revision`) on a database of its own: PostgreSQL database `name`
    (made afresh) when the suite runs on PostgreSQL, else a SQLite file in `tmp`."""
    base = postgres_url()
    url = fresh_postgres_database(base, name) if base else f"sqlite:///{tmp / (name + '.sqlite')}"
    return migrated_runtime(url, tmp / "instance", revision=revision)


def load_script(name: str) -> ModuleType:
    """A script of scripts/ imported as a module, for its tests."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def app_on(
    runtime: Runtime, instance: Path, *, fresh_throttle: bool = True, **settings: Any
) -> Flask:
    """The web app over a test runtime (its database, keys and policies), as a test client or a
    live server use it; `settings` override the test ones (e.g. testing=False).

    Every test client comes from one address, and the sign-in throttle's counts are in the
    database: a new app starts them from nothing (`fresh_throttle`), so one test's failed
    sign-ins never refuse another's."""
    from databank import create_app
    from databank.models import SignInFailure

    if fresh_throttle:
        with runtime.transaction() as session:
            session.execute(delete(SignInFailure))

    options: dict[str, Any] = {"testing": True, **settings}
    app = create_app(
        Settings.from_env(
            {},
            instance_path=instance,
            database_url=runtime.engine.url.render_as_string(hide_password=False),
            **options,
        )
    )
    app.extensions["databank"] = runtime
    return app


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def register_and_read(session: Session, actor: Actor, count: int, *, sign: bool = False) -> None:
    """A log's usual activity: `count` people registered by `actor` (given names N0, N1...),
    then each one's case read once; with `sign`, a checkpoint signed after each read (sizes
    inside chunks of 4, at their ends and starts)."""
    from databank.domain.enums import Purpose
    from databank.services import auditlog
    from databank.services.records import cases, people
    from tests.factories import identity, intake_record

    results = people.intake(
        session,
        actor,
        Purpose.OUTREACH,
        [intake_record(identity(given_name=f"N{i}")) for i in range(count)],
    )
    for result in results:
        assert result.case_id is not None
        cases.read_case(session, actor, Purpose.OUTREACH, result.case_id)
        if sign:
            auditlog.sign_now(session)


def handle_of(
    where: Runtime | Session,
    org_id: uuid.UUID,
    person_id: uuid.UUID,
    holder: uuid.UUID | None = None,
) -> uuid.UUID:
    """The handle `org_id`'s staff see for a pooled person (what its pages and API show), on its
    own records or on `holder`'s: the anchor looked up as a request does (in the session given,
    else in a transaction of the runtime's)."""
    from databank.services.records.anchors import ViewerHandles

    if isinstance(where, Session):
        return ViewerHandles(where, org_id).shown(person_id, holder)
    with where.transaction() as session:
        return ViewerHandles(session, org_id).shown(person_id, holder)


def person_behind(session: Session, org_id: uuid.UUID, handle: uuid.UUID) -> uuid.UUID:
    """The pooled person behind a handle `org_id`'s staff were shown (as its guard reads it)."""
    from databank.services.records.anchors import ViewerHandles

    return ViewerHandles(session, org_id).behind(handle)


def logged_handle_of(runtime: Runtime, org_id: uuid.UUID, person_id: uuid.UUID) -> uuid.UUID:
    """How the access log names a pooled person on `org_id`'s records (the holder's key over the
    pooled id: services/auditlog/writer.logged_person)."""
    return runtime.keyring.person_handles.handle(org_id, person_id)


def logged_person(session: Session, entry: Any) -> uuid.UUID | None:
    """The pooled person an access-log entry (an AuditEntry row, or its body) names: entries name
    their person by the holder's handle, turned back as the auditor console does."""
    from databank.services.oversight.logged_people import LoggedPeople

    body = entry if isinstance(entry, bytes | bytearray | memoryview) else entry.body
    pooled = LoggedPeople.of(session).pooled(json.loads(bytes(body)))
    return None if pooled is None else uuid.UUID(pooled)


def logged_about(session: Session, person_id: uuid.UUID) -> Any:
    """The SQL condition "this entry is about the pooled person", however the entry names them."""
    from databank.models import AuditEntry
    from databank.services.oversight.logged_people import LoggedPeople

    return AuditEntry.person_id.in_(LoggedPeople.of(session).forms(session, person_id))


def subjects_of(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """Every subject (any org, any status) whose pooled person is `person_id`, oldest first."""
    return list(
        session.scalars(
            select(Subject.id)
            .where(Subject.person_id == person_id)
            .order_by(Subject.created_at, Subject.id)
        )
    )
