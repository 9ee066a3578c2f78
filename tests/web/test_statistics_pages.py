"""Statistics pages (issue 18, points 5 and 6): who may open them, bad input named, the table
builder's budget, exports' types and contents, plotly.js served locally with long caching."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
from flask.testing import FlaskClient

from databank.services.statistics import standard_tables
from tests.web.conftest import World, csrf, login

OFFICER, WORKER = "officer", "worker"


def _budget_left(page: str) -> float:
    match = re.search(r"<strong data-budget-left>([0-9.]+)</strong>", page)
    assert match is not None, "the budget left is shown"
    return float(match.group(1))


def _run(client: FlaskClient, **fields: str) -> tuple[int, str, str]:
    """POST the builder; (status, the page it ends on, its location)."""
    data = {"dimension1": "sex", "epsilon": "0.5", "action": "run"} | fields
    data["csrf_token"] = csrf(client, "/statistics/tables")
    response = client.post("/statistics/tables", data=data)
    location = response.headers.get("Location", "")
    if response.status_code == 303:
        return 303, client.get(location).get_data(as_text=True), location
    return response.status_code, response.get_data(as_text=True), location


def test_an_officer_sees_every_standard_table_with_its_chart_and_legend(
    client: FlaskClient, world: World
) -> None:
    login(client, OFFICER)
    response = client.get("/statistics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for table in standard_tables():
        assert f'id="{table.id}-table"' in page, table.id
        assert f'id="{table.id}-data"' in page, table.id  # its chart's data
        assert f"/statistics/published/{table.id}.xlsx" in page
    assert 'id="flows-table"' in page
    assert 'id="medians-table"' in page
    assert "How to read these tables" in page
    assert 'href="/statistics" aria-current="page"' in page
    # No inline script: every script is a file of this site or a JSON data block.
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/' in tag or 'type="application/json"' in tag, tag
    assert "/statistics/vendor/plotly-" in page


def test_an_outreach_worker_is_refused_every_statistics_page(
    client: FlaskClient, world: World
) -> None:
    """Statistics are for housing officers, admins and auditors: an outreach worker gets 403."""
    login(client, WORKER)
    for path in (
        "/statistics",
        "/statistics/tables",
        "/statistics/published/people_by_area.csv",
        "/statistics/published/needs.xlsx",
    ):
        assert client.get(path).status_code == 403, path


def test_a_bad_period_is_422_naming_the_field(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    response = client.get("/statistics?granularity=month&start=2026-13&end=2026-02")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "Please correct the fields marked below." in page
    assert client.get("/statistics?granularity=fortnight").status_code == 422


def test_published_csv_is_the_released_table_labelled(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    response = client.get("/statistics/published/age_and_sex.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert lines[0][0] == "Age band"
    assert lines[0][-1] == "Total"
    assert "Female" in lines[0]
    released = {cell for line in lines[1:] for cell in line[1:] if cell}
    # Every released number is 0, "<10", "x" or a multiple of 5.
    numbers = [c for c in released if c.isdigit()]
    assert all(int(c) % 5 == 0 for c in numbers)
    assert client.get("/statistics/published/no_such_table.csv").status_code == 404


def test_published_xlsx_opens_with_pandas(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    response = client.get("/statistics/published/people_by_area.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    frame = pd.read_excel(io.BytesIO(response.get_data()), sheet_name=0)
    assert list(frame.columns) == ["Area", "People"]
    assert frame.iloc[-1, 0] == "Total"


def test_the_builder_previews_for_free_then_runs_and_charges(
    client: FlaskClient, world: World
) -> None:
    login(client, "victim")  # a user of its own: the budget is per user and per quarter
    form = client.get("/statistics/tables").get_data(as_text=True)
    before = _budget_left(form)
    assert "Expected error" in form  # shown before anything runs
    status, checked, _ = _run(client, action="check", epsilon="1")
    assert status == 200
    assert "data-preview" in checked
    assert _budget_left(checked) == before  # checking costs nothing
    status, page, location = _run(client, dimension1="age_band", dimension2="sex")
    assert status == 303
    assert location.startswith("/statistics/releases/")
    assert "data-epsilon>0.5<" in page
    assert "data-error" in page
    after = float(re.search(r"data-budget-left>([0-9.]+) /", page).group(1))  # type: ignore[union-attr]
    assert after == before - 0.5
    # The release's export is the stored release: the same texts, no new charge.
    exported = client.get(f"{location}.csv")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    again = client.get("/statistics/tables").get_data(as_text=True)
    assert _budget_left(again) == after


def test_a_release_is_its_own_users_only(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    status, _, location = _run(client, epsilon="0.1")
    assert status == 303
    client.post("/logout", data={"csrf_token": csrf(client, "/statistics")})
    login(client, "admin")
    assert client.get(location).status_code == 404
    assert client.get(f"{location}.xlsx").status_code == 404


def test_bad_builder_input_is_422_naming_each_field(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    status, page, _ = _run(client, dimension1="shoe_size", epsilon="lots")
    assert status == 422
    assert 'id="dimensions-error"' in page
    assert 'id="epsilon-error"' in page
    status, page, _ = _run(client, epsilon="3")
    assert status == 422
    assert 'id="epsilon-error"' in page
    status, page, _ = _run(client, dimension1="sex", dimension2="sex")
    assert status == 422
    status, page, _ = _run(client, **{"filter.sex": "dragon"})
    assert status == 422
    assert "filters.sex" in page


def test_a_spent_budget_is_refused_with_a_clear_message(client: FlaskClient, world: World) -> None:
    """Past the quarter's budget an ad-hoc table is refused (409), never a 500."""
    login(client, "admin")
    status, _, _ = _run(client, epsilon="2")
    assert status == 303
    status, page, _ = _run(client, epsilon="0.5")
    assert status == 409
    assert "data-refusal" in page
    assert "has 0 left of 2" in page


def test_the_builder_needs_the_csrf_token(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    response = client.post("/statistics/tables", data={"dimension1": "sex", "action": "run"})
    assert response.status_code == 400


def test_plotly_is_served_locally_with_long_caching(client: FlaskClient, world: World) -> None:
    login(client, OFFICER)
    url = re.search(r'src="(/statistics/vendor/plotly-[^"]+)"', client.get("/statistics").text)
    assert url is not None
    response = client.get(url.group(1))
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert b"plotly.js" in response.get_data()[:200]
    response.close()
