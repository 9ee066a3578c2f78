"""The statistics API: who may read (a token acts as its user, the user's roles decide), the
released tables' shape (only 0, "<10", multiples of 5 and "x"), the privacy budget charged by
ad-hoc tables only, stored releases for their own user only, downloads, and bad input as a 4xx
naming the field."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from databank.domain.enums import Role
from databank.services import statistics
from databank.services.accounts import organisations, tokens
from databank.services.actors import Actor
from databank.services.runtime import Runtime
from tests.api.conftest import PASSWORD, World, assert_error_shape, bearer, signed_in

_serial = itertools.count()
ADHOC = {"dimensions": ["area", "need"], "epsilon": 0.5}

# The month before this one (a report of a month to come is refused) and the one before it.
_LAST = date.today().replace(day=1) - timedelta(days=1)
MONTH = f"{_LAST:%Y-%m}"
PREVIOUS = f"{_LAST.replace(day=1) - timedelta(days=1):%Y-%m}"


def _officer(runtime: Runtime, world: World) -> dict[str, str]:
    """A fresh housing officer of the council with a stats token (a budget of their own)."""
    name = f"stats-officer-{next(_serial)}"
    with runtime.transaction() as session:
        council = session.get(organisations.Organisation, world.council_id)
        user = organisations.create_user(
            session, council, name, "Stats", PASSWORD, [Role.HOUSING_OFFICER]
        )
        session.flush()  # the user's organisation, for its actor
        session.refresh(user)
        issued = tokens.issue(session, Actor.for_user(user), user.id, name, ["stats:read"], 30)
    return {"Authorization": f"Bearer {issued.secret}"}


def _is_released(cell: dict[str, Any]) -> bool:
    text, value = cell["text"], cell["value"]
    if cell["mark"] == "low":
        return text == "<10" and value is None
    if cell["mark"] in ("dominant", "secondary"):
        return text == "x" and value is None
    return isinstance(value, int) and value % 5 == 0 and text == str(value)


def _check_table(doc: dict[str, Any]) -> None:
    assert len(doc["cells"]) == len(doc["rows"])
    for row in doc["cells"]:
        assert len(row) == len(doc["columns"])
        assert all(_is_released(cell) for cell in row), row
    assert all(_is_released(c) for c in doc["totals"]["rows"] + doc["totals"]["columns"])
    assert _is_released(doc["totals"]["total"])
    used = {c["mark"] for row in doc["cells"] for c in row}
    assert used <= {entry["mark"] for entry in doc["legend"]}
    for row in doc["rows"]:
        assert len(row["codes"]) == len(row["labels"])
        assert all(row["labels"])


def test_the_standard_tables_are_listed(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/stats/tables", headers=bearer(world, "officer"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [t["id"] for t in body["tables"]] == [t.id for t in statistics.standard_tables()]
    assert {"area", "need", "period"} <= {d["id"] for d in body["dimensions"]}
    assert all(d["label"] for d in body["dimensions"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats/tables",
        "/api/v1/stats/tables/people_by_area",
        "/api/v1/stats/budget",
        "/api/v1/stats/flows",
        "/api/v1/stats/medians?dimension=org_kind",
        f"/api/v1/stats/reports/{MONTH}",
    ],
)
def test_an_outreach_worker_may_not_read_statistics(
    client: FlaskClient, world: World, path: str
) -> None:
    """Statistics are for housing officers, org admins and auditors; a token acts as its user."""
    refused = client.get(path, headers=bearer(world, "worker"))
    assert_error_shape(refused.get_json(), 403)
    missing_scope = client.get(path, headers=bearer(world, "worker-read"))
    assert_error_shape(missing_scope.get_json(), 403)
    assert_error_shape(client.get(path).get_json(), 401)


def test_an_outreach_worker_may_not_run_an_adhoc_table(client: FlaskClient, world: World) -> None:
    for path in ("/api/v1/stats/preview", "/api/v1/stats/adhoc"):
        refused = client.post(path, json=ADHOC, headers=bearer(world, "worker"))
        assert_error_shape(refused.get_json(), 403)


def test_an_org_admins_session_may_read_and_an_auditors_may_not(app: Flask) -> None:
    """The service's readers (roles.STATISTICS_READERS): housing officers and org admins."""
    admin, _csrf = signed_in(app, "admin")
    response = admin.get("/api/v1/stats/tables/needs")
    assert response.status_code == 200, response.get_json()
    auditor, _csrf = signed_in(app, "auditor")
    assert_error_shape(auditor.get("/api/v1/stats/tables/needs").get_json(), 403)


