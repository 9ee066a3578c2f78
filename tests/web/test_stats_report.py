"""The monthly city report's printable page and PDF: for readers of statistics only, English and
French, every number a released one, a bad month a 4xx naming it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask

from databank.services import statistics
from databank.services.statistics import report_pdf
from tests.web.conftest import login

RELEASED = re.compile(r"^(0|<10|x|\d*[05])$")

# The month before this one (a report of a month to come is refused) and the one before it.
_LAST = date.today().replace(day=1) - timedelta(days=1)
MONTH = f"{_LAST:%Y-%m}"
PREVIOUS = f"{_LAST.replace(day=1) - timedelta(days=1):%Y-%m}"


def _signed_in(app: Flask, username: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, username) == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def _cells(page: str) -> list[str]:
    return re.findall(r'<td class="num mark-\w+">([^<]*)</td>', page)


def test_the_report_page_in_english(app: Flask) -> None:
    page = _signed_in(app, "officer").get(f"/statistics/report/{MONTH}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Monthly city report" in html
    assert statistics.label("period", MONTH, "en") in html
    assert statistics.label("period", PREVIOUS, "en") in html
    for heading in ("People by area", "People by age band", "People by need"):
        assert heading in html
    assert "Method and disclosure rules" in html
    assert f'href="/statistics/report/{PREVIOUS}"' in html
    assert f"/statistics/report/{MONTH}/pdf" in html
    assert "stats_report.css" in html
    cells = _cells(html)
    assert cells
    assert all(RELEASED.match(c.replace("&lt;", "<")) for c in cells), cells
    assert "<script>" not in html


def test_the_report_page_in_french(app: Flask) -> None:
    html = (
        _signed_in(app, "officer", "fr").get(f"/statistics/report/{MONTH}").get_data(as_text=True)
    )
    assert "Rapport mensuel de la ville" in html
    assert statistics.label("period", MONTH, "fr") in html
    assert "Méthode et règles de diffusion" in html
    assert 'lang="fr"' in html


def test_the_report_pdf(app: Flask) -> None:
    response = _signed_in(app, "officer").get(f"/statistics/report/{MONTH}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert MONTH.encode() in response.data


def test_an_outreach_worker_may_not_read_the_report(app: Flask) -> None:
    client = _signed_in(app, "worker")
    assert client.get(f"/statistics/report/{MONTH}").status_code == 403
    assert client.get(f"/statistics/report/{MONTH}/pdf").status_code == 403


def test_a_bad_month_is_refused_naming_it(app: Flask) -> None:
    client = _signed_in(app, "officer")
    for month in ("2026-13", "november", "2026-1"):
        response = client.get(f"/statistics/report/{month}")
        assert response.status_code == 422, month
        assert "YYYY-MM" in response.get_data(as_text=True)


def test_a_change_is_shown_between_two_shown_numbers_only() -> None:
    from databank.analytics.disclosure import Mark, Shown

    assert report_pdf.change(Shown(25, Mark.ROUNDED), Shown(10, Mark.ROUNDED)) == "+15"
    assert report_pdf.change(Shown(10, Mark.ROUNDED), Shown(25, Mark.ROUNDED)) == "-15"
    assert report_pdf.change(Shown(0, Mark.ZERO), Shown(0, Mark.ZERO)) == "0"
    assert report_pdf.change(Shown(None, Mark.LOW), Shown(10, Mark.ROUNDED)) == ""
    assert report_pdf.change(Shown(15, Mark.ROUNDED), Shown(None, Mark.SECONDARY)) == ""
