"""Run the table-driven policy tests (policies/tests/*.yaml) and check a policies directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from databank.domain.enums import Role
from databank.policy.bundle import PolicyBundle, bundle_version, load_bundle
from databank.policy.engine import PolicyEngine
from databank.policy.facts import (
    DEFAULT_DENY,
    STATISTICS_ORG,
    CaseFacts,
    FieldDecision,
    PolicyError,
    Principal,
    Situation,
)

PLATFORM_TESTS = "_platform"
_REQUIRED = {"name", "principal", "case", "situation", "action", "field", "expect"}
_KEYS = _REQUIRED | {"location_level", "rules"}
_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class TestReport:
    """Outcome of the table tests; `uncovered` are rule ids no test decision was made by."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite its name

    passed: int
    failures: list[str]
    uncovered: tuple[str, ...]


@dataclass(frozen=True)
class CheckReport:
    """Outcome of `databank policies check`: load, table tests and rule coverage."""

    ok: bool
    problems: list[str]
    version: str
    tests_passed: int


@dataclass(frozen=True)
class _TableCase:
    name: str
    principal: Principal
    action: str
    case: CaseFacts
    situation: Situation
    field: str
    location_level: int
    expect: bool
    rules: tuple[str, ...]


class _BadCase(Exception):
    """A table entry that cannot be run as written."""


def check(directory: Path) -> CheckReport:
    """Load the directory, run its table tests, and require every rule to decide some test."""
    directory = Path(directory)
    version = bundle_version(directory) if directory.is_dir() else ""
    try:
        bundle = load_bundle(directory)
    except PolicyError as error:
        return CheckReport(False, [str(error)], version, 0)
    report = run_table_tests(bundle, directory)
    problems = report.failures + [f"rule {r} is exercised by no test" for r in report.uncovered]
    return CheckReport(not problems, problems, bundle.version, report.passed)


def run_table_tests(bundle: PolicyBundle, directory: Path | None = None) -> TestReport:
    """Run every table test; `directory` is the policies directory or its tests/ folder.

    A test's principal and case owner take their org kind from that org's meta.yaml. Every org
    with a policy file needs a tests/<slug>.yaml, and the platform rules a tests/_platform.yaml.
    """
    folder = Path(directory) if directory is not None else bundle.directory
    if (folder / "tests").is_dir():
        folder = folder / "tests"
    engine = PolicyEngine(bundle)
    passed = 0
    failures: list[str] = []
    exercised: set[str] = set()
    expected_files = {PLATFORM_TESTS, *bundle.orgs}
    for name in sorted(expected_files):
        if not (folder / f"{name}.yaml").is_file():
            failures.append(f"tests/{name}.yaml is missing")
    for path in sorted(folder.glob("*.yaml")):
        where = f"tests/{path.name}"
        if path.stem not in expected_files:
            failures.append(f"{where}: no organisation {path.stem!r} has a policy file")
            continue
        try:
            entries = _entries(path)
        except _BadCase as error:
            failures.append(f"{where}: {error}")
            continue
        for index, entry in enumerate(entries, 1):
            label = f"{where} #{index}"
            try:
                test = _parse(bundle, entry)
                label = f"{label} {test.name!r}"
                decision = engine.decide(
                    test.principal,
                    test.action,
                    test.case,
                    test.situation,
                    test.field,
                    test.location_level,
                )
            except (_BadCase, ValueError) as error:
                failures.append(f"{label}: {error}")
                continue
            exercised.update(decision.rules)
            problem = _compare(test, decision)
            if problem:
                failures.append(f"{label}: {problem}")
            else:
                passed += 1
    uncovered = tuple(r for r in bundle.rule_ids if r not in exercised)
    return TestReport(passed, failures, uncovered)


def _entries(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise _BadCase(f"is not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(data, list) or not data:
        raise _BadCase("must be a non-empty list of test cases")
    return data


def _compare(test: _TableCase, decision: FieldDecision) -> str:
    got = "allow" if decision.allowed else "deny"
    if decision.allowed != test.expect:
        expected = "allow" if test.expect else "deny"
        return f"expected {expected}, got {got} by {', '.join(decision.rules)}"
    missing = [r for r in test.rules if r not in decision.rules]
    if missing:
        return f"{got} as expected, but by {', '.join(decision.rules)}, not by {', '.join(missing)}"
    return ""


def _parse(bundle: PolicyBundle, entry: Any) -> _TableCase:
    data = _mapping(entry, "a test case", _KEYS)
    missing = sorted(_REQUIRED - set(data))
    if missing:
        raise _BadCase(f"missing {', '.join(missing)}")
    who = _mapping(data["principal"], "principal", {"org", "roles"})
    roles = who.get("roles", [])
    if not isinstance(roles, list) or not set(roles) <= _ROLES:
        raise _BadCase(f"principal roles must be a list of: {', '.join(sorted(_ROLES))}")
    asked_by = who.get("org")
    org = STATISTICS_ORG if asked_by == STATISTICS_ORG else _org(bundle, asked_by)
    kind = "other" if org == STATISTICS_ORG else bundle.orgs[org].kind
    case = _mapping(data["case"], "case", {"owner", "is_minor", "is_domestic_abuse_survivor"})
    owner = _org(bundle, case.get("owner"))
    facts = CaseFacts(
        owner,
        bundle.orgs[owner].kind,
        is_minor=_flag(case, "is_minor"),
        is_domestic_abuse_survivor=_flag(case, "is_domestic_abuse_survivor"),
    )
    flags = ("consent", "referred", "break_glass", "justification")
    raw = _mapping(data["situation"], "situation", {"purpose", *flags})
    situation = Situation(str(raw.get("purpose")), **{f: _flag(raw, f) for f in flags})
    expect = data["expect"]
    if expect not in ("allow", "deny"):
        raise _BadCase("expect must be allow or deny")
    rules = data.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise _BadCase("rules must be a list of rule ids")
    unknown = [r for r in rules if r not in bundle.rules and r != DEFAULT_DENY]
    if unknown:
        raise _BadCase(f"unknown rule ids: {', '.join(unknown)}")
    level = data.get("location_level", 0)
    if not isinstance(level, int):
        raise _BadCase("location_level must be a number from 0 to 4")
    return _TableCase(
        name=str(data["name"]),
        principal=Principal("table-test", org, kind, frozenset(roles)),
        action=str(data["action"]),
        case=facts,
        situation=situation,
        field=str(data["field"]),
        location_level=level,
        expect=expect == "allow",
        rules=tuple(rules),
    )


def _mapping(value: Any, what: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _BadCase(f"{what} must be a mapping")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _BadCase(f"{what}: unknown keys {', '.join(unknown)}")
    return value


def _org(bundle: PolicyBundle, slug: Any) -> str:
    if slug not in bundle.orgs:
        raise _BadCase(f"unknown organisation {slug!r} (no orgs/<slug>.meta.yaml)")
    return str(slug)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _BadCase(f"{key} must be true or false")
    return value
