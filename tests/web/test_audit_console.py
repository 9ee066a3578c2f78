"""The auditor console: scoped views of the access log, a person's history, exports, integrity,
alerts; every view and export logged; bad input refused with the field named, never a 500."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from databank.domain.enums import OrgKind, Purpose, Role
from databank.models import AuditEntry
from databank.services import access
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.auditlog import alerting
from databank.services.inputs import ConsentIn
from databank.services.oversight import access_log, integrity
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.support import app_on, handle_of, logged_handle_of, scratch_runtime
from tests.web.conftest import PASSWORD, csrf, login

CASE_TEXT = ("Sleeps rough near Part-Dieu", "Lefèvre", "Camille", "Dominique", "Sacha")


@dataclass(frozen=True)
class AuditWorld:
    metropole: uuid.UUID
    entraide: uuid.UUID
    users: dict[str, uuid.UUID]
    shared_person: uuid.UUID  # a Métropole person who agreed to share with Entraide (pooled id)
    shared_handle: uuid.UUID  # that person as Métropole's staff and auditors see them
    shared_case: uuid.UUID
    private_case: uuid.UUID  # a Métropole case Entraide may not read
    entraide_case: uuid.UUID
    reads_from: datetime  # after the set-up entries, before the reads
    runtime: Runtime


@pytest.fixture(scope="module")
def audit_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = scratch_runtime("databank_audit_console", tmp_path_factory.mktemp("audit_console"))
    yield runtime
    runtime.dispose()


def _actor(user_id: uuid.UUID, org_id: uuid.UUID, kind: OrgKind) -> Actor:
    return Actor(user_id, org_id, kind, frozenset({Role.OUTREACH_WORKER}), "test")


def _read(runtime: Runtime, actor: Actor, purpose: Purpose, case_id: uuid.UUID) -> None:
    try:
        with runtime.transaction() as session:
            cases.read_case(session, actor, purpose, case_id)
    except access.AccessRefused:
        pass  # the refusal is logged by the transaction


@pytest.fixture(scope="module")
def audit_world(audit_runtime: Runtime) -> AuditWorld:
    users: dict[str, uuid.UUID] = {}
    with audit_runtime.transaction() as session:
        metropole = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        for org, name, role in [
            (metropole, "m-worker", Role.OUTREACH_WORKER),
            (metropole, "m-auditor", Role.AUDITOR),
            (metropole, "p-auditor", Role.PLATFORM_AUDITOR),
            (entraide, "e-worker", Role.OUTREACH_WORKER),
            (entraide, "e-auditor", Role.AUDITOR),
        ]:
            users[name] = organisations.create_user(session, org, name, name, PASSWORD, [role]).id
        m_worker = _actor(users["m-worker"], metropole.id, OrgKind.COUNCIL)
        e_worker = _actor(users["e-worker"], entraide.id, OrgKind.CHARITY)
        shared, private = people.intake(
            session,
            m_worker,
            Purpose.OUTREACH,
            [
                intake_record(identity(given_name="Camille", birth_date=date(1990, 1, 2))),
                intake_record(identity(given_name="Dominique", birth_date=date(1975, 5, 6))),
            ],
        )
        consents.record_consent(
            session,
            m_worker,
            Purpose.OUTREACH,
            shared.person_id,
            ConsentIn(purposes=(Purpose.OUTREACH,), recipient_org_ids=(entraide.id,)),
        )
        [own] = people.intake(
            session,
            e_worker,
            Purpose.OUTREACH,
            [intake_record(identity(given_name="Sacha", birth_date=date(1999, 9, 9)))],
        )
        ids = (metropole.id, entraide.id)
    time.sleep(0.01)
    reads_from = datetime.now(UTC)
    time.sleep(0.01)
    assert shared.case_id
    assert private.case_id
    assert own.case_id
    _read(audit_runtime, e_worker, Purpose.OUTREACH, shared.case_id)  # partial: consent
    _read(audit_runtime, m_worker, Purpose.CASE_MANAGEMENT, shared.case_id)  # owner
    _read(audit_runtime, e_worker, Purpose.OUTREACH, private.case_id)  # refused: no consent
    _read(audit_runtime, e_worker, Purpose.ENFORCEMENT, shared.case_id)  # refused: forbidden
    _read(audit_runtime, e_worker, Purpose.OUTREACH, own.case_id)  # own case
    return AuditWorld(
        ids[0],
        ids[1],
        users,
        shared.person_id,
        handle_of(audit_runtime, ids[0], shared.person_id),
        shared.case_id,
        private.case_id,
        own.case_id,
        reads_from,
        audit_runtime,
    )


@pytest.fixture(scope="module")
def app(
    audit_runtime: Runtime, audit_world: AuditWorld, tmp_path_factory: pytest.TempPathFactory
) -> Flask:
    app = app_on(audit_runtime, tmp_path_factory.mktemp("audit_app"))
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username) == 302
    return client


def entries(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit/entries", query_string={"limit": 1000, **params})
    assert response.status_code == 200, response.get_json()
    result: list[dict[str, Any]] = response.get_json()["entries"]
    return result


def own_part(entry: dict[str, Any], org: uuid.UUID) -> bool:
    return str(org) in (entry["record_owner"], entry["actor_org_id"])


def logged(runtime: Runtime, event: str, user: uuid.UUID) -> list[dict[str, Any]]:
    with runtime.transaction() as session:
        bodies = session.scalars(
            select(AuditEntry.body)
            .where(AuditEntry.event == event, AuditEntry.actor_user_id == user)
            .order_by(AuditEntry.seq)
        ).all()
    return [json.loads(body) for body in bodies]


def test_org_auditor_sees_its_orgs_part_of_the_log_only(
    app: Flask, audit_world: AuditWorld
) -> None:
    """An org's auditor sees entries about its org's records and by its users, nothing else."""
    w = audit_world
    seen = entries(signed_in(app, "m-auditor"))
    assert seen
    assert all(own_part(e, w.metropole) for e in seen)
    records = {e["record_id"] for e in seen}
    assert str(w.shared_case) in records
    assert str(w.entraide_case) not in records
    # Entraide's auditor sees its worker's reads of Métropole's case, not Métropole's own reads.
    seen = entries(signed_in(app, "e-auditor"), event="access.read")
    assert {e["actor_org_id"] for e in seen} == {str(w.entraide)}
    assert {str(w.shared_case), str(w.entraide_case)} <= {e["record_id"] for e in seen}


def test_org_scope_holds_whatever_the_filter(app: Flask, audit_world: AuditWorld) -> None:
    """Filtering on another org cannot widen an org auditor's scope."""
    w = audit_world
    seen = entries(signed_in(app, "m-auditor"), actor_org_id=str(w.entraide))
    assert seen
    assert all(e["record_owner"] == str(w.metropole) for e in seen)
    assert entries(signed_in(app, "e-auditor"), actor_user_id=str(w.users["m-worker"])) == []


