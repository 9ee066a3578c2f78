"""Database schema operations: run the Alembic migrations, check models against them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def _migrate(engine: Engine, run: Callable[[Config, str], None], revision: str) -> None:
    """Run Alembic in one transaction. On SQLite, foreign keys are off while it runs and checked
    before commit: batch mode rebuilds a table by copy, drop and rename, and dropping a parent
    (persons, cases) whose children hold rows fails while they are enforced."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        raw = (
            connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
        )
        if raw is not None:  # a PRAGMA that is a no-op inside a transaction: before BEGIN
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                run(config, revision)
                if raw is not None:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise RuntimeError(
                            f"the migration left {len(dangling)} rows whose foreign key "
                            f"points at nothing (first in {dangling[0][0]})"
                        )
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def check(engine: Engine) -> None:
    """Raise if the models have changes that no migration describes."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None  # noqa: S101 - the repository always has migrations
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
