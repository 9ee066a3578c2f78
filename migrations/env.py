"""Alembic environment: runs on the connection the databank hands over, or DATABANK_* settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from databank.config import Settings
from databank.db import Base, create_engine
from databank.models import AuditEntry  # noqa: F401 - registers every model on Base.metadata

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `databank db upgrade`")
run_migrations_online()