def test_a_published_table_holds_released_numbers_only(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/stats/tables/living_by_month?granularity=quarter&start=2025-01&end=2026-12",
        headers=bearer(world, "officer", "aggregate_statistics"),
    )
    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    assert doc["kind"] == "published"
    assert doc["id"] == "living_by_month"
    assert [d["id"] for d in doc["dimensions"]] == ["period", "living"]
    assert doc["period"] == {"start": "2025-01", "end": "2026-12", "granularity": "quarter"}
    assert [c["code"] for c in doc["columns"]] == list(statistics.categories("living"))
    assert doc["rows"][0]["codes"] == ["2025-Q1"]
    assert doc["epsilon"] is None
    assert doc["release_id"] is None
    _check_table(doc)


def test_labels_follow_the_request_language(client: FlaskClient, world: World) -> None:
    headers = bearer(world, "officer") | {"Accept-Language": "fr"}
    doc = client.get("/api/v1/stats/tables/needs", headers=headers).get_json()
    assert doc["dimensions"][0]["label"] == statistics.dimension_label("need", "fr")
    first = doc["columns"][0]
    assert first["label"] == statistics.label("need", first["code"], "fr")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("granularity=weekly", "granularity"),
        ("start=2026-13", "start"),
        ("end=yesterday", "end"),
        ("start=2026-05&end=2026-01", None),
        ("format=pdf", "format"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_query_names_the_field(
    client: FlaskClient, world: World, query: str, field: str | None
) -> None:
    response = client.get(
        f"/api/v1/stats/tables/people_by_area?{query}", headers=bearer(world, "officer")
    )
    body = assert_error_shape(response.get_json(), response.status_code)
    assert response.status_code == 422, body
    if field is not None:
        assert field in body["errors"], body
    else:
        assert body["errors"], body


def test_an_unknown_table_is_not_found(client: FlaskClient, world: World) -> None:
    for table_id in ("no_such_table", "x" * 300, "DROP TABLE"):
        response = client.get(f"/api/v1/stats/tables/{table_id}", headers=bearer(world, "officer"))
        assert response.status_code in (404, 422), table_id
        assert_error_shape(response.get_json(), response.status_code)


def test_a_published_table_downloads_as_csv_and_xlsx(client: FlaskClient, world: World) -> None:
    doc = client.get("/api/v1/stats/tables/needs", headers=bearer(world, "officer")).get_json()
    got = client.get("/api/v1/stats/tables/needs?format=csv", headers=bearer(world, "officer"))
    assert got.status_code == 200
    assert got.mimetype == "text/csv"
    assert "attachment" in got.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    written = {value for line in lines for value in line}
    assert {c["label"] for c in doc["columns"]} <= written
    texts = {cell["text"] for row in doc["cells"] for cell in row}
    assert texts <= written
    got = client.get("/api/v1/stats/tables/needs?format=xlsx", headers=bearer(world, "officer"))
    assert got.status_code == 200
    assert got.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(got.data)).active
    assert sheet is not None
    values = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert doc["columns"][0]["label"] in values
    assert {t for t in texts if t != "0"} <= values | {str(float(t)) for t in texts if t.isdigit()}


