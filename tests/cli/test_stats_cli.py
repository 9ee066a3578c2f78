"""`databank stats`: the standard tables listed, and the monthly city report written as a PDF
or a self-contained HTML file by an operator of a named organisation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask

from databank import create_app
from databank.config import Settings
from databank.services import statistics

# The month before this one (a report of a month to come is refused) and the one before it.
_LAST = date.today().replace(day=1) - timedelta(days=1)
MONTH = f"{_LAST:%Y-%m}"
PREVIOUS = f"{_LAST.replace(day=1) - timedelta(days=1):%Y-%m}"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app(Settings.from_env({}, instance_path=tmp_path / "instance", testing=True))
    runner = app.test_cli_runner()
    for args in (
        ["keys", "init"],
        ["db", "upgrade"],
        ["keys", "setup"],
        ["orgs", "create", "--slug", "metro", "--name", "Metro", "--kind", "council"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return app


def _run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_tables_lists_the_standard_tables(app: Flask) -> None:
    output = _run(app, "stats", "tables")
    for table in statistics.standard_tables():
        assert table.id in output
    assert "Area" in output


def test_stats_report_writes_the_pdf(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    output = _run(app, "stats", "report", "--month", MONTH, "--org", "metro", "--out", str(out))
    assert str(out) in output
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert MONTH.encode() in data


def test_stats_report_writes_a_french_html_file(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "rapport.html"
    _run(
        app, "stats", "report", "--month", MONTH, "--org", "metro",
        "--format", "html", "--locale", "fr", "--out", str(out),
    )  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert 'lang="fr"' in html
    assert "Rapport mensuel de la ville" in html
    assert statistics.label("period", MONTH, "fr") in html
    assert "<style>" in html
    assert "@media print" in html


def test_stats_report_refuses_a_bad_month_and_an_unknown_org(app: Flask) -> None:
    runner = app.test_cli_runner()
    bad_month = runner.invoke(args=["stats", "report", "--month", "2026-13", "--org", "metro"])
    assert bad_month.exit_code != 0
    assert "--month" in bad_month.output
    no_org = runner.invoke(args=["stats", "report", "--month", MONTH, "--org", "nobody"])
    assert no_org.exit_code == 1
    assert "nobody" in no_org.output
