"""The first web pages: sign-in, caseload, case page, and the protections around them."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from databank.models import AuditEntry
from databank.services.runtime import Runtime
from databank.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import PASSWORD, World, csrf, login


def test_sign_in_then_see_own_caseload_and_case(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    home = client.get("/").get_data(as_text=True)
    assert str(world.own_case)[:8] in home
    assert str(world.other_case)[:8] not in home
    page = client.get(f"/cases/{world.own_case}").get_data(as_text=True)
    assert "Sleeps rough near Part-Dieu" in page
    assert "shelter" in page


def test_other_orgs_case_is_refused_and_logged(
    client: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """A signed-in user of another org gets no data, and the refusal is in the access log."""
    login(client, "worker")
    response = client.get(f"/cases/{world.other_case}")
    assert response.status_code == 403
    assert "Part-Dieu" not in response.get_data(as_text=True)
    with web_runtime.transaction() as session:
        denied = session.scalars(
            select(AuditEntry.decision).where(
                AuditEntry.event == "access.read", AuditEntry.decision == "deny"
            )
        ).all()
    assert denied


def test_signed_out_users_get_nothing(client: FlaskClient, world: World) -> None:
    for path in ("/", f"/cases/{world.own_case}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_wrong_password_is_refused_then_the_account_locks(client: FlaskClient) -> None:
    for _ in range(5):
        assert login(client, "victim", "wrong password!") == 401
    # Locked now, even with the right password.
    response = client.post(
        "/login",
        data={"username": "victim", "password": PASSWORD, "csrf_token": csrf(client)},
    )
    assert response.status_code == 401
    assert "locked for a while" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    """Cross-site request forgery: a form post without the session's token is a 400."""
    response = client.post("/login", data={"username": "worker", "password": "x" * 20})
    assert response.status_code == 400
    assert csrf(client)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_bad_case_ids_are_404_not_500(client: FlaskClient) -> None:
    login(client, "worker")
    assert client.get("/cases/not-a-uuid").status_code == 404
    assert client.get(f"/cases/{uuid.uuid4()}").status_code == 404


def test_forbidden_purpose_cannot_be_chosen(client: FlaskClient, world: World) -> None:
    login(client, "worker")
    client.post("/purpose", data={"purpose": "enforcement", "csrf_token": csrf(client, "/")})
    page = client.get("/").get_data(as_text=True)
    assert "for the purpose <strong>outreach</strong>" in page


def test_json_errors_have_one_shape(client: FlaskClient) -> None:
    login(client, "worker")
    response = client.get(f"/cases/{uuid.uuid4()}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}


def test_purpose_switch_is_logged(client: FlaskClient, web_runtime: Runtime) -> None:
    login(client, "worker")
    client.post("/purpose", data={"purpose": "case_management", "csrf_token": csrf(client, "/")})
    assert "<strong>case_management</strong>" in client.get("/").get_data(as_text=True)
    with web_runtime.transaction() as session:
        switches = session.scalars(
            select(AuditEntry.purpose).where(AuditEntry.event == "purpose.switch")
        ).all()
    assert "case_management" in switches


def test_vital_interest_is_not_a_session_purpose(client: FlaskClient) -> None:
    """Vital interest is only reachable through a justified break-glass."""
    login(client, "worker")
    client.post("/purpose", data={"purpose": "vital_interest", "csrf_token": csrf(client, "/")})
    assert "<strong>outreach</strong>" in client.get("/").get_data(as_text=True)


def test_policy_page_is_for_admins_and_auditors(client: FlaskClient) -> None:
    login(client, "worker")
    assert client.get("/organisation/policy").status_code == 403


def test_refused_case_offers_break_glass_only_to_responders(
    client: FlaskClient, world: World
) -> None:
    login(client, "worker")
    page = client.get(f"/cases/{world.other_case}")
    assert page.status_code == 403
    assert "Emergency access" in page.get_data(as_text=True)
    response = client.post(
        f"/cases/{world.other_case}/break-glass",
        data={
            "justification": "Collapsed in the street, unconscious.",
            "csrf_token": csrf(client, "/"),
        },
    )
    assert response.status_code == 403  # an outreach worker is not a break-glass responder


def test_policy_page_shows_what_partners_would_see(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/organisation/policy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "What a partner would see" in text
    assert "tables-du-coeur" in text  # every organisation with a policy is listed as a partner
