"""`databank linkage`: batch runs, the pool's state, the review queue, manual link and split, and
an evaluation of the matcher on a file whose truth is known."""

from __future__ import annotations

import csv
import time
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.enums import ReviewReason, ReviewStatus, Role
from databank.models import Organisation
from databank.services.access.directory import get_organisation
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.linkage import review, runs, status

REASONS = [r.value for r in ReviewReason]


@click.group("linkage", cls=AppGroup, help="Linkage: pooling people across organisations.")
def group() -> None:
    pass


def _reviewer(org: Organisation) -> Actor:
    """The operator at the command line, reviewing linkage for the platform from an org."""
    return Actor(None, org.id, org.kind, frozenset({Role.LINKAGE_REVIEWER}), "cli")


@group.command("run", help="Link the whole pool in one run (after an import, or nightly).")
@click.option("--train", is_flag=True, help="Train a new model on the pool first (EM).")
@friendly_errors
def run(train: bool) -> None:
    with transaction() as session:
        report = runs.run_batch(session, None, retrain=train)
    click.echo(
        f"compared {report.subjects} records ({report.waiting} enrolled before encodings, "
        f"not compared) with the {report.model} model in {report.seconds:.1f} s"
    )
    click.echo(
        f"pooled persons {report.persons_before} -> {report.persons_after}: "
        f"{report.merged} merged, {report.split} split; {report.reviews_opened} pairs queued "
        f"for review ({report.reviews_open} open)"
    )


@group.command("status", help="The pool: records, persons, waiting work, the model in force.")
@friendly_errors
def status_command() -> None:
    with transaction() as session:
        state = status.pool_status(session)
    for line in state.lines():
        click.echo(line)


@group.command("review", help="The review queue: grey-zone pairs and their evidence.")
@click.option("--org", "slug", required=True, help="The organisation you review from.")
@click.option(
    "--status",
    "state",
    type=click.Choice([s.value for s in ReviewStatus]),
    default=ReviewStatus.OPEN.value,
    show_default=True,
)
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1))
@friendly_errors
def review_command(slug: str, state: str, page: int) -> None:
    with transaction() as session:
        actor = _reviewer(get_organisation(session, slug))
        views, more = review.queue(session, actor, ReviewStatus(state), page)
    if not views:
        click.echo("no pair in the queue")
    for view in views:
        fields = ", ".join(f"{k}: {v}" for k, v in sorted(view.evidence.items()))
        own = ["yours" if side.own else "another organisation's" for side in view.sides]
        click.echo(f"{view.id}  {view.created_at:%Y-%m-%d}  [{own[0]} / {own[1]}]  {fields}")
    if more:
        click.echo(f"more: --page {page + 1}")


@group.command("link", help="Decide a queued pair: the same person.")
@click.argument("review_id", type=click.UUID)
@click.option("--org", "slug", required=True, help="The organisation you review from.")
@click.option("--reason", type=click.Choice(REASONS), default="same_person", show_default=True)
@friendly_errors
def link(review_id: uuid.UUID, slug: str, reason: str) -> None:
    with transaction() as session:
        actor = _reviewer(get_organisation(session, slug))
        review.decide(session, actor, review_id, "link", reason)
    click.echo(f"linked the pair {review_id}")


@group.command(
    "split",
    help="Keep a queued pair apart for good (REVIEW_ID), or take an organisation's records of a "
    "person out of its pooled person (--person).",
)
@click.argument("review_id", type=click.UUID, required=False)
@click.option("--org", "slug", required=True, help="The organisation acting.")
@click.option("--person", "handle", type=click.UUID, help="The organisation's handle of a person.")
@click.option("--reason", type=click.Choice(REASONS), default="different_people", show_default=True)
@friendly_errors
def split(review_id: uuid.UUID | None, slug: str, handle: uuid.UUID | None, reason: str) -> None:
    if (review_id is None) == (handle is None):
        raise click.UsageError("give either a REVIEW_ID or --person, not both")
    with transaction() as session:
        org = get_organisation(session, slug)
        if review_id is not None:
            review.decide(session, _reviewer(org), review_id, "apart", reason)
            click.echo(f"kept the pair {review_id} apart")
            return
        assert handle is not None  # noqa: S101 - checked above
        person = keyring_of(session).person_handles.person(org.id, handle)
        review.split_own(session, operator(org), person, reason)
    click.echo(f"{slug}'s records of {handle} now form a person of their own, kept apart")


@group.command("evaluate", help="Run the matcher on a CSV whose truth is known, and score it.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--train", is_flag=True, help="Train on the file (EM) instead of the app's model.")
@friendly_errors
def evaluate(path: Path, train: bool) -> None:
    """CSV columns: record_id, org, given_name, family_name, sex, date_of_birth, birth_place,
    postcode, person_id (the truth, used for scoring only). Clear names stay in this process."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    started = time.perf_counter()
    with transaction() as session:
        scores = status.evaluate(session, rows, train=train)
    click.echo(f"{len(rows)} records in {time.perf_counter() - started:.1f} s")
    for line in scores.lines():
        click.echo(line)
