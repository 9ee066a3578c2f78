"""The alert thresholds file: its defaults, its validation, and which rows may fire which rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from databank.audit.alert_rules import (
    ALERTS_FILE,
    AlertRules,
    BulkReads,
    DenialBurst,
    DistrictSweep,
    candidates,
    load_alert_rules,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / ALERTS_FILE
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def _valid() -> dict[str, Any]:
    return yaml.safe_load((POLICIES / ALERTS_FILE).read_text())


def test_the_shipped_file_holds_the_documented_thresholds() -> None:
    """policies/alerts.yaml: 15 people/district/24 h, > 50 people/user/h, 10 denials/10 min."""
    rules = load_alert_rules(POLICIES / ALERTS_FILE)
    assert rules == AlertRules()
    assert rules.district_sweep == DistrictSweep(15, timedelta(hours=24))
    assert rules.bulk_reads == BulkReads(50, timedelta(minutes=60), own_org=False)
    assert rules.denial_burst == DenialBurst(10, timedelta(minutes=10))


def test_thresholds_compare_as_the_file_says() -> None:
    """District sweep and denial burst fire AT their number; bulk reads only ABOVE it."""
    rules = AlertRules()
    assert not rules.district_sweep.fires(14)
    assert rules.district_sweep.fires(15)
    assert not rules.bulk_reads.fires(50)
    assert rules.bulk_reads.fires(51)
    assert not rules.denial_burst.fires(9)
    assert rules.denial_burst.fires(10)


def test_a_smaller_file_is_read(tmp_path: Path) -> None:
    data = _valid()
    data["district_sweep"] = {"distinct_people": 3, "window_hours": 2}
    data["bulk_reads"] = {"distinct_people": 4, "window_minutes": 5, "own_org": True}
    data["denial_burst"] = {"denials": 2, "window_minutes": 1}
    rules = load_alert_rules(_write(tmp_path, data))
    assert rules.district_sweep == DistrictSweep(3, timedelta(hours=2))
    assert rules.bulk_reads == BulkReads(4, timedelta(minutes=5), own_org=True)
    assert rules.denial_burst == DenialBurst(2, timedelta(minutes=1))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.pop("denial_burst"), "denial_burst: is missing"),
        (lambda d: d.update(surprise=1), "surprise: unknown key"),
        (lambda d: d.update(break_glass="never"), "break_glass: must be 'always'"),
        (lambda d: d.update(forbidden_purpose=False), "forbidden_purpose: must be 'always'"),
        (lambda d: d.update(district_sweep=15), "district_sweep: must be a mapping"),
        (lambda d: d["district_sweep"].pop("window_hours"), "district_sweep.window_hours: is"),
        (lambda d: d["bulk_reads"].update(people=3), "bulk_reads.people: unknown key"),
        (lambda d: d["bulk_reads"].update(distinct_people="50"), "bulk_reads.distinct_people"),
        (lambda d: d["bulk_reads"].update(distinct_people=0), "bulk_reads.distinct_people"),
        (lambda d: d["bulk_reads"].update(distinct_people=True), "bulk_reads.distinct_people"),
        (lambda d: d["bulk_reads"].update(own_org="yes"), "bulk_reads.own_org"),
        (lambda d: d["denial_burst"].update(window_minutes=2.5), "denial_burst.window_minutes"),
        (lambda d: d["district_sweep"].update(window_hours=24 * 32), "at most 31 days"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_key(
    tmp_path: Path, change: Any, named: str
) -> None:
    """A bad alerts file raises ValueError naming the file and the bad key, never half-loads."""
    data = _valid()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=r"alerts\.yaml") as caught:
        load_alert_rules(path)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [("- a\n- list\n", "must be a mapping"), ("a: [unclosed\n", "is not valid YAML")],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        load_alert_rules(_write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        load_alert_rules(tmp_path / ALERTS_FILE)


ORG, OTHER, USER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
AT = datetime(2025, 1, 1, tzinfo=UTC)


def _row(seq: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "seq": seq,
        "at": AT,
        "event": "access.read",
        "actor_user_id": USER,
        "actor_org_id": ORG,
        "owner_org_id": ORG,
        "person_id": uuid.uuid4(),
        "purpose": "outreach",
        "decision": "allow",
        "area": "u05kq",
        "body": b"{}",
    }
    row.update(values)
    return row


def test_an_owners_reads_are_candidates_for_nothing() -> None:
    """An owner's allowed reads (the common case) fire no rule, so nothing is queried."""
    found = candidates([_row(i) for i in range(50)], AlertRules())
    assert not found.immediate
    assert not found.windowed


def test_owner_reads_count_for_bulk_reads_only_when_asked() -> None:
    rules = AlertRules(bulk_reads=BulkReads(own_org=True))
    found = candidates([_row(0)], rules)
    assert found.readers == {(ORG, USER): AT}
    assert not found.sweeps


def test_a_partners_location_reads_are_candidates_for_sweep_and_bulk_reads() -> None:
    rows = [_row(i, owner_org_id=OTHER) for i in range(3)] + [
        _row(3, owner_org_id=OTHER, area=None)
    ]
    found = candidates(rows, AlertRules())
    assert found.sweeps == {(ORG, "u05kq"): AT}
    assert found.readers == {(ORG, USER): AT}
    assert not found.refused
    assert not found.immediate


def test_denials_by_a_user_are_candidates_for_a_burst_but_anonymous_ones_are_not() -> None:
    found = candidates([_row(0, decision="deny", owner_org_id=OTHER)], AlertRules())
    assert found.refused == {(ORG, USER): AT}
    assert not found.sweeps  # a refused read released no location
    assert not candidates([_row(0, decision="deny", actor_user_id=None)], AlertRules()).windowed


def test_always_rules_are_grouped_per_subject_with_references_only() -> None:
    person = uuid.uuid4()
    rows = [
        _row(
            1, event="break_glass.start", decision=None, person_id=person, purpose="vital_interest"
        ),
        _row(2, purpose="enforcement", decision="deny", owner_org_id=OTHER, person_id=person),
        _row(3, purpose="enforcement", decision="deny", owner_org_id=OTHER, person_id=person),
        _row(4, event="access.export", owner_org_id=OTHER, decision="deny", person_id=None),
        _row(5, event="access.export", owner_org_id=ORG, person_id=None),  # own export: no alert
    ]
    found = {d.rule: d for d in candidates(rows, AlertRules()).immediate}
    assert set(found) == {"break_glass", "forbidden_purpose", "non_owner_export"}
    assert found["forbidden_purpose"].seqs == (2, 3)
    assert found["forbidden_purpose"].details["purposes"] == ["enforcement"]
    assert found["break_glass"].person_id == person
    assert found["non_owner_export"].owner_org_id == OTHER
    assert found["non_owner_export"].details["decisions"] == ["deny"]
