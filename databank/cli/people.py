"""`databank people`: erasure of a person (crypto-shredding), replay of the erasure ledger, and an
organisation's own records of a person (list them, merge two duplicate registrations)."""

from __future__ import annotations

import uuid

import click
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.enums import Purpose
from databank.services.access.directory import get_organisation
from databank.services.keys import erasure
from databank.services.records import own_merge
from databank.services.records.anchors import ViewerHandles


@click.group("people", cls=AppGroup, help="People's records: erasure, duplicate records.")
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
        person_id = ViewerHandles(session, org.id).behind(handle)
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


@group.command("records", help="An organisation's records of a person (to merge duplicates).")
@click.option("--org", "slug", required=True, help="The organisation.")
@click.option(
    "--person", "handle", required=True, type=click.UUID, help="Its handle of the person."
)
@friendly_errors
def records(slug: str, handle: uuid.UUID) -> None:
    with transaction() as session:
        org = get_organisation(session, slug)
        person_id = ViewerHandles(session, org.id).behind(handle)
        found = own_merge.own_records(session, operator(org), Purpose.CASE_MANAGEMENT, person_id)
    for line in found:
        click.echo(
            f"{line.subject_id}  {line.status}  registered {line.created_at:%Y-%m-%d}  "
            f"cases {line.cases}"
        )


@group.command("merge", help="Merge an organisation's two records of one person into one.")
@click.option("--org", "slug", required=True, help="The organisation holding both records.")
@click.option("--keep", required=True, type=click.UUID, help="The record kept (from `records`).")
@click.option("--other", required=True, type=click.UUID, help="The record merged into it.")
@click.option(
    "--reason", type=click.Choice(own_merge.MERGE_REASONS), default="duplicate_registration"
)
@click.confirmation_option(prompt="The other record's keys are destroyed. Continue?")
@friendly_errors
def merge(slug: str, keep: uuid.UUID, other: uuid.UUID, reason: str) -> None:
    with transaction() as session:
        org = get_organisation(session, slug)
        done = own_merge.merge_own_records(
            session, operator(org), Purpose.CASE_MANAGEMENT, keep, other, reason
        )
    click.echo(
        f"merged {other} into {keep}: {done.cases_moved} cases moved, "
        f"{done.fields_resealed} fields sealed anew, {done.keys_destroyed} keys destroyed"
    )
