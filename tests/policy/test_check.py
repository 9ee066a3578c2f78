"""`check` and the table-driven tests of policies/tests/*.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from databank.policy import PolicyBundle, check, load_bundle, run_table_tests
from tests.policy.conftest import POLICIES


def test_the_real_policies_pass_check() -> None:
    """The shipped policies load, pass every table test, and every rule decides some test."""
    report = check(POLICIES)
    assert report.problems == []
    assert report.ok
    assert report.version == load_bundle(POLICIES).version
    assert report.tests_passed > 100


def test_every_table_test_passes_and_covers_every_rule(bundle: PolicyBundle) -> None:
    """Each org file and the platform file have tests, all pass, and no rule is left untested."""
    report = run_table_tests(bundle, POLICIES)
    assert report.failures == []
    assert report.uncovered == ()
    files = {p.stem for p in (POLICIES / "tests").glob("*.yaml")}
    assert files == {"_platform", *bundle.orgs}


def test_the_tests_folder_itself_may_be_given(bundle: PolicyBundle) -> None:
    """run_table_tests accepts the policies directory or its tests/ folder."""
    assert run_table_tests(bundle, POLICIES / "tests") == run_table_tests(bundle, POLICIES)
    assert run_table_tests(bundle).passed == run_table_tests(bundle, POLICIES).passed


def test_a_wrong_expectation_is_reported_with_its_file_and_name(policy_dir: Path) -> None:
    """A table test whose expected decision is wrong fails, naming the file and the test."""
    path = policy_dir / "tests" / "tables-du-coeur.yaml"
    text = path.read_text()
    marker = "- name: health never leaves the charity, even with consent"
    start = text.index(marker)
    section = text[start:].replace("expect: deny", "expect: allow", 1)
    path.write_text(text[:start] + section)
    report = check(policy_dir)
    assert not report.ok
    [problem] = report.problems
    assert problem.startswith("tests/tables-du-coeur.yaml #")
    assert "health never leaves the charity" in problem
    assert "expected allow, got deny by tables-du-coeur.health_stays_here" in problem


def test_an_expected_rule_that_did_not_decide_is_reported(policy_dir: Path) -> None:
    """A test listing a rule that was not among the deciding rules fails."""
    path = policy_dir / "tests" / "emsp.yaml"
    text = path.read_text().replace(
        "rules: [emsp.needs_with_consent]", "rules: [emsp.referral_followup]", 1
    )
    path.write_text(text)
    [problem] = check(policy_dir).problems
    assert "tests/emsp.yaml" in problem
    assert "not by emsp.referral_followup" in problem


def test_a_rule_no_test_exercises_is_a_problem(policy_dir: Path) -> None:
    """Coverage: a rule that never decides any table test makes the check fail."""
    with (policy_dir / "orgs" / "emsp.cedar").open("a") as file:
        file.write(
            '\n@id("emsp.untested")\n'
            'forbid (principal, action, resource in Org::"emsp")\n'
            'when { context.field == "consents" && principal.org != resource.owner };\n'
        )
    report = check(policy_dir)
    assert not report.ok
    assert report.problems == ["rule emsp.untested is exercised by no test"]


def test_an_org_without_tests_is_a_problem(policy_dir: Path) -> None:
    """Every org policy file needs a tests/<slug>.yaml."""
    (policy_dir / "tests" / "habitat-rhone.yaml").unlink()
    problems = check(policy_dir).problems
    assert "tests/habitat-rhone.yaml is missing" in problems
    assert any("habitat-rhone.address_stays_here is exercised by no test" in p for p in problems)


def test_malformed_table_tests_are_reported_not_raised(policy_dir: Path) -> None:
    """Typos in a table test (unknown org, role, key, rule id, field) are named failures."""
    entry = """
- name: {name}
  principal: {{org: {org}, roles: [{role}]}}
  case: {{owner: entraide}}
  situation: {{purpose: outreach}}
  action: read
  field: {field}
  expect: deny
  rules: [{rule}]
