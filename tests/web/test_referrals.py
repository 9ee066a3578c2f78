"""The referral pages: the receiver answers on the received list (accept, decline with a reason,
outcome), the referrer follows its referrals on the sent list and the case page and withdraws a
pending one; forms need the CSRF token, bad answers are a 4xx naming the field, and the reason
and the person's phone show only where the owner's policy (with the person's consent) says."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from databank.domain.enums import OrgKind, Purpose, ReferralStatus, Role
from databank.domain.vocab import NeedCategory
from databank.models import AuditEntry, Referral
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.factories import identity, intake_record
from tests.web.conftest import PASSWORD, csrf, login

NOTE = "Needs a ground-floor room: walks with a cane since the accident."
PHONE = "+33 6 44 55 66 77"
FR = {"Accept-Language": "fr"}


@dataclass(frozen=True)
class Flow:
    consented_case: uuid.UUID
    overridden_case: uuid.UUID


@pytest.fixture(scope="module")
def flow(web_runtime: Runtime) -> Flow:
    with web_runtime.transaction() as session:
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        metro = organisations.create_organisation(
            session, "metropole", "Métropole", OrgKind.COUNCIL
        )
        user = organisations.create_user(
            session, entraide, "ines", "Inès Martin", PASSWORD, [Role.OUTREACH_WORKER]
        )
        organisations.create_user(
            session, metro, "officer@metropole", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        worker = Actor(user.id, entraide.id, entraide.kind, frozenset({Role.OUTREACH_WORKER}))
        made = []
        for family, consent in (("Consenti", True), ("Override", False)):
            [result] = people.intake(
                session,
                worker,
                Purpose.OUTREACH,
                [intake_record(identity(family_name=family, phone=PHONE))],
            )
            assert result.case_id is not None
            if consent:
                consents.record_consent(
                    session,
                    worker,
                    Purpose.OUTREACH,
                    result.person_id,
                    ConsentIn(
                        purposes=(Purpose.HOUSING_ALLOCATION,), recipient_org_ids=(metro.id,)
                    ),
                )
            cases.refer(
                session,
                worker,
                Purpose.OUTREACH,
                result.case_id,
                metro.id,
                Purpose.HOUSING_ALLOCATION,
                NeedCategory.SHELTER,
                NOTE,
                override=not consent,
                justification=None if consent else "Cannot wait for her agreement tonight.",
            )
            made.append(result.case_id)
    return Flow(made[0], made[1])


def _referral_of(runtime: Runtime, case_id: uuid.UUID) -> Referral:
    with runtime.transaction() as session:
        found = session.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.created_at)
        ).all()
        session.expunge_all()
    return found[-1]


def _last_seq(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEntry.seq), -1))))


def _as_officer(client: FlaskClient) -> None:
    assert login(client, "officer@metropole") == 302
    token = csrf(client, "/referrals")
    switched = client.post(
        "/purpose",
        data={"purpose": "housing_allocation", "next": "/referrals", "csrf_token": token},
    )
    assert switched.status_code == 302


def _post(client: FlaskClient, path: str, **form: str) -> object:
    return client.post(path, data={"csrf_token": csrf(client, "/referrals"), **form})


def _text(client: FlaskClient, path: str, **kw: object) -> str:
    return html.unescape(client.get(path, **kw).get_data(as_text=True))  # type: ignore[arg-type]


def _card(page: str, referral_id: uuid.UUID) -> str:
    start = page.index(f'id="r-{referral_id}"')
    return page[start : page.index("</article>", start)]


def test_the_receiver_sees_the_reason_and_the_phone_then_accepts_and_records_the_outcome(
    client: FlaskClient, web_runtime: Runtime, flow: Flow
) -> None:
    referral = _referral_of(web_runtime, flow.consented_case)
    _as_officer(client)
    card = _card(_text(client, "/referrals"), referral.id)
    assert NOTE in card
    assert PHONE in card
    assert f"/referrals/{referral.id}/accept" in card
    assert f"/referrals/{referral.id}/outcome" not in card  # not before it is accepted
    accepted = _post(client, f"/referrals/{referral.id}/accept")
    assert accepted.status_code == 302  # type: ignore[attr-defined]
    page = _text(client, "/referrals")
    assert "The referral is accepted." in page
    card = _card(page, referral.id)
    assert f"/referrals/{referral.id}/outcome" in card
    assert f"/referrals/{referral.id}/accept" not in card
    logged = _last_seq(web_runtime)
    again = _post(client, f"/referrals/{referral.id}/accept")
    assert again.status_code == 409  # type: ignore[attr-defined]
    shown = html.unescape(again.get_data(as_text=True))  # type: ignore[attr-defined]
    assert "answered or withdrawn in the meantime" in shown
    assert f"/referrals/{referral.id}/outcome" in _card(shown, referral.id)  # the list as it is
    assert _last_seq(web_runtime) > logged  # the list it shows was read, and that is logged
    bad = _post(client, f"/referrals/{referral.id}/outcome", outcome="moon")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "<strong>outcome</strong>" in bad.get_data(as_text=True)  # type: ignore[attr-defined]
    done = _post(client, f"/referrals/{referral.id}/outcome", outcome="housed")
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert _referral_of(web_runtime, flow.consented_case).status is ReferralStatus.COMPLETED
    card = _card(_text(client, "/referrals"), referral.id)
    assert "Housed" in card
    assert "Outcome recorded" in card
    assert NOTE not in card  # closed: the referral no longer releases the reason


def test_the_referrer_sees_the_outcome_on_the_sent_list_and_the_case_page(
    client: FlaskClient, web_runtime: Runtime, flow: Flow
) -> None:
    referral = _referral_of(web_runtime, flow.consented_case)
    assert referral.status is ReferralStatus.COMPLETED  # the test above
    assert login(client, "ines") == 302
    sent = _text(client, "/referrals/sent")
    start = sent.index(f'id="s-{referral.id}"')
    card = sent[start : sent.index("</article>", start)]
    assert "To Métropole" in card
    assert "Housed" in card
    assert f"/cases/{flow.consented_case}" in card
    case = _text(client, f"/cases/{flow.consented_case}")
    section = case[case.index('id="s-referrals"') :]
    assert "Housed" in section
    assert "/withdraw" not in section
    french = _text(client, "/referrals/sent", headers=FR)
    assert "Orientations envoyées" in french
    assert "Relogé·e" in french


def test_without_consent_the_receiver_gets_the_referring_worker_only(
    client: FlaskClient, web_runtime: Runtime, flow: Flow
) -> None:
    referral = _referral_of(web_runtime, flow.overridden_case)
    _as_officer(client)
    card = _card(_text(client, "/referrals"), referral.id)
    assert NOTE not in card
    assert "Cannot wait" not in card
    assert PHONE not in card
    assert "Contact the referring worker: Inès Martin, Entraide." in card


def test_answers_need_the_csrf_token_and_a_reason_from_the_list(
    client: FlaskClient, web_runtime: Runtime, flow: Flow
) -> None:
    referral = _referral_of(web_runtime, flow.overridden_case)
    _as_officer(client)
    forged = client.post(f"/referrals/{referral.id}/decline", data={"reason": "no_capacity"})
    assert forged.status_code == 400
    bad = _post(client, f"/referrals/{referral.id}/decline", reason="busy")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "<strong>reason</strong>" in bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _referral_of(web_runtime, flow.overridden_case).status is ReferralStatus.PENDING
    by_receiver = _post(client, f"/referrals/{referral.id}/withdraw")
    assert by_receiver.status_code == 404  # type: ignore[attr-defined]


def test_the_referrer_withdraws_a_pending_referral_from_the_case_page(
    client: FlaskClient, web_runtime: Runtime, flow: Flow
) -> None:
    referral = _referral_of(web_runtime, flow.overridden_case)
    assert login(client, "ines") == 302
    case = _text(client, f"/cases/{flow.overridden_case}")
    section = case[case.index('id="s-referrals"') :]
    assert f"/referrals/{referral.id}/withdraw" in section
    back = _post(client, f"/referrals/{referral.id}/withdraw", case_id=str(flow.overridden_case))
    assert back.status_code == 302  # type: ignore[attr-defined]
    assert back.headers["Location"].endswith(f"/cases/{flow.overridden_case}")  # type: ignore[attr-defined]
    assert _referral_of(web_runtime, flow.overridden_case).status is ReferralStatus.WITHDRAWN
    case = _text(client, f"/cases/{flow.overridden_case}")
    assert f"/referrals/{referral.id}/withdraw" not in case
