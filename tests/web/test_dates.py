"""Dates and times on the pages: the user's locale, the deployment's zone, never "12/4/26"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from databank.models import Case
from databank.services.runtime import Runtime
from databank.web.dates import format_date, format_datetime
from tests.support import app_on, handle_of
from tests.web.conftest import World, csrf, login

# A day whose month and day could be read either way round in a numeric form.
WHEN_TYPED = "2025-12-04T09:05"  # Lyon time (the tests' deployment is the demo's)
NUMERIC = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")  # 12/4/25, 04.12.2025, 2025-12-04


def _visible(page: str) -> str:
    """The text of a page: no attributes (a <time datetime="..."> is for machines)."""
    return re.sub(r"<[^>]*>", " ", page)


@pytest.fixture(scope="module")
def encounter_page(
    web_runtime: Runtime, world: World, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The person page after an encounter typed at a known time (the path to the page)."""
    client = app_on(web_runtime, tmp_path_factory.mktemp("dates")).test_client()
    assert login(client, "worker") == 302
    path = f"/outreach/cases/{world.own_case}/encounters/new"
    form = {"csrf_token": csrf(client, path), "occurred_at": WHEN_TYPED, "district": "lyon-2"}
    assert client.post(path, data=form).status_code == 302
    with web_runtime.transaction() as session:
        case = session.get(Case, world.own_case)
        assert case is not None
        person = handle_of(session, case.org_id, case.person_id)
    return f"/outreach/people/{person}"


@pytest.mark.parametrize(
    ("language", "encounter", "born"),
    [
        ("en", "4 Dec 2025, 09:05", "14 Mar 1987"),
        ("en-GB,en;q=0.8", "4 Dec 2025, 09:05", "14 Mar 1987"),
        ("fr", "4 déc. 2025, 09:05", "14 mars 1987"),
        ("fr-CA,fr;q=0.9", "4 déc. 2025, 09 h 05", "14 mars 1987"),
        ("en-US,en;q=0.9", "Dec 4, 2025, 9:05\u202fAM", "Mar 14, 1987"),
    ],
)
def test_a_known_date_reads_the_same_way_in_every_locale(
    client: FlaskClient, encounter_page: str, language: str, encounter: str, born: str
) -> None:
    assert login(client, "worker") == 302
    page = client.get(encounter_page, headers={"Accept-Language": language})
    assert page.status_code == 200
    text = _visible(page.get_data(as_text=True))
    assert encounter in text
    assert born in text
    assert not NUMERIC.findall(text), NUMERIC.findall(text)


def test_the_formatters_follow_the_zone_and_name_utc_when_asked(app: Flask) -> None:
    moment = datetime(2026, 12, 5, 13, 30, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert format_datetime(moment) == "5 déc. 2026, 14:30"  # Lyon: UTC+1 in December
        assert format_datetime(moment, seconds=True, utc=True) == "5 déc. 2026, 13:30:05 UTC"
        assert format_date(moment) == "5 déc. 2026"
        assert format_date(date(2026, 12, 5), "long") == "5 décembre 2026"
        # Late evening UTC is already the next day in Lyon.
        assert format_date(datetime(2026, 12, 5, 23, 30, tzinfo=UTC)) == "6 déc. 2026"
        with pytest.raises(ValueError, match="month in words"):
            format_date(moment, "short")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_datetime(moment) == "5 Dec 2026, 14:30"
        assert format_datetime(None) == format_date(None) == ""
