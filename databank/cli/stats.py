"""`databank stats`: the standard tables, and the monthly city report as a PDF or HTML file."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.analytics.tables import DIMENSIONS
from databank.cli.common import friendly_errors, operator, transaction
from databank.domain.errors import NotFound
from databank.models import Organisation
from databank.services import statistics
from databank.services.access.directory import get_organisation
from databank.services.statistics import facts, report_pdf

LOCALES = click.Choice(["en", "fr"])


@click.group("stats", cls=AppGroup, help="Anonymised statistics (published tables only).")
def group() -> None:
    pass


@group.command("tables", help="List the standard (published) tables and the dimensions.")
@click.option("--locale", type=LOCALES, default="en", show_default=True)
def tables(locale: str) -> None:
    for table in statistics.standard_tables():
        dims = " x ".join(statistics.dimension_label(d, locale) for d in table.request.dimensions)
        click.echo(f"{table.id:<20} {table.chart:<8} {dims}")
    names = ", ".join(DIMENSIONS)
    click.echo(f"dimensions of ad-hoc tables: {names}")


def _first_organisation(session: Session) -> Organisation:
    found = session.scalar(select(Organisation).order_by(Organisation.created_at).limit(1))
    if found is None:
        raise NotFound("the databank has no organisation yet")
    return found


def _html(made: statistics.Report, locale: str) -> bytes:
    """The report as one self-contained HTML file (its stylesheet inlined)."""
    css = Path(current_app.static_folder or "", "stats_report.css").read_text(encoding="utf-8")
    # The app's templates without its context processors (they read a request): the file's
    # words all come from the layout, already in `locale`.
    template = current_app.jinja_env.get_template("statistics/report_file.html")
    page = template.render(layout=report_pdf.layout(made, locale), css=css)
    return page.encode("utf-8")


@group.command(
    "report",
    help="Write the monthly city report (published tables: the same for every reader). It "
    "runs as an administrator of --org, and the query is logged like a page's.",
)
@click.option("--month", required=True, type=click.DateTime(formats=["%Y-%m"]), help="YYYY-MM")
@click.option(
    "--org",
    "slug",
    default=None,
    help="The organisation the operator acts for (the log names it); default: the first made.",
)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The file to write (default: city-report-YYYY-MM.pdf or .html here).",
)
@click.option("--locale", type=LOCALES, default="en", show_default=True)
@friendly_errors
def report(month: datetime, slug: str | None, fmt: str, out: Path | None, locale: str) -> None:
    with transaction() as session:
        org = get_organisation(session, slug) if slug else _first_organisation(session)
        made = statistics.monthly_report(session, operator(org), month.date().replace(day=1))
    data = report_pdf.pdf_bytes(made, locale) if fmt == "pdf" else _html(made, locale)
    target = out or Path(f"city-report-{month:%Y-%m}.{fmt}")
    target.write_bytes(data)
    click.echo(f"monthly city report {month:%Y-%m} ({locale}, {fmt}) written to {target}")


@group.command(
    "rebuild",
    help="Write every record's statistics facts anew (after an upgrade that adds the facts, or a "
    "change of the areas file). Services keep them up to date otherwise.",
)
@friendly_errors
def rebuild() -> None:
    started = time.perf_counter()
    with transaction() as session:
        rows = facts.rebuild(session)
    click.echo(f"statistics facts rebuilt: {rows} rows in {time.perf_counter() - started:.1f} s")
