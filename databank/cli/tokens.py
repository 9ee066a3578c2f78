"""`databank tokens`: API tokens for partner systems (the secret is printed once)."""

from __future__ import annotations

import uuid

import click
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.enums import Purpose
from databank.services.access import directory
from databank.services.accounts import staff
from databank.services.accounts import tokens as token_service


@click.group("tokens", cls=AppGroup, help="API tokens for partner systems.")
def group() -> None:
    pass


@group.command("create")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for (e.g. the partner system).")
@click.option("--scopes", required=True, help=f"Space-separated: {' '.join(token_service.SCOPES)}")
@click.option("--days", type=int, default=30, show_default=True, help="Days until it expires.")
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    type=click.Choice([p.value for p in Purpose if not p.is_forbidden]),
    help="Restrict to these purposes (repeat); default: any the user's roles allow.",
)
@friendly_errors
def create(username: str, name: str, scopes: str, days: int, purposes: tuple[str, ...]) -> None:
    with transaction() as session:
        user = staff.user_by_username(session, username)
        issued = token_service.issue(
            session,
            operator(user.org),
            user.id,
            name,
            scopes.split(),
            days,
            [Purpose(p) for p in purposes],
        )
    token = issued.token
    click.echo(f"created token {token.id} for {username}, expires {token.expires_at:%Y-%m-%d}")
    click.echo("Store it now: it is shown only once.", err=True)
    click.echo(issued.secret)


@group.command("list")
@click.option("--org", "slug", required=True)
@friendly_errors
def list_tokens(slug: str) -> None:
    with transaction() as session:
        org = directory.get_organisation(session, slug)
        for t in token_service.list_tokens(session, operator(org), whole_org=True):
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            click.echo(f"{t.id}\t{t.prefix}\t{t.username}\t{t.name}\t{' '.join(t.scopes)}\t{state}")


@group.command("revoke")
@click.argument("token_id", type=click.UUID)
@friendly_errors
def revoke(token_id: uuid.UUID) -> None:
    with transaction() as session:
        org = token_service.org_of(session, token_id)
        token_service.revoke(session, operator(org), token_id)
    click.echo(f"revoked {token_id}")
