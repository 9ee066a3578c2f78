"""`databank db`: build and check the schema through the Alembic migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Engine

from databank import db_schema
from databank.config import Settings
from databank.db import create_engine


def _engine() -> Engine:
    settings: Settings = current_app.config["DATABANK_SETTINGS"]
    return create_engine(settings.database_url)


@click.group("db", cls=AppGroup, help="Database db_schema.")
def group() -> None:
    pass


@group.command("upgrade", help="Build or upgrade the schema to the latest migration.")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    engine = _engine()
    db_schema.upgrade(engine, revision)
    click.echo(f"schema at {db_schema.current_revision(engine)}")
    engine.dispose()


@group.command("downgrade", help="Downgrade the schema to a revision ('base' for nothing).")
@click.argument("revision")
def downgrade(revision: str) -> None:
    engine = _engine()
    db_schema.downgrade(engine, revision)
    click.echo(f"schema at {db_schema.current_revision(engine)}")
    engine.dispose()


@group.command("current", help="Show the schema revision.")
def current() -> None:
    engine = _engine()
    click.echo(db_schema.current_revision(engine) or "empty")
    engine.dispose()


@group.command("check", help="Fail if the models changed without a migration.")
def check() -> None:
    engine = _engine()
    db_schema.check(engine)
    click.echo("models and migrations agree")
    engine.dispose()