def test_platform_auditor_sees_every_org(app: Flask, audit_world: AuditWorld) -> None:
    seen = entries(signed_in(app, "p-auditor"), event="access.read")
    records = {e["record_id"] for e in seen}
    assert {str(audit_world.shared_case), str(audit_world.entraide_case)} <= records
    assert {e["actor_org_id"] for e in seen} == {
        str(audit_world.metropole),
        str(audit_world.entraide),
    }


def test_entries_page_is_scoped_and_shows_no_case_content(
    app: Flask, audit_world: AuditWorld
) -> None:
    page = signed_in(app, "m-auditor").get("/audit/", query_string={"event": "access."})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert str(audit_world.shared_case) in text
    assert str(audit_world.entraide_case) not in text
    assert not [t for t in CASE_TEXT if t in text]
    assert "Audit console" in text  # the header offers the console to auditors only
    assert "Audit console" not in signed_in(app, "m-worker").get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/audit/",
        "/audit/status",
        "/audit/alerts",
        "/audit/export.csv",
        "/api/v1/audit/entries",
        "/api/v1/audit/entries?limit=0",
        "/api/v1/audit/status?verify=1",
        "/api/v1/audit/alerts",
        "/api/v1/audit/export?format=jsonl",
    ],
)
def test_non_auditors_are_refused(app: Flask, path: str) -> None:
    """Only auditors reach the console, pages and API alike; bad parameters do not change that."""
    response = signed_in(app, "e-worker").get(path)
    assert response.status_code == 403
    if path.startswith("/api/"):
        assert set(response.get_json()) == {"code", "status", "message", "errors"}


