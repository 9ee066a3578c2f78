"""The console's and the alerts' queries read the log through its indexes, partial ones included.

Two of the log's indexes are partial, so that an owner's own read writes no entry into them
(migrations 0011, 0012): a query reads through such an index only if it repeats the index's terms.
These tests ask each database for its plan, with sequential scans discouraged (the tables are
small here), and fail if a query falls back to reading the whole log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Select, event, select, text
from sqlalchemy.orm import Session

from databank.domain.enums import OrgKind, Role
from databank.models import AuditEntry
from databank.services.actors import Actor
from databank.services.auditlog import alerting
from databank.services.oversight import access_log
from databank.services.oversight.access_log import EntryFilter

ORG = uuid.uuid4()
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def plan(session: Session) -> Any:
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    session.connection()  # begun before any statement is turned into its plan
    if not sqlite:
        session.execute(text("SET LOCAL enable_seqscan = off"))

    def explain(_conn: object, _cursor: object, statement: str, parameters: object, *_a: object):
        if not statement.lstrip().upper().startswith("SELECT"):
            return statement, parameters  # the session's own SAVEPOINT, say
        return ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters

    def of(query: Select[Any], params: dict[str, object] | None = None) -> str:
        event.listen(engine, "before_cursor_execute", explain, retval=True)
        try:
            rows = session.connection().execute(query, params or {})
            return " / ".join(str(row[-1]) for row in rows)
        finally:
            event.remove(engine, "before_cursor_execute", explain)

    return of


def _auditor() -> Actor:
    return Actor(uuid.uuid4(), ORG, OrgKind.CHARITY, frozenset({Role.AUDITOR}))


def _page(*where: Any) -> Select[Any]:
    return select(AuditEntry.seq).where(*where).order_by(AuditEntry.seq.desc()).limit(50)


def test_an_org_auditors_scope_reads_the_actor_and_the_partial_owner_index(plan: Any) -> None:
    found = plan(_page(access_log._scope(_auditor())))
    assert "ix_audit_entries_actor_org_id_at" in found, found
    assert "ix_audit_entries_owner_org_id_at" in found, found


def test_the_owner_filter_reads_the_actor_and_the_partial_owner_index(plan: Any) -> None:
    where = access_log._conditions(EntryFilter(owner_org_id=ORG, since=SINCE))
    found = plan(_page(*where))
    assert "ix_audit_entries_actor_org_id_at" in found, found
    assert "ix_audit_entries_owner_org_id_at" in found, found


def test_the_owner_filter_without_the_indexes_terms_would_scan(plan: Any) -> None:
    """The check above can fail: asked plainly, the database cannot use the partial index."""
    found = plan(_page(AuditEntry.owner_org_id == ORG))
    assert "ix_audit_entries_owner_org_id_at" not in found, found


def test_the_sweep_query_reads_through_its_partial_index(plan: Any) -> None:
    params = {"org": ORG, "area": "u05kq", "since": SINCE}
    found = plan(alerting._SWEEP.count, params)
    assert "ix_audit_entries_actor_org_id_area_at" in found, found
