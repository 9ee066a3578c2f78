"""`databank demo`: a reproducible demo city (organisations, users, people) to try."""

from __future__ import annotations

from contextlib import nullcontext

import click
from flask import current_app
from flask.cli import with_appcontext

from databank.cli.common import friendly_errors, transaction
from databank.extension import jobs_of


@click.command("demo", help="Load demo organisations, users and people (reproducible from a seed).")
@click.option("--people", default=2000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@with_appcontext
@friendly_errors
def demo(people: int, seed: int) -> None:
    from databank.demo.generator import load_demo

    areas = current_app.config["DATABANK_SETTINGS"].areas  # DATABANK_AREAS_FILE: Lyon's by default
    queue = jobs_of()
    # The load links the whole city in one batch run: no link job per registration.
    with queue.suspend() if queue is not None else nullcontext(), transaction() as session:
        summary = load_demo(session, people=people, seed=seed, areas=areas)
    click.echo(summary.describe())
