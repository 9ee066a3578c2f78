"""`databank orgs` and `databank users`: organisations and their staff accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.enums import OrgKind, Role
from databank.services.access import directory
from databank.services.access.roles import INVITABLE_ROLES
from databank.services.accounts import organisations, staff


@click.group("orgs", cls=AppGroup, help="Organisations.")
def orgs() -> None:
    pass


@orgs.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--privacy-contact", default="")
@friendly_errors
def create_org(slug: str, name: str, kind: str, privacy_contact: str) -> None:
    with transaction() as session:
        org = organisations.create_organisation(session, slug, name, OrgKind(kind), privacy_contact)
    click.echo(f"created {org.slug} ({org.id})")


@orgs.command("list")
def list_orgs() -> None:
    with transaction() as session:
        for org in directory.all_orgs(session):
            click.echo(f"{org.slug}\t{org.kind.value}\t{org.name}")


@click.group("users", cls=AppGroup, help="Staff accounts.")
def users() -> None:
    pass


@users.command("create")
@click.option("--org", "slug", required=True)
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role])
)
@click.password_option(
    help="At least 12 characters, hard to guess (zxcvbn score 3 or more), without the username "
    "or the organisation's name (prompted if omitted)."
)
@friendly_errors
def create_user(
    slug: str, username: str, display_name: str, roles: tuple[str, ...], password: str
) -> None:
    with transaction() as session:
        org = directory.get_organisation(session, slug)
        user = organisations.create_user(
            session, org, username, display_name, password, [Role(r) for r in roles]
        )
    click.echo(f"created {user.username} in {slug}")


@users.command("list")
@click.option("--org", "slug", required=True)
@friendly_errors
def list_users(slug: str) -> None:
    with transaction() as session:
        org = directory.get_organisation(session, slug)
        for user in staff.list_users(session, operator(org)):
            roles = ",".join(sorted(r.value for r in user.roles))
            click.echo(f"{user.username}\t{roles}\t{'active' if user.is_active else 'inactive'}")


@users.command("reset-2fa")
@click.argument("username")
@friendly_errors
def reset_two_factor(username: str) -> None:
    """Remove a user's second factor (lost phone): they set it up again at their next sign-in."""
    from databank.services.accounts import staff

    with transaction() as session:
        user = staff.user_by_username(session, username)
        staff.reset_two_factor(session, None, user.id)
    click.echo(f"two-factor reset for {username}; their sessions have ended")


@users.command("invite")
@click.option("--org", "slug", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in INVITABLE_ROLES]),
)
@friendly_errors
def invite_user(slug: str, display_name: str, roles: tuple[str, ...]) -> None:
    """An invitation link for a new member of an organisation (works once, for 7 days)."""
    from databank.services.accounts import invitations

    with transaction() as session:
        org = directory.get_organisation(session, slug)
        invited = invitations.invite(session, operator(org), display_name, roles)
    click.echo(f"invitation link path (append to the site's address): /invite#{invited.token}")
