"""Finding 1 of the attacker review: a caseload's filters and pager must not reveal withheld fields.

Les Tables du Cœur shares a food-aid summary of its cases with a partner charity (status, living
situation, needs, district) but never their health needs. The partner pages through its caseload
with and without filters; then Les Tables records an addiction (a health need) on the shared
cases. Nothing the partner sees — rows, page sizes, "Next page" links — may change.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from databank.domain.enums import OrgKind, Purpose, Role
from databank.domain.vocab import NeedCategory
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn, EncounterIn, NeedIn
from databank.services.records import case_lists, cases, consents, people
from databank.services.runtime import Runtime
from databank.web.pages import NEED_CODES, PAGE_SIZE
from tests.factories import identity, intake_record
from tests.web.conftest import PASSWORD, csrf, login

SHARED = PAGE_SIZE + 3  # more than one page of shared cases


@dataclass(frozen=True)
class Charities:
    tables: Actor
    partner: Actor
    shared_cases: tuple[uuid.UUID, ...]


@pytest.fixture(scope="module")
def charities(web_runtime: Runtime) -> Charities:
    with web_runtime.transaction() as session:
        tables = organisations.create_organisation(
            session, "tables-du-coeur", "Tables", OrgKind.CHARITY
        )
        entraide = organisations.create_organisation(
            session, "entraide", "Entraide", OrgKind.CHARITY
        )
        organisations.create_user(
            session, entraide, "officer@entraide", "Officer", PASSWORD, [Role.HOUSING_OFFICER]
        )
        owner = Actor(None, tables.id, tables.kind, frozenset({Role.OUTREACH_WORKER}))
        partner = Actor(None, entraide.id, entraide.kind, frozenset({Role.HOUSING_OFFICER}))
        records = [
            intake_record(identity(given_name=f"Person{n:02d}", family_name=f"Tables{n:02d}"))
            for n in range(SHARED)
        ]
        found = people.intake(session, owner, Purpose.OUTREACH, records)
        for result in found:
            consents.record_consent(
                session,
                owner,
                Purpose.OUTREACH,
                result.person_id,
                ConsentIn(purposes=(Purpose.FOOD_AID,), recipient_org_ids=(entraide.id,)),
            )
    shared = tuple(r.case_id for r in found if r.case_id is not None)
    return Charities(owner, partner, shared)


def _code(category: NeedCategory) -> str:
    return next(code for code, c in NEED_CODES.items() if c is category)


QUERIES = (
    "",
    f"need={_code(NeedCategory.FOOD)}",
    f"need={_code(NeedCategory.ADDICTION)}",
    f"need={_code(NeedCategory.MENTAL_HEALTH)}",
    "sort=opened_asc",
)


def _walk(client: FlaskClient, query: str) -> list[tuple[list[str], str | None]]:
    """Every page of one filtered caseload: the cases listed and the "Next page" link."""
    pages = []
    path: str | None = "/?" + query
    while path is not None:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        rows = re.findall(r'<th scope="row"><a href="/cases/([0-9a-f-]{36})"', html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
        pages.append((rows, path))
        assert len(pages) < 10, "the pager does not end"
    return pages


def _add_addiction(runtime: Runtime, owner: Actor, case_ids: tuple[uuid.UUID, ...]) -> None:
    with runtime.transaction() as session:
        for case_id in case_ids:
            cases.record_encounter(
                session,
                owner,
                Purpose.OUTREACH,
                case_id,
                EncounterIn(
                    occurred_at=datetime.now(UTC),
                    needs=(NeedIn(NeedCategory.ADDICTION), NeedIn(NeedCategory.MENTAL_HEALTH)),
                ),
            )


def test_finding1_pager_is_identical_whether_a_withheld_need_changes(
    client: FlaskClient, web_runtime: Runtime, charities: Charities
) -> None:
    """Rule: a filter, sort, count, page size or "next" link depends only on what the caller may
    see for the declared purpose. A partner who sees Les Tables' cases without their health needs
    pages through its caseload, filtered or not; the owner then records addiction and mental
    health needs on more than a page of those cases: every page, row and link stays the same."""
    assert login(client, "officer@entraide") == 302
    client.post("/purpose", data={"purpose": "food_aid", "csrf_token": csrf(client, "/")})
    before = {query: _walk(client, query) for query in QUERIES}
    # The walk sees the shared cases, a page at a time: full pages, then the rest.
    assert [len(rows) for rows, _next in before[""]] == [PAGE_SIZE, SHARED - PAGE_SIZE]
    assert before[QUERIES[2]] == [([], None)]
    _add_addiction(web_runtime, charities.tables, charities.shared_cases[: PAGE_SIZE + 2])
    after = {query: _walk(client, query) for query in QUERIES}
    assert after == before


def test_finding1_a_filter_on_a_withheld_need_pages_like_an_empty_list(
    web_runtime: Runtime, charities: Charities
) -> None:
    """Rule: the service's pages (the API's limit and offset too) are counted over the rows the
    caller may be shown: a filter on a withheld health need gives an empty page with no next
    page, and a filter the caller may see fills every page but the last."""
    _add_addiction(web_runtime, charities.tables, charities.shared_cases[: PAGE_SIZE + 2])
    with web_runtime.transaction() as session:
        partner, purpose = charities.partner, Purpose.FOOD_AID
        hidden = case_lists.case_page(
            session, partner, purpose, limit=5, need=NeedCategory.ADDICTION
        )
        assert hidden.lines == []
        assert not hidden.more
        offsets = range(0, SHARED, 5)
        pages = [
            case_lists.case_page(
                session, partner, purpose, limit=5, offset=o, need=NeedCategory.FOOD
            )
            for o in offsets
        ]
    assert [len(p.lines) for p in pages] == [5] * (len(pages) - 1) + [SHARED - 5 * (len(pages) - 1)]
    assert [p.more for p in pages] == [True] * (len(pages) - 1) + [False]
    listed = [line.id for p in pages for line in p.lines]
    assert sorted(listed) == sorted(charities.shared_cases)