def test_a_preview_charges_nothing_and_an_adhoc_table_charges_its_epsilon(
    client: FlaskClient, api_runtime: Runtime, world: World
) -> None:
    headers = _officer(api_runtime, world)
    before = client.get("/api/v1/stats/budget", headers=headers).get_json()
    assert before["left"] == pytest.approx(before["total"])
    preview = client.post("/api/v1/stats/preview", json=ADHOC, headers=headers)
    assert preview.status_code == 200, preview.get_json()
    seen = preview.get_json()
    assert seen["epsilon"] == 0.5
    assert seen["error_95"] > 0
    assert seen["affordable"] is True
    assert client.get("/api/v1/stats/budget", headers=headers).get_json() == before
    ran = client.post("/api/v1/stats/adhoc", json=ADHOC, headers=headers)
    assert ran.status_code == 201, ran.get_json()
    doc = ran.get_json()
    assert doc["kind"] == "adhoc"
    assert doc["epsilon"] == 0.5
    assert doc["error_95"] == seen["error_95"]
    assert doc["release_id"]
    assert any(entry["mark"] == "adhoc" for entry in doc["legend"])
    _check_table(doc)
    after = client.get("/api/v1/stats/budget", headers=headers).get_json()
    assert after["left"] == pytest.approx(before["left"] - 0.5)


def test_a_release_is_read_back_by_its_user_only_and_charges_nothing(
    client: FlaskClient, api_runtime: Runtime, world: World
) -> None:
    headers = _officer(api_runtime, world)
    doc = client.post("/api/v1/stats/adhoc", json=ADHOC, headers=headers).get_json()
    path = f"/api/v1/stats/releases/{doc['release_id']}"
    budget = client.get("/api/v1/stats/budget", headers=headers).get_json()
    again = client.get(path, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["cells"] == doc["cells"]
    assert again.get_json()["totals"] == doc["totals"]
    assert client.get("/api/v1/stats/budget", headers=headers).get_json() == budget
    as_csv = client.get(path + "?format=csv", headers=headers)
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    as_xlsx = client.get(path + "?format=xlsx", headers=headers)
    assert load_workbook(io.BytesIO(as_xlsx.data)).active is not None
    other = _officer(api_runtime, world)
    assert_error_shape(client.get(path, headers=other).get_json(), 404)
    assert_error_shape(client.get(path, headers=bearer(world, "officer")).get_json(), 404)
    malformed = client.get("/api/v1/stats/releases/not-a-uuid", headers=headers)
    assert "release_id" in assert_error_shape(malformed.get_json(), 400)["errors"]


def test_a_spent_budget_is_a_409_naming_what_is_left(
    client: FlaskClient, api_runtime: Runtime, world: World
) -> None:
    headers = _officer(api_runtime, world)
    total = client.get("/api/v1/stats/budget", headers=headers).get_json()["total"]
    spend = {"dimensions": ["need"], "epsilon": min(2.0, total)}
    while (
        client.get("/api/v1/stats/budget", headers=headers).get_json()["left"] >= spend["epsilon"]
    ):
        assert client.post("/api/v1/stats/adhoc", json=spend, headers=headers).status_code == 201
    preview = client.post("/api/v1/stats/preview", json=spend, headers=headers).get_json()
    assert preview["affordable"] is False
    refused = client.post("/api/v1/stats/adhoc", json=spend, headers=headers)
    body = assert_error_shape(refused.get_json(), 409)
    assert "budget" in body["message"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dimensions": []}, "dimensions"),
        ({}, "dimensions"),
        ({"dimensions": ["shoe_size"]}, "dimensions"),
        ({"dimensions": ["area", "need", "sex", "age_band"]}, "dimensions"),
        ({"dimensions": "area"}, "dimensions"),
        ({"dimensions": ["need"], "filters": {"need": ["caviar"]}}, "filters.need"),
        ({"dimensions": ["need"], "filters": {"shoe_size": ["42"]}}, "filters"),
        ({"dimensions": ["need"], "filters": {"need": "food"}}, "filters"),
        ({"dimensions": ["need"], "epsilon": 5}, "epsilon"),
        ({"dimensions": ["need"], "epsilon": 0}, "epsilon"),
        ({"dimensions": ["need"], "epsilon": "lots"}, "epsilon"),
        ({"dimensions": ["need"], "period": {"start": "2026-13"}}, "period.start"),
        ({"dimensions": ["need"], "period": {"granularity": "weekly"}}, "period.granularity"),
        ({"dimensions": ["need"], "colour": "red"}, "colour"),
    ],
)
def test_a_bad_table_body_names_the_field(
    client: FlaskClient, world: World, body: dict[str, Any], field: str
) -> None:
    for path in ("/api/v1/stats/preview", "/api/v1/stats/adhoc"):
        response = client.post(path, json=body, headers=bearer(world, "officer"))
        answer = assert_error_shape(response.get_json(), response.status_code)
        assert response.status_code == 422, answer
        assert any(key == field or key.startswith(field + ".") for key in answer["errors"]), answer