def test_non_auditor_refusals_are_logged(
    app: Flask, audit_world: AuditWorld, audit_runtime: Runtime
) -> None:
    client = signed_in(app, "m-worker")
    assert client.get(f"/audit/people/{audit_world.shared_handle}").status_code == 403
    refusals = logged(audit_runtime, "audit.view", audit_world.users["m-worker"])
    assert refusals
    assert {e["decision"] for e in refusals} == {"deny"}


def test_signed_out_api_gets_401_json_and_pages_redirect(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/api/v1/audit/entries")
    assert response.status_code == 401
    assert set(response.get_json()) == {"code", "status", "message", "errors"}
    assert client.post("/api/v1/audit/alerts/x/review", json={}).status_code == 401
    page = client.get("/audit/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]


def _seen_by_metropole(w: AuditWorld, holder: str | None) -> str:
    """The person as Métropole's auditors see them on an entry about `holder`'s records."""
    if holder is None or holder == str(w.metropole):
        return str(w.shared_handle)
    return str(handle_of(w.runtime, w.metropole, w.shared_person, uuid.UUID(holder)))


def test_person_history_lists_who_read_when_and_why(app: Flask, audit_world: AuditWorld) -> None:
    """A subject access request: every access to the person, with purpose and decision."""
    w = audit_world
    client = signed_in(app, "p-auditor")
    response = client.get(f"/api/v1/audit/people/{w.shared_handle}/history")
    assert response.status_code == 200
    history = response.get_json()["entries"]
    seqs = [e["seq"] for e in history]
    assert seqs == sorted(seqs)
    assert history
    assert all(e["person_id"] == _seen_by_metropole(w, e["record_owner"]) for e in history)
    assert str(w.shared_person) not in response.get_data(as_text=True)
    assert all(e["event"].startswith(("access.", "break_glass.")) for e in history)
    reads = {
        (e["actor_org_id"], e["purpose"], e["decision"])
        for e in history
        if e["event"] == "access.read"
    }
    # (Other tests' page views may add reads; the world's own reads must all be there.)
    assert reads >= {
        (str(w.entraide), "outreach", "partial"),
        (str(w.metropole), "case_management", "allow"),
        (str(w.entraide), "enforcement", "deny"),
    }
    page = client.get(f"/audit/people/{w.shared_handle}").get_data(as_text=True)
    assert "enforcement" in page
    assert "case_management" in page
    assert not [t for t in CASE_TEXT if t in page]
    # A person's history in an org auditor's console is about the org's own records of them:
    # Entraide holds none of this person, so its auditor's history of them is empty (were it
    # not, a linkage merge would tell Entraide who else knows a person it registered), while
    # its staff's reads of Métropole's record stay in its view of the log.
    with w.runtime.transaction() as session:
        e_auditor = Actor(
            w.users["e-auditor"], w.entraide, OrgKind.CHARITY, frozenset({Role.AUDITOR}), "test"
        )
        assert access_log.person_history(session, e_auditor, w.shared_person) == []
    e_client = signed_in(app, "e-auditor")
    reads = entries(e_client, actor_org_id=str(w.entraide), owner_org_id=str(w.metropole))
    assert {(e["event"], e["purpose"]) for e in reads} >= {("access.read", "outreach")}
    # Métropole's handle, copied into Entraide's console, finds nothing of Métropole's.
    copied = e_client.get(f"/api/v1/audit/people/{w.shared_handle}/history")
    assert copied.status_code == 200
    assert copied.get_json()["entries"] == []


def test_filters(app: Flask, audit_world: AuditWorld) -> None:
    w = audit_world
    client = signed_in(app, "p-auditor")
    assert {e["event"] for e in entries(client, event="access.read")} == {"access.read"}
    prefixed = {e["event"] for e in entries(client, event="access.")}
    assert {"access.read", "access.create"} <= prefixed
    assert all(e.startswith("access.") for e in prefixed)
    assert {e["event"] for e in entries(client, event="access.*")} == prefixed
    assert {e["event"] for e in entries(client, event="org_*")} == set()  # "_" is no wildcard
    denied = entries(client, decision="deny")
    assert denied
    assert {e["decision"] for e in denied} == {"deny"}
    assert {e["purpose"] for e in entries(client, purpose="enforcement")} == {"enforcement"}
    assert {
        e["event"] for e in entries(client, event="access.read", until=w.reads_from.isoformat())
    } == set()
    late = entries(client, since=w.reads_from.isoformat())
    assert "org.created" not in {e["event"] for e in late}
    assert "access.read" in {e["event"] for e in late}
    early = entries(client, until=w.reads_from.isoformat())
    assert "org.created" in {e["event"] for e in early}
    today = datetime.now(UTC).date()
    assert entries(client, since=(today + timedelta(days=1)).isoformat()) == []
    assert entries(client, since=today.isoformat(), until=today.isoformat())


def test_paging_backwards(app: Flask) -> None:
    client = signed_in(app, "p-auditor")
    first = client.get("/api/v1/audit/entries", query_string={"limit": 2}).get_json()
    assert len(first["entries"]) == 2
    assert first["entries"][0]["seq"] > first["entries"][1]["seq"]
    older = client.get(
        "/api/v1/audit/entries", query_string={"limit": 2, "before_seq": first["next_before_seq"]}
    ).get_json()
    assert older["entries"][0]["seq"] < first["entries"][1]["seq"]
    page = client.get("/audit/?limit=2").get_data(as_text=True)
    assert "before_seq=" in page
    assert 'rel="next"' in page


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"person_id": "not-a-uuid"}, "person_id"),
        ({"actor_org_id": "12"}, "actor_org_id"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before_seq": "99999999999999999999999"}, "before_seq"),
        ({"decision": "maybe"}, "decision"),
        ({"purpose": "curiosity"}, "purpose"),
        ({"event": "access.read' OR 1=1"}, "event"),
    ],
)
def test_bad_api_input_names_the_field(app: Flask, params: dict[str, str], field: str) -> None:
    """Bad input is a 4xx naming the field, in the one error shape, never a 500."""
    response = signed_in(app, "m-auditor").get("/api/v1/audit/entries", query_string=params)
    assert response.status_code in (400, 422)
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert field in body["errors"]


