"""`databank demo`: a reproducible demo city (organisations, users, people) to try."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from databank.cli.common import friendly_errors, transaction


@click.command("demo", help="Load demo organisations, users and people (reproducible from a seed).")
@click.option("--people", default=2000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@with_appcontext
@friendly_errors
def demo(people: int, seed: int) -> None:
    from databank.demo.generator import load_demo

    with transaction() as session:
        summary = load_demo(session, people=people, seed=seed)
    click.echo(summary.describe())
