"""The case page's lifecycle actions and the identity correction page: offered as the policy
allows, posted with CSRF, wrong fields named inline, changes shown in the history, EN and FR."""

from __future__ import annotations

import re
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from databank.models import AuditEntry, Need
from databank.services.runtime import Runtime
from tests.web.conftest import World, csrf, login


def _post(client: FlaskClient, path: str, page: str, **data: str) -> object:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def _need_ids(runtime: Runtime, case_id: uuid.UUID) -> list[uuid.UUID]:
    with runtime.transaction() as session:
        return list(session.scalars(select(Need.id).where(Need.case_id == case_id)))


def test_owner_closes_reopens_and_sees_the_history(
    client: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    assert login(client, "worker") == 302
    page_path = f"/cases/{world.own_case}"
    page = client.get(page_path).get_data(as_text=True)
    for action in ("/close", "/living-situation", "/needs/"):
        assert f'action="/cases/{world.own_case}{action}' in page
    # Housed without saying where: the page again, the field named, nothing closed.
    refused = _post(client, f"{page_path}/close", page_path, reason="housed")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    body = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="destination-error"' in body
    assert "Say where the person went." in body
    closed = _post(
        client, f"{page_path}/close", page_path, reason="housed", destination="rental_subsidised"
    )
    assert closed.status_code == 302  # type: ignore[attr-defined]
    page = client.get(page_path).get_data(as_text=True)
    assert "Social or subsidised rental" in page
    assert 'data value="housed"' in page
    assert f'action="/cases/{world.own_case}/reopen"' in page
    assert f'action="/cases/{world.own_case}/close"' not in page
    assert _post(client, f"{page_path}/reopen", page_path).status_code == 302  # type: ignore[attr-defined]
    page = client.get(page_path).get_data(as_text=True)
    history = page[page.index('id="s-history"') :]
    assert "Reopened" in history
    assert "Closed" in history
    assert "by Worker" in history  # a colleague's name, for the owner's staff
    with web_runtime.transaction() as session:
        updates = session.scalars(
            select(AuditEntry.body).where(
                AuditEntry.event == "access.update", AuditEntry.decision == "allow"
            )
        ).all()
    assert len(updates) >= 3  # the refused closing's decision too, with the page's read


def test_owner_updates_the_living_situation_and_a_need(
    client: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    assert login(client, "worker") == 302
    page_path = f"/cases/{world.own_case}"
    moved = _post(
        client,
        f"{page_path}/living-situation",
        page_path,
        living_situation="ethos_8_insecure_accommodation",
    )
    assert moved.status_code == 302  # type: ignore[attr-defined]
    need_id = _need_ids(web_runtime, world.own_case)[0]
    met = _post(
        client,
        f"{page_path}/needs/{need_id}",
        page_path,
        need_status="met",
        need_severity="medium",
        need_id=str(need_id),
    )
    assert met.status_code == 302  # type: ignore[attr-defined]
    page = client.get(page_path).get_data(as_text=True)
    history = page[page.index('id="s-history"') :]
    assert 'data value="ethos_8_insecure_accommodation"' in history
    assert 'data value="met"' in history
    # The same status again: the need's form names the problem.
    again = _post(
        client,
        f"{page_path}/needs/{need_id}",
        page_path,
        need_status="met",
        need_severity="medium",
        need_id=str(need_id),
    )
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert 'id="need_status-error"' in again.get_data(as_text=True)  # type: ignore[attr-defined]
    bad = _post(client, f"{page_path}/living-situation", page_path, living_situation="castle")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert 'id="living_situation-error"' in bad.get_data(as_text=True)  # type: ignore[attr-defined]


def test_another_org_cannot_change_the_case(client: FlaskClient, world: World) -> None:
    """The council's officer reads nothing of the charity's case and changes nothing of it."""
    assert login(client, "officer") == 302
    token = csrf(client, "/")
    response = client.post(
        f"/cases/{world.own_case}/close", data={"reason": "other", "csrf_token": token}
    )
    assert response.status_code in (403, 404)
    assert "Part-Dieu" not in response.get_data(as_text=True)


def test_without_csrf_a_change_is_refused(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    response = client.post(f"/cases/{world.own_case}/reopen")
    assert response.status_code == 400


def test_identity_correction_page(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    page = client.get(f"/cases/{world.own_case}").get_data(as_text=True)
    match = re.search(r'href="(/people/[^"]+/identity)"', page)
    assert match is not None
    path = match.group(1)
    form = client.get(path).get_data(as_text=True)
    assert 'name="family_name"' in form
    future = _post(
        client, path, path, given_name="Amélie", family_name="Lefèvre", birth_date="2999-01-01"
    )
    assert future.status_code == 422  # type: ignore[attr-defined]
    assert 'id="birth_date-error"' in future.get_data(as_text=True)  # type: ignore[attr-defined]
    held = re.search(r'id="id-family_name"[^>]*value="([^"]*)"', form)
    assert held is not None
    done = _post(client, path, path, family_name="Lefebvre", phone_held="", phone="")
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert "Lefebvre" not in done.headers["Location"]  # type: ignore[attr-defined]
    after = client.get(path).get_data(as_text=True)
    corrections = after[after.index('id="s-corrections"') :]
    assert held.group(1) in corrections  # the previous family name, kept
    assert 'value="Lefebvre"' in after


def test_the_actions_read_in_french(client: FlaskClient, world: World) -> None:
    assert login(client, "worker") == 302
    client.post("/language", data={"lang": "fr", "csrf_token": csrf(client, "/")})
    page = client.get(f"/cases/{world.own_case}").get_data(as_text=True)
    assert "Clore le dossier" in page or "Rouvrir le dossier" in page
    assert "Historique" in page


def test_outreach_person_page_marks_a_need_met(
    client: FlaskClient, world: World, web_runtime: Runtime
) -> None:
    """The street page's small control: in progress or met, back to the same page, where the
    need then says it is met."""
    assert login(client, "worker") == 302
    page = client.get(f"/cases/{world.own_case}").get_data(as_text=True)
    match = re.search(r'href="/people/([^"/]+)/identity"', page)
    assert match is not None
    person_page = f"/outreach/people/{match.group(1)}"
    street = client.get(person_page).get_data(as_text=True)
    open_needs = re.findall(rf'action="/cases/{world.own_case}/needs/([^"]+)"', street)
    assert open_needs
    done = _post(
        client,
        f"/cases/{world.own_case}/needs/{open_needs[-1]}",
        person_page,
        need_status="met",
        back="outreach",
    )
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert done.headers["Location"].endswith(person_page)  # type: ignore[attr-defined]
    after = client.get(person_page).get_data(as_text=True)
    assert f"/needs/{open_needs[-1]}" not in after  # met: no button left for it
    assert '<span class="badge badge-accepted">met</span>' in after  # and it says so
