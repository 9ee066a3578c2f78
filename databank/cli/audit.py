"""`databank audit`: verify the log, prove an org's entries, publish the verifier key."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from databank.audit.checkpoint import parse_verifier_key, public_key_line
from databank.cli.common import friendly_errors, transaction
from databank.services.access.directory import get_organisation
from databank.services.auditlog import alerting
from databank.services.auditlog.signer import signer_of
from databank.services.oversight import integrity, proofs


@click.group("audit", cls=AppGroup, help="The tamper-evident access log.")
def group() -> None:
    pass


@group.command(
    "verify", help="Recompute the whole log; exit 0 if intact, else name the first bad seq."
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A published verifier key line to check signatures against (default: this instance's).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that check the log (default: one per CPU for a large log, else one).",
)
def verify(key_file: Path | None, workers: int | None) -> None:
    public_key = parse_verifier_key(key_file.read_text().strip())[1] if key_file else None
    with transaction() as session:
        report = integrity.verify(session, public_key, workers=workers)
    rate = report.size / report.seconds if report.seconds else 0
    click.echo(
        f"{report.size} entries, {report.checkpoints} signed checkpoints verified, "
        f"unsigned tail {report.unsigned_tail} ({rate:,.0f} entries/s, "
        f"{report.extra['workers']} process(es)"
        f"{', bulk pass in C' if report.extra['native_chunks'] else ''})"
    )
    if report.problem:
        problem = report.problem
        # The integrity alert is committed on its own, before the command exits with failure.
        with transaction() as session:
            alerting.raise_integrity_alert(session, problem.seq, problem.kind, problem.reason)
        click.echo(f"FAILED at seq {problem.seq}: {problem.kind}: {problem.reason}", err=True)
        sys.exit(report.exit_code)
    click.echo("OK")


@group.command(
    "prove", help="Write an org's entries with inclusion proofs against the latest checkpoint."
)
@click.option("--org", "slug", required=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@friendly_errors
def prove(slug: str, since: datetime | None, out: Path) -> None:
    with transaction() as session:
        org = get_organisation(session, slug)
        bundle, count = proofs.prove(
            session, None, org.id, since.replace(tzinfo=UTC) if since else None
        )
    out.write_bytes(bundle)
    click.echo(f"{count} entries of {slug} with inclusion proofs written to {out}")
    click.echo(f"check it with: python scripts/verify_audit_bundle.py {out}")


@group.command("public-key", help="Print the verifier key line to publish (policies/keys/).")
def public_key() -> None:
    with transaction() as session:
        signer = signer_of(session)
        click.echo(public_key_line(signer.key_name, signer.public_key))
