"""The `databank` console command: the Flask CLI of `create_app`, same as `flask --app databank`."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from databank import create_app

    return create_app()


main = FlaskGroup(
    name="databank",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="Operate the databank: database, keys, organisations, users, demo data.",
)
