"""Every audit entry written during the whole test suite (the demo included): no personal data,
and only the log's vocabulary."""

from __future__ import annotations

import json

import pytest

from databank.demo.generator import generate_population
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Decision
from tests.conftest import AUDIT_BODIES
from tests.factories import case, encounter, identity
from tests.privacy import find_clear_values, personal_values


def test_no_personal_data_in_any_audit_body() -> None:
    """Audit entries carry pseudonymous ids and codes only: no name, birth date, note or place."""
    values, keys = personal_values([*generate_population(2000, 42), *generate_population(150, 7)])
    ident, first_case, first_encounter = identity(), case(), encounter()
    values |= {
        ident.given_name,
        ident.family_name,
        ident.birth_date.isoformat(),
        "Lefèvre",
        "Benali",
        "Karim",
        "Saint-Étienne",
        "12 34 56 78",
        first_case.notes or "",
        first_encounter.notes or "",
        "Part-Dieu",
        f"{first_case.point.lat:.5f}" if first_case.point else "",
        "unconscious",
        "CASENOTE-",
        "ENCNOTE-",
        "ground-floor flat",
    }
    values = {v for v in values if len(v) >= 5}
    if len(AUDIT_BODIES) < 1000:
        pytest.skip("meaningful only after the suite has run (it scans what the tests wrote)")
    found = find_clear_values(b"\n".join(AUDIT_BODIES), values, keys)
    where = [
        body[:300]
        for body in AUDIT_BODIES
        if find_clear_values(
            body, [v for v in found if v in values], [k for k in found if k in keys]
        )
    ]
    assert found == [], where[:3]


def test_every_audit_body_speaks_the_vocabulary() -> None:
    """Events, record types and decisions are members of the domain's enums (or none)."""
    if len(AUDIT_BODIES) < 1000:
        pytest.skip("meaningful only after the suite has run (it scans what the tests wrote)")
    events, types, decisions = set(), set(), set()
    for body in AUDIT_BODIES:
        data = json.loads(body)
        events.add(data["event"])
        types.add(data["record"]["type"])
        decisions.add(data["decision"])
    assert events - {e.value for e in AuditEvent} == set()
    assert types - {t.value for t in RecordType} - {None} == set()
    assert decisions - {d.value for d in Decision} - {None} == set()
    assert len(events) >= 30  # the suite wrote many kinds
