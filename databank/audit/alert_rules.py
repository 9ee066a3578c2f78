"""Audit alert rules: thresholds from policies/alerts.yaml, and what a batch of entries may fire."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from databank.domain.audit_vocab import AuditEvent
from databank.domain.enums import FORBIDDEN_PURPOSES, Decision

ALERTS_FILE = "alerts.yaml"
ALWAYS = "always"
# Rules with no threshold. They cannot be switched off: a forbidden-purpose attempt (threat 4),
# a break-glass, a non-owner export or a damaged log must always reach an auditor.
ALWAYS_RULES = ("break_glass", "forbidden_purpose", "non_owner_export", "log_integrity")
READ = AuditEvent.ACCESS_READ
# Rows a list or a page section left out: decided and logged, but no request of the user's.
OMITTED = AuditEvent.ACCESS_OMITTED
# A list's lines show places too: they count for the district sweep (a list of where people
# are is what a sweep reads), not for bulk reads (which counts records opened).
PLACE_READS = (READ, AuditEvent.ACCESS_LIST)
RELEASED = (Decision.ALLOW, Decision.PARTIAL)
_FORBIDDEN = frozenset(p.value for p in FORBIDDEN_PURPOSES)
# A longer window makes every check scan more of the log; a month is plenty for these patterns.
MAX_WINDOW = timedelta(days=31)
_HOUR, _MINUTE = timedelta(hours=1), timedelta(minutes=1)


@dataclass(frozen=True)
class DistrictSweep:
    """A non-owner org reading the released locations of many people in one district."""

    distinct_people: int = 15  # alert at this many people or more
    window: timedelta = timedelta(hours=24)

    @property
    def fires_at(self) -> int:
        return self.distinct_people

    def fires(self, people: int) -> bool:
        return people >= self.fires_at

    def describe(self) -> dict[str, object]:
        return {"threshold": self.distinct_people, "window_hours": self.window // _HOUR}


@dataclass(frozen=True)
class BulkReads:
    """One user reading the records of more than `distinct_people` people."""

    distinct_people: int = 50  # alert above this many: 51 fires, 50 does not
    window: timedelta = timedelta(minutes=60)
    # Count reads of the user's own org's records too. Off by default: staff read their own
    # caseload all day, and counting those would cost a query on every ordinary read.
    own_org: bool = False

    @property
    def fires_at(self) -> int:
        return self.distinct_people + 1

    def fires(self, people: int) -> bool:
        return people >= self.fires_at

    def describe(self) -> dict[str, object]:
        minutes = self.window // _MINUTE
        return {
            "threshold": self.distinct_people,
            "window_minutes": minutes,
            "own_org": self.own_org,
        }


@dataclass(frozen=True)
class DenialBurst:
    """One user refused many times in a short time (probing what they may see)."""

    denials: int = 10  # alert at this many denials or more
    window: timedelta = timedelta(minutes=10)

    @property
    def fires_at(self) -> int:
        return self.denials

    def fires(self, denials: int) -> bool:
        return denials >= self.fires_at

    def describe(self) -> dict[str, object]:
        return {"threshold": self.denials, "window_minutes": self.window // _MINUTE}


WindowedRule = DistrictSweep | BulkReads | DenialBurst


@dataclass(frozen=True)
class AlertRules:
    """The thresholds of the windowed alerts; the defaults are those of policies/alerts.yaml."""

    district_sweep: DistrictSweep = field(default_factory=DistrictSweep)
    bulk_reads: BulkReads = field(default_factory=BulkReads)
    denial_burst: DenialBurst = field(default_factory=DenialBurst)


@dataclass(frozen=True)
class Draft:
    """An alert to raise: rule, subject, entry numbers and details (references only)."""

    rule: str
    actor_user_id: uuid.UUID | None
    actor_org_id: uuid.UUID | None
    owner_org_id: uuid.UUID | None
    person_id: uuid.UUID | None
    at: datetime
    seqs: tuple[int, ...]
    details: dict[str, object]


@dataclass
class Candidates:
    """What a batch of log rows may raise. Windowed rules name the subjects to count for."""

    immediate: list[Draft] = field(default_factory=list)
    sweeps: dict[tuple[uuid.UUID, str], datetime] = field(default_factory=dict)  # (org, area)
    readers: dict[tuple[uuid.UUID, uuid.UUID], datetime] = field(default_factory=dict)  # org, user
    refused: dict[tuple[uuid.UUID, uuid.UUID], datetime] = field(default_factory=dict)  # org, user

    @property
    def windowed(self) -> bool:
        return bool(self.sweeps or self.readers or self.refused)


_Key = tuple[str, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]


def candidates(
    rows: Sequence[Mapping[str, Any]],
    rules: AlertRules,
    people: Sequence[uuid.UUID | None] | None = None,
) -> Candidates:
    """Sort a batch of log rows (audit_log's row dicts) by the rules they could fire.

    From the rows' own columns only: most rows (an owner's reads, intake) match nothing, and
    then nothing more is looked up. `people` are the rows' pooled persons, which an alert names
    (the rows' `person_id` column holds the holder's handle); by default, that column.
    """
    if people is None:
        people = [row["person_id"] for row in rows]
    found = Candidates()
    groups: dict[_Key, list[Mapping[str, Any]]] = {}
    own_org = rules.bulk_reads.own_org
    for row, person in zip(rows, people, strict=True):
        event, decision = row["event"], row["decision"]
        org, owner, user = row["actor_org_id"], row["owner_org_id"], row["actor_user_id"]
        subject = (user, org, owner, person)
        if event == AuditEvent.BREAK_GLASS_START:
            groups.setdefault(("break_glass", *subject), []).append(row)
        if row["purpose"] in _FORBIDDEN:
            groups.setdefault(("forbidden_purpose", *subject), []).append(row)
        if event == AuditEvent.ACCESS_EXPORT and owner is not None and owner != org:
            groups.setdefault(("non_owner_export", *subject), []).append(row)
        if org is None:
            continue
        if decision == Decision.DENY:
            if user is not None and event != OMITTED:
                found.refused[(org, user)] = row["at"]
        elif event in PLACE_READS and person is not None:
            if owner != org and row["area"] is not None:
                found.sweeps[(org, row["area"])] = row["at"]
            if event == READ and user is not None and (owner != org or own_org):
                found.readers[(org, user)] = row["at"]
    for key, grouped in groups.items():
        found.immediate.append(
            Draft(*key, grouped[0]["at"], tuple(r["seq"] for r in grouped), _details(grouped))
        )
    return found


def _details(rows: list[Mapping[str, Any]]) -> dict[str, object]:
    decisions = sorted({r["decision"] or "none" for r in rows})
    return {
        "entries": len(rows),
        "events": sorted({r["event"] for r in rows}),
        "purposes": sorted({r["purpose"] or "none" for r in rows}),
        "decisions": decisions,
    }


def load_alert_rules(path: Path) -> AlertRules:
    """Read an alerts file; raise ValueError naming the file and the bad key if malformed."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: is not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_alert_rules(data, str(path))