"""
    cases = [
        ("unknown org", "nowhere", "outreach_worker", "status", "default.deny"),
        ("unknown role", "entraide", "janitor", "status", "default.deny"),
        ("unknown field", "entraide", "outreach_worker", "shoe_size", "default.deny"),
        ("unknown rule", "entraide", "outreach_worker", "status", "entraide.nope"),
    ]
    text = "".join(entry.format(name=n, org=o, role=r, field=f, rule=u) for n, o, r, f, u in cases)
    (policy_dir / "tests" / "extra.yaml").write_text(text)
    (policy_dir / "tests" / "_platform.yaml").write_text(
        (policy_dir / "tests" / "_platform.yaml").read_text() + text.replace("- name:", "- nam:")
    )
    problems = check(policy_dir).problems
    assert "tests/extra.yaml: no organisation 'extra' has a policy file" in problems
    platform = [p for p in problems if p.startswith("tests/_platform.yaml")]
    assert len(platform) == 4
    assert all("unknown keys nam" in p for p in platform)
    (policy_dir / "tests" / "extra.yaml").unlink()
    (policy_dir / "tests" / "_platform.yaml").write_text(
        (POLICIES / "tests" / "_platform.yaml").read_text() + text
    )
    problems = check(policy_dir).problems
    assert len(problems) == 4
    assert "unknown organisation 'nowhere'" in problems[0]
    assert "principal roles must be a list of" in problems[1]
    assert "unknown field 'shoe_size'" in problems[2]
    assert "unknown rule ids: entraide.nope" in problems[3]


def test_a_broken_directory_is_a_problem_not_a_crash(policy_dir: Path) -> None:
    """check reports a load error as a problem naming the file, with the directory's version."""
    (policy_dir / "orgs" / "entraide.meta.yaml").unlink()
    report = check(policy_dir)
    assert not report.ok
    assert report.problems == ["orgs/entraide.cedar: has no orgs/entraide.meta.yaml"]
    assert report.version.startswith("sha256:")
    assert report.tests_passed == 0


BASE_ENTRY = {
    "name": "n",
    "principal": {"org": "entraide", "roles": ["outreach_worker"]},
    "case": {"owner": "entraide"},
    "situation": {"purpose": "outreach"},
    "action": "read",
    "field": "status",
    "expect": "allow",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expect": "maybe"}, "expect must be allow or deny"),
        ({"rules": "platform.owner_content"}, "rules must be a list of rule ids"),
        ({"location_level": "street"}, "location_level must be a number"),
        ({"case": "entraide"}, "case must be a mapping"),
        ({"case": {"owner": "entraide", "is_minor": "no"}}, "is_minor must be true or false"),
        ({"principal": {"org": "entraide", "roles": "auditor"}}, "principal roles must be a list"),
        ({"situation": {"purpose": "curiosity"}}, "unknown purpose 'curiosity'"),
        ({"expect": None}, "missing expect"),
    ],
)
def test_each_malformed_entry_is_named(
    policy_dir: Path, change: dict[str, object], message: str
) -> None:
    """A table entry that cannot run is a failure naming the file, the entry and the reason."""
    entry = {k: v for k, v in {**BASE_ENTRY, **change}.items() if v is not None}
    path = policy_dir / "tests" / "_platform.yaml"
    path.write_text(path.read_text() + yaml.safe_dump([entry]))
    [problem] = check(policy_dir).problems
    assert problem.startswith("tests/_platform.yaml #")
    assert message in problem


@pytest.mark.parametrize(
    ("text", "message"),
    [("{}", "must be a non-empty list of test cases"), ("- [unclosed", "is not valid YAML")],
)
def test_a_malformed_tests_file_is_named(policy_dir: Path, text: str, message: str) -> None:
    """A tests file that is not a list of entries is reported, by name."""
    (policy_dir / "tests" / "emsp.yaml").write_text(text)
    problems = check(policy_dir).problems
    assert f"tests/emsp.yaml: {message}" in problems[0]