def test_flows_and_medians(client: FlaskClient, world: World) -> None:
    flows = client.get(
        "/api/v1/stats/flows?start=2026-01&end=2026-06", headers=bearer(world, "officer")
    )
    assert flows.status_code == 200, flows.get_json()
    doc = flows.get_json()
    assert doc["kind"] == "flows"
    assert [c["code"] for c in doc["columns"]] == ["entering", "leaving"]
    assert [r["codes"][-1] for r in doc["rows"]][:2] == ["2026-01", "2026-02"]
    assert all(c["label"] for c in doc["columns"])
    _check_table(doc)
    medians = client.get(
        "/api/v1/stats/medians?dimension=org_kind", headers=bearer(world, "officer")
    )
    assert medians.status_code == 200, medians.get_json()
    doc = medians.get_json()
    assert doc["kind"] == "medians"
    assert len(doc["medians"]) == len(doc["rows"])
    assert all(m is None or m >= 0 for m in doc["medians"])
    for query, field in (("dimension=shoe_size", "dimension"), ("", "dimension")):
        bad = client.get(f"/api/v1/stats/medians?{query}", headers=bearer(world, "officer"))
        assert field in assert_error_shape(bad.get_json(), 422)["errors"]


def test_the_monthly_report_as_json_and_pdf(client: FlaskClient, world: World) -> None:
    response = client.get(f"/api/v1/stats/reports/{MONTH}", headers=bearer(world, "officer"))
    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    assert doc["month"] == MONTH
    assert doc["previous"] == PREVIOUS
    assert len(doc["sections"]) == 5
    for section in doc["sections"]:
        assert section["title"]
        assert [c["code"] for c in section["table"]["columns"]] == [MONTH, PREVIOUS] or [
            c["code"] for c in section["table"]["columns"]
        ] == [PREVIOUS, MONTH]
        _check_table(section["table"])
    assert any("<10" in sentence for sentence in doc["method"])
    pdf = client.get(f"/api/v1/stats/reports/{MONTH}?format=pdf", headers=bearer(world, "officer"))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert MONTH.encode() in pdf.data
    for month in ("2026-13", "november", "2026-1", "x" * 300):
        bad = client.get(f"/api/v1/stats/reports/{month}", headers=bearer(world, "officer"))
        assert "month" in assert_error_shape(bad.get_json(), 422)["errors"], month


def test_the_document_lists_every_statistics_operation(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    expected = {
        ("/api/v1/stats/tables", "get"),
        ("/api/v1/stats/tables/{table}", "get"),
        ("/api/v1/stats/budget", "get"),
        ("/api/v1/stats/preview", "post"),
        ("/api/v1/stats/adhoc", "post"),
        ("/api/v1/stats/releases/{release_id}", "get"),
        ("/api/v1/stats/flows", "get"),
        ("/api/v1/stats/medians", "get"),
        ("/api/v1/stats/reports/{month}", "get"),
    }
    found = {(p, m) for p, ops in doc["paths"].items() if "/stats/" in p for m in ops}
    assert found == expected
    for path, method in expected:
        op = doc["paths"][path][method]
        assert op["x-scope"] == "stats:read"
        assert op["tags"] == ["statistics"]
    table = doc["paths"]["/api/v1/stats/tables/{table}"]["get"]
    assert "text/csv" in table["responses"]["200"]["content"]
    [param] = [p for p in table["parameters"] if p.get("in") == "path"]
    assert param["schema"]["pattern"]
    cell = doc["components"]["schemas"]["ShownOut"]["properties"]
    assert set(cell) == {"text", "value", "mark"}
