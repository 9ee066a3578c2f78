"""The schema comes from the migrations, and the models never drift from them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from databank import db_schema
from databank.db import create_engine
from databank.services.runtime import Runtime
from tests.support import fresh_postgres_database, postgres_url


def test_models_match_the_migrations(runtime: Runtime) -> None:
    """`alembic check`: no model change without a migration."""
    db_schema.check(runtime.engine)


def test_downgrade_to_nothing_and_up_again(tmp_path: Path) -> None:
    base = postgres_url()
    url = (
        fresh_postgres_database(base, "databank_migration_check")
        if base
        else f"sqlite:///{tmp_path / 'm.sqlite'}"
    )
    engine = create_engine(url)
    db_schema.upgrade(engine)
    assert "identities" in inspect(engine).get_table_names()
    db_schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db_schema.upgrade(engine)
    assert db_schema.current_revision(engine) == db_schema.head_revision()
    engine.dispose()
