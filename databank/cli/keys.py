"""`databank keys`: create dev keys, rotate and retire organisation keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, transaction
from databank.config import Settings
from databank.crypto import generate_dev_keys
from databank.services.keys import rotation as key_service


@click.group("keys", cls=AppGroup, help="Key material and rotation.")
def group() -> None:
    pass


@group.command("init", help="Generate development keys into the instance (never for production).")
@friendly_errors
def init() -> None:
    settings: Settings = current_app.config["DATABANK_SETTINGS"]
    directory = settings.resolved_keys_dir
    written = generate_dev_keys(directory)
    click.secho(
        "WARNING: development keys written to disk. In production, provide DATABANK_MASTER_KEY,\n"
        "DATABANK_INDEX_KEY, DATABANK_LINKAGE_SECRET and DATABANK_AUDIT_SIGNING_KEY from a KMS or\n"
        "secret store, and keep backups of the keys apart from backups of the database.",
        fg="yellow",
        err=True,
    )
    for path in written:
        click.echo(f"wrote {path}")


@group.command("setup", help="Size blind indexes and give every organisation a key.")
@friendly_errors
def setup() -> None:
    with transaction() as session:
        key_service.ensure_schema_keys(session)
    click.echo("blind indexes and organisation keys are in place")


@group.command(
    "rotate", help="Rotate an organisation's key: subject keys are re-wrapped, no data rewritten."
)
@click.option("--org", "slug", required=True, help="Organisation slug.")
@friendly_errors
def rotate(slug: str) -> None:
    with transaction() as session:
        version, count = key_service.rotate_org_key(session, slug)
    click.echo(f"{slug}: key version {version} active; {count} subject keys re-wrapped")


@group.command("retire", help="Destroy an old organisation key version that nothing uses any more.")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--version", type=int, required=True)
@friendly_errors
def retire(slug: str, version: int) -> None:
    with transaction() as session:
        key_service.retire_org_key(session, slug, version)
    click.echo(f"{slug}: key version {version} destroyed")


@group.command("list", help="List an organisation's key versions.")
@click.option("--org", "slug", required=True)
@friendly_errors
def list_(slug: str) -> None:
    with transaction() as session:
        versions = key_service.org_key_versions(session, slug)
    for version, active, destroyed in versions:
        state = "active" if active else ("destroyed" if destroyed else "inactive")
        click.echo(f"v{version}\t{state}")
