"""The `databank` command line (also `flask --app databank ...`): thin wrappers over services."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from databank.cli import (
        audit,
        db,
        demo,
        keys,
        linkage,
        orgs,
        people,
        policies,
        serve,
        stats,
        tokens,
    )

    for group in (
        audit.group,
        db.group,
        keys.group,
        orgs.orgs,
        orgs.users,
        people.group,
        policies.group,
        demo.demo,
        serve.serve,
        serve.jobs,
        linkage.group,
        tokens.group,
        stats.group,
    ):
        app.cli.add_command(group)