def test_other_bad_input_is_refused_not_crashed(app: Flask) -> None:
    client = signed_in(app, "m-auditor")
    cases_ = [
        ("/api/v1/audit/people/nope/history", "person_id"),
        ("/api/v1/audit/export", "format"),
        ("/api/v1/audit/export?format=xlsx", "format"),
        ("/api/v1/audit/status?verify=maybe", "verify"),
        ("/api/v1/audit/status?colour=red", "colour"),
    ]
    for path, field in cases_:
        response = client.get(path)
        assert response.status_code in (400, 422), path
        assert field in response.get_json()["errors"], path
    page = client.get("/audit/?limit=0&since=nope")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert 'aria-invalid="true"' in text
    assert "since" in text
    assert client.get("/audit/people/not-a-uuid").status_code == 404


def test_exports_are_scoped_and_logged(
    app: Flask, audit_world: AuditWorld, audit_runtime: Runtime
) -> None:
    """An export holds only the auditor's scope, and is itself in the log."""
    w = audit_world
    client = signed_in(app, "m-auditor")
    response = client.get("/api/v1/audit/export", query_string={"format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == access_log.CSV_COLUMNS
    assert all(str(w.metropole) in (r["record_owner"], r["actor_org_id"]) for r in rows)
    assert str(w.entraide_case) not in response.get_data(as_text=True)
    history = client.get(f"/audit/people/{w.shared_handle}").get_data(as_text=True)
    jsonl_link = re.search(r'href="([^"]+\.jsonl)" download', history)
    assert jsonl_link is not None
    jsonl = client.get(jsonl_link.group(1))
    assert jsonl.status_code == 200
    assert "attachment" in jsonl.headers["Content-Disposition"]
    bodies = [json.loads(line) for line in jsonl.get_data(as_text=True).splitlines()]
    assert bodies
    assert all(b["person"] == _seen_by_metropole(w, b["record"]["owner"]) for b in bodies)
    assert str(w.shared_person) not in jsonl.get_data(as_text=True)
    assert all(
        str(w.metropole) in (b["record"]["owner"], (b["actor"] or {}).get("org")) for b in bodies
    )
    text = response.get_data(as_text=True) + jsonl.get_data(as_text=True)
    assert not [t for t in CASE_TEXT if t in text]
    exports = logged(audit_runtime, "audit.export", w.users["m-auditor"])
    assert [(e["extra"]["format"], e["count"]) for e in exports[-2:]] == [
        ("csv", len(rows)),
        ("jsonl", len(bodies)),
    ]
    # The auditor's own trace names the person under its org's key (never the pooled id).
    assert exports[-1]["person"] == str(
        logged_handle_of(audit_runtime, w.metropole, w.shared_person)
    )


def test_viewing_the_log_is_logged(
    app: Flask, audit_world: AuditWorld, audit_runtime: Runtime
) -> None:
    client = signed_in(app, "e-auditor")
    shown = entries(client, decision="deny", event="access.")
    views = logged(audit_runtime, "audit.view", audit_world.users["e-auditor"])
    assert views[-1]["count"] == len(shown)
    assert views[-1]["extra"]["filters"] == ["decision", "event"]
    assert views[-1]["purpose"] == "audit"
    assert views[-1]["decision"] == "allow"


def test_status_shows_the_latest_checkpoint_and_verifies(
    app: Flask, audit_world: AuditWorld, audit_runtime: Runtime
) -> None:
    client = signed_in(app, "m-auditor")
    page = client.get("/audit/status")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Latest signed checkpoint" in text
    assert "— " in text  # the signed note's signature line
    status = client.get("/api/v1/audit/status").get_json()
    assert status["checkpoint"]["size"] >= 1
    assert status["unsigned_tail"] == status["size"] - status["checkpoint"]["size"]
    assert status["verify"] is None
    verified = client.post("/audit/status", data={"csrf_token": csrf(client, "/audit/status")})
    assert verified.status_code == 200
    assert "the log is intact" in verified.get_data(as_text=True)
    report = client.get("/api/v1/audit/status?verify=1").get_json()["verify"]
    assert report["ok"] is True
    assert report["seq"] is None
    runs = logged(audit_runtime, "audit.verify", audit_world.users["m-auditor"])
    assert len(runs) == 2
    assert runs[-1]["extra"]["ok"] is True


def test_verify_now_needs_the_form_token(app: Flask) -> None:
    client = signed_in(app, "m-auditor")
    assert client.post("/audit/status").status_code == 400


def test_failed_verification_raises_an_integrity_alert(
    app: Flask, audit_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Any, public_key: Any = None) -> integrity.VerifyReport:
        return integrity.VerifyReport(
            size=5,
            problem=integrity.Problem(3, "body", "entry 3 is not the one the log chained"),
        )

    monkeypatch.setattr(integrity, "verify", broken)
    client = signed_in(app, "p-auditor")
    report = client.get("/api/v1/audit/status?verify=1").get_json()["verify"]
    assert (report["ok"], report["seq"], report["kind"]) == (False, 3, "body")
    raised = client.get("/api/v1/audit/alerts").get_json()["alerts"]
    assert any(
        a["rule"] == "log_integrity" and a["details"]["seq"] == 3 and a["status"] == "open"
        for a in raised
    )


def test_alerts_are_reviewed_through_the_form_and_the_api(
    app: Flask, audit_runtime: Runtime
) -> None:
    with audit_runtime.transaction() as session:
        alerting.raise_integrity_alert(session, 1, "body", "test alert one")
        alerting.raise_integrity_alert(session, 2, "body", "test alert two")
    client = signed_in(app, "p-auditor")
    queue = client.get("/api/v1/audit/alerts", query_string={"status": "open"}).get_json()
    open_ids = [a["id"] for a in queue["alerts"]]
    assert len(open_ids) >= 2
    page = client.get("/audit/alerts?status=open")
    assert page.status_code == 200
    assert open_ids[0] in page.get_data(as_text=True)
    token = csrf(client, "/audit/alerts")
    posted = client.post(
        f"/audit/alerts/{open_ids[0]}",
        data={"status": "justified", "note": "Checked with the team.", "csrf_token": token},
    )
    assert posted.status_code == 303
    # Session calls to the API carry the session's CSRF token in a header.
    headers = {"X-CSRF-Token": token}
    bad = client.post(
        f"/api/v1/audit/alerts/{open_ids[1]}/review",
        json={"status": "open", "note": ""},
        headers=headers,
    )
    assert bad.status_code == 422
    assert {"status", "note"} <= set(bad.get_json()["errors"])
    reviewed = client.post(
        f"/api/v1/audit/alerts/{open_ids[1]}/review",
        json={"status": "escalated", "note": "Needs the DPO."},
        headers=headers,
    )
    assert reviewed.status_code == 200
    statuses = {
        a["id"]: a["status"] for a in client.get("/api/v1/audit/alerts").get_json()["alerts"]
    }
    assert statuses[open_ids[0]] == "justified"
    assert statuses[open_ids[1]] == "escalated"
    # A closed alert cannot be reviewed again: the form says so instead of failing.
    again = client.post(
        f"/audit/alerts/{open_ids[0]}",
        data={"status": "closed", "note": "Again.", "csrf_token": token},
        follow_redirects=True,
    )
    assert again.status_code == 200
    assert "The review was not saved" in again.get_data(as_text=True)
    assert client.get("/api/v1/audit/alerts?status=bogus").status_code == 400


URL_ATTRIBUTE = re.compile(r'(?:href|action|src|formaction)="([^"]*)"')


def _urls(response: TestResponse) -> list[str]:
    """Every address a response names: its Location and the links and form targets it holds."""
    found = [response.headers.get("Location", "")]
    if response.mimetype == "text/html":
        found += URL_ATTRIBUTE.findall(response.get_data(as_text=True))
    return found


def test_finding12_the_person_lookup_goes_by_post_and_no_url_carries_it(
    app: Flask, audit_world: AuditWorld
) -> None:
    """An auditor's person lookup is posted (with the CSRF token), never a query parameter:
    what they type (a name, by mistake) stays out of request lines and server logs; a GET that
    names a person filters nothing; the answer's addresses carry at most the opaque id
    (finding 12)."""
    w = audit_world
    client = signed_in(app, "p-auditor")
    person = str(w.shared_handle)
    by_get = client.get("/audit/", query_string={"person_id": person})
    assert by_get.status_code == 400  # refused, naming the field: not a filter any more
    assert 'id="person_id-error"' in by_get.get_data(as_text=True)
    console = client.get("/audit/").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="(/audit/people)"[^>]*>(.*?)</form>', console, re.S
    )
    assert form is not None
    assert 'name="person_id"' in form.group(2)
    assert 'name="csrf_token"' in form.group(2)
    assert 'name="person_id"' not in console.replace(form.group(0), "")  # no GET field for it
    assert client.post("/audit/people", data={"person_id": person}).status_code == 400  # CSRF
    typed = "Camille Lefèvre 1990-01-02"
    refused = client.post(
        "/audit/people", data={"person_id": typed, "csrf_token": csrf(client, "/audit/")}
    )
    assert refused.status_code == 400
    assert 'id="person_id-error"' in refused.get_data(as_text=True)
    assert not [u for u in _urls(refused) if "Camille" in u or "Lef" in u or "1990" in u]
    assert "Camille" not in refused.get_data(as_text=True)  # not even written back in the form
    found = client.post(
        "/audit/people", data={"person_id": f" {person} ", "csrf_token": csrf(client, "/audit/")}
    )
    assert found.status_code == 303
    assert urlsplit(found.headers["Location"]).query == ""
    page = client.get(found.headers["Location"])
    assert page.status_code == 200
    assert "enforcement" in page.get_data(as_text=True)
    assert not [u for u in _urls(page) if "?" in u and "person" in u.split("?", 1)[1]]
    for link in re.findall(r'href="([^"]*export[^"]*)"', page.get_data(as_text=True)):
        download = client.get(link)
        assert download.status_code == 200, link
        assert person in download.get_data(as_text=True)
    export = client.get("/audit/export.csv", query_string={"person_id": person})
    assert export.status_code == 400  # nor does a download take a person by query


def test_finding12_the_api_takes_a_person_in_the_path_never_in_a_query(
    app: Flask, audit_world: AuditWorld
) -> None:
    """The API's person filter is the path of the person's history or export, never a query
    parameter (a query string lands in request lines and logs); the export names the person by
    the auditor's organisation's handle (finding 12)."""
    w = audit_world
    client = signed_in(app, "m-auditor")
    for path, query in (
        ("/api/v1/audit/entries", {}),
        ("/api/v1/audit/export", {"format": "csv"}),
    ):
        refused = client.get(path, query_string={**query, "person_id": str(w.shared_handle)})
        assert refused.status_code == 400, path
        assert "person_id" in refused.get_json()["errors"], path
    export = client.get(f"/api/v1/audit/people/{w.shared_handle}/export?format=jsonl")
    assert export.status_code == 200
    bodies = [json.loads(line) for line in export.get_data(as_text=True).splitlines()]
    assert bodies
    assert all(b["person"] == _seen_by_metropole(w, b["record"]["owner"]) for b in bodies)
    assert str(w.shared_person) not in export.get_data(as_text=True)
