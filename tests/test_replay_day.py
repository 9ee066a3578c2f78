"""scripts/replay_day.py: a smaller day of normal use of the demo city, every demo account
through the pages, raises no audit alert (issue 17, point 7)."""

from __future__ import annotations

from pathlib import Path

from databank.domain.enums import Role
from databank.extension import runtime_of
from tests.support import fresh_postgres_database, load_script, postgres_url

replay_day = load_script("replay_day")


def test_a_day_of_normal_use_by_every_demo_role_raises_no_alert(tmp_path: Path) -> None:
    """Signing in, listing caseloads and referrals, opening cases, the console and the staff
    pages, for every demo account, raise no alert: a caseload walking past partners' cases the
    policy withholds is not a denial burst, nor an auditor's sign-in a refused caseload."""
    base = postgres_url()
    url = fresh_postgres_database(base, "databank_replay_day") if base else None
    app = replay_day.build(tmp_path, people=150, database_url=url)
    try:
        day = replay_day.replay(app)
    finally:
        runtime_of(app).dispose()
    assert day.failures == []
    assert set(day.requests) == {role.value for role in Role}  # every role had its day
    assert day.requests[Role.HOUSING_OFFICER.value] >= 5 * 20  # five officers, 20+ pages each
    assert dict(day.alerts) == {}
