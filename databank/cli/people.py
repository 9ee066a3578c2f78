"""`databank people`: erasure of a person (crypto-shredding) and replay of the erasure ledger."""

from __future__ import annotations

import uuid

import click
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.enums import Purpose
from databank.services.access.directory import get_organisation
from databank.services.keys import erasure
from databank.services.keys.keyring import keyring_of


@click.group("people", cls=AppGroup, help="People's records: erasure.")
def group() -> None:
    pass


@group.command("erase", help="Erase a person everywhere by destroying their keys.")
@click.option("--org", "slug", required=True, help="An organisation that knows the person.")
@click.option(
    "--person",
    "handle",
    required=True,
    type=click.UUID,
    help="The person's id as that organisation sees it (its handle, from its pages or API).",
)
@click.option("--reason", type=click.Choice(erasure.ERASURE_REASONS), default="subject_request")
@click.confirmation_option(prompt="Erasure cannot be undone. Continue?")
@friendly_errors
def erase(slug: str, handle: uuid.UUID, reason: str) -> None:
    with transaction() as session:
        org = get_organisation(session, slug)
        person_id = keyring_of(session).person_handles.person(org.id, handle)
        destroyed = erasure.erase_person(
            session, operator(org), Purpose.CASE_MANAGEMENT, person_id, reason
        )
    click.echo(f"erased {handle}: {destroyed} keys destroyed, tombstone recorded")


@group.command("replay-erasures", help="Re-apply every tombstone (run after restoring a backup).")
@friendly_errors
def replay() -> None:
    with transaction() as session:
        count = erasure.replay_erasures(session)
    click.echo(f"{count} erased people had data again and were re-erased")
