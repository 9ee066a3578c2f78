"""`databank demo`: a reproducible demo city (organisations, users, people) to try."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from databank.cli.common import friendly_errors, transaction


@click.command("demo", help="Load demo organisations, users and people (reproducible from a seed).")
@click.option("--people", default=2000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@with_appcontext
@friendly_errors
def demo(people: int, seed: int) -> None:
    from databank.demo.generator import load_demo

    areas = current_app.config["DATABANK_SETTINGS"].areas  # DATABANK_AREAS_FILE: Lyon's by default
    with transaction() as session:
        summary = load_demo(session, people=people, seed=seed, areas=areas)
    click.echo(summary.describe())