def parse_alert_rules(data: Any, file: str) -> AlertRules:
    """Validate the parsed YAML of an alerts file (every rule named, nothing unknown)."""
    if not isinstance(data, dict):
        raise ValueError(f"{file}: must be a mapping of alert names to their thresholds")
    _keys(file, "", data, required={*ALWAYS_RULES, "district_sweep", "bulk_reads", "denial_burst"})
    for rule in ALWAYS_RULES:
        if data[rule] != ALWAYS:
            raise ValueError(f"{file}: {rule}: must be {ALWAYS!r} (this alert cannot be changed)")
    sweep = _section(file, data, "district_sweep", {"distinct_people", "window_hours"})
    bulk = _section(file, data, "bulk_reads", {"distinct_people", "window_minutes"}, {"own_org"})
    burst = _section(file, data, "denial_burst", {"denials", "window_minutes"})
    own_org = bulk.get("own_org", False)
    if not isinstance(own_org, bool):
        raise ValueError(f"{file}: bulk_reads.own_org: must be true or false, not {own_org!r}")
    return AlertRules(
        district_sweep=DistrictSweep(
            _count(file, sweep, "district_sweep", "distinct_people"),
            _window(file, sweep, "district_sweep", "window_hours"),
        ),
        bulk_reads=BulkReads(
            _count(file, bulk, "bulk_reads", "distinct_people"),
            _window(file, bulk, "bulk_reads", "window_minutes"),
            own_org,
        ),
        denial_burst=DenialBurst(
            _count(file, burst, "denial_burst", "denials"),
            _window(file, burst, "denial_burst", "window_minutes"),
        ),
    )


def _keys(
    file: str,
    where: str,
    data: dict[Any, Any],
    required: set[str],
    optional: frozenset[str] = frozenset(),
) -> None:
    prefix = f"{where}." if where else ""
    unknown = sorted(str(k) for k in data if k not in required | optional)
    if unknown:
        raise ValueError(f"{file}: {prefix}{unknown[0]}: unknown key")
    missing = sorted(required - set(data))
    if missing:
        raise ValueError(f"{file}: {prefix}{missing[0]}: is missing")


def _section(
    file: str, data: dict[Any, Any], rule: str, required: set[str], optional: set[str] | None = None
) -> dict[Any, Any]:
    section = data[rule]
    if not isinstance(section, dict):
        keys = ", ".join(sorted(required))
        raise ValueError(f"{file}: {rule}: must be a mapping with {keys}")
    _keys(file, rule, section, required, frozenset(optional or ()))
    return section


def _count(file: str, section: dict[Any, Any], rule: str, key: str) -> int:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{file}: {rule}.{key}: must be a whole number of at least 1, not {value!r}"
        )
    return value


def _window(file: str, section: dict[Any, Any], rule: str, key: str) -> timedelta:
    amount = _count(file, section, rule, key)
    window = timedelta(hours=amount) if key == "window_hours" else timedelta(minutes=amount)
    if window > MAX_WINDOW:
        raise ValueError(f"{file}: {rule}.{key}: must be at most {MAX_WINDOW.days} days")
    return window
