"""`databank policies`: validate and test the policy files, explain a decision."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from databank.audit.alert_rules import load_alert_rules
from databank.cli.common import friendly_errors, transaction
from databank.config import Settings
from databank.domain.enums import Action
from databank.policy import LOCATION_FIELD, PolicyError, check
from databank.services import access
from databank.services.oversight import policy_view


@click.group("policies", cls=AppGroup, help="Access policies (Cedar files in policies/).")
def group() -> None:
    pass


def _policies_dir(directory: Path | None) -> Path:
    settings: Settings = current_app.config["DATABANK_SETTINGS"]
    return directory or settings.policies_dir


@group.command("check", help="Validate every policy file, lint scopes, run the table-driven tests.")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None)
def check_(directory: Path | None) -> None:
    try:
        report = check(_policies_dir(directory))
    except PolicyError as error:
        click.echo(f"FAILED: {error}", err=True)
        sys.exit(1)
    problems = list(report.problems)
    try:
        load_alert_rules(_policies_dir(directory) / "alerts.yaml")
    except (OSError, ValueError) as error:
        problems.append(f"alerts.yaml: {error}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(f"policy version {report.version}; {report.tests_passed} table tests passed")
    if problems:
        sys.exit(1)
    click.echo("policies OK")


@group.command("explain", help="Show the decision for a user, a case, a purpose and a field.")
@click.option("--user", "username", required=True)
@click.option("--case", "case_id", required=True, type=click.UUID)
@click.option("--purpose", required=True)
@click.option("--field", default="status", show_default=True)
@click.option(
    "--action",
    default="read",
    show_default=True,
    type=click.Choice([a.value for a in Action if a is not Action.SEARCH]),
)
@click.option(
    "--level",
    "location_level",
    default=4,
    show_default=True,
    type=click.IntRange(0, 4),
    help="Location level to ask for when --field is location (4 exact .. 1 city).",
)
@friendly_errors
def explain_(
    username: str, case_id: uuid.UUID, purpose: str, field: str, action: str, location_level: int
) -> None:
    with transaction() as session:
        result = policy_view.explain_for(
            session,
            username,
            case_id,
            Action(action),
            access.parse_purpose(purpose),
            field,
            location_level if field == LOCATION_FIELD else 0,
        )
    click.echo(result.describe())
