"""The decision point: decisions, releases by field and location level, explanations, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from databank.policy import (
    FIELDS,
    CaseFacts,
    PolicyBundle,
    PolicyEngine,
    Principal,
    Situation,
    bundle_version,
    load_bundle,
)
from tests.policy.conftest import POLICIES

ENTRAIDE_WORKER = Principal("u1", "entraide", "charity", frozenset({"outreach_worker"}))
TDC_CASE = CaseFacts("tables-du-coeur", "charity")
FOOD_AID_CONSENT = Situation("food_aid", consent=True)


def test_a_decision_names_its_deciding_rule(engine: PolicyEngine) -> None:
    """An allowed partner read names the permit that allowed it."""
    decision = engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "needs")
    assert decision.allowed
    assert decision.rules == ("tables-du-coeur.partner_consented_summary",)


def test_nothing_permitted_is_a_default_deny(engine: PolicyEngine) -> None:
    """When no rule permits, the decision is a refusal named default.deny."""
    decision = engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, Situation("food_aid"), "needs")
    assert not decision.allowed
    assert decision.rules == ("default.deny",)


def test_the_release_gives_the_finest_location_allowed(engine: PolicyEngine) -> None:
    """A release tries levels 4, 3, 2, 1 and releases the finest allowed, with why."""
    release = engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, FIELDS)
    assert release.allowed == {"status", "living_situation", "needs", "location"}
    assert release.withheld == set(FIELDS) - release.allowed
    assert release.location_level == 2
    assert "tables-du-coeur.location_district_max" in release.rules
    assert "tables-du-coeur.partner_consented_summary" in release.rules
    assert "tables-du-coeur.health_stays_here" in release.rules
    assert list(release.rules) == sorted(release.rules)


def test_a_release_without_location_has_level_zero(engine: PolicyEngine) -> None:
    """No location asked, or none allowed, means location level 0."""
    asked = engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, ["status"])
    assert asked.allowed == {"status"}
    assert asked.location_level == 0
    none = engine.release(
        ENTRAIDE_WORKER, "read", TDC_CASE, Situation("food_aid"), ["location", "location"]
    )
    assert none.allowed == frozenset()
    assert none.withheld == {"location"}
    assert none.location_level == 0
    assert none.rules == (
        "default.deny",
        "platform.partner_location_district_max",
        "tables-du-coeur.location_district_max",
    )


def test_an_owner_gets_the_exact_location(engine: PolicyEngine) -> None:
    """The owner's staff see their own case's exact point."""
    owner = Principal("u2", "tables-du-coeur", "charity", frozenset({"outreach_worker"}))
    release = engine.release(owner, "read", TDC_CASE, Situation("food_aid"), ["location"])
    assert release.location_level == 4
    assert release.rules == ("platform.owner_content",)


def test_release_and_decide_agree(engine: PolicyEngine, bundle: PolicyBundle) -> None:
    """A release is the per-field decisions, whatever was cached first."""
    fresh = PolicyEngine(bundle)
    for field in FIELDS:
        engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, field, 3)
    assert engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, FIELDS) == (
        fresh.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, FIELDS)
    )


def test_the_cache_never_answers_one_question_with_anothers_decision(
    engine: PolicyEngine, bundle: PolicyBundle
) -> None:
    """Cached releases are keyed by every fact a decision rests on: asked in turn of one engine,
    the owner, a partner with and without consent, another purpose and an auditor each get what
    a fresh engine gives them, never a release cached for someone else."""
    owner = Principal("u2", "tables-du-coeur", "charity", frozenset({"outreach_worker"}))
    auditor = Principal("u3", "tables-du-coeur", "charity", frozenset({"auditor"}))
    questions = [
        (owner, TDC_CASE, Situation("food_aid")),
        (ENTRAIDE_WORKER, TDC_CASE, Situation("food_aid")),
        (ENTRAIDE_WORKER, TDC_CASE, FOOD_AID_CONSENT),
        (ENTRAIDE_WORKER, TDC_CASE, Situation("outreach", consent=True)),
        (auditor, TDC_CASE, Situation("audit")),
        (ENTRAIDE_WORKER, CaseFacts("tables-du-coeur", "charity", is_minor=True), FOOD_AID_CONSENT),
    ]
    releases = [engine.release(p, "read", c, s, FIELDS) for p, c, s in questions]
    for (principal, case, situation), release in zip(questions, releases, strict=True):
        assert release == PolicyEngine(bundle).release(principal, "read", case, situation, FIELDS)
    assert len({r.allowed for r in releases}) >= 3  # the questions do differ in their answers


@pytest.mark.parametrize(
    ("action", "field", "level", "message"),
    [
        ("steal", "status", 0, "unknown action 'steal'"),
        ("read", "shoe_size", 0, "unknown field 'shoe_size'"),
        ("read", "location", 5, "location level must be an integer from 0 to 4"),
    ],
)
def test_unknown_inputs_are_value_errors(
    engine: PolicyEngine, action: str, field: str, level: int, message: str
) -> None:
    """An unknown action, field or level is a programming error, named in the exception."""
    with pytest.raises(ValueError, match=message):
        engine.decide(ENTRAIDE_WORKER, action, TDC_CASE, FOOD_AID_CONSENT, field, level)
    if field != "location":  # a release chooses the location levels itself
        with pytest.raises(ValueError, match=message):
            engine.release(ENTRAIDE_WORKER, action, TDC_CASE, FOOD_AID_CONSENT, [field])


def test_an_unknown_purpose_is_a_value_error(engine: PolicyEngine) -> None:
    """Purposes come from the closed vocabulary; services validate them before asking."""
    with pytest.raises(ValueError, match="unknown purpose 'curiosity'"):
        engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, Situation("curiosity"), "status")
    with pytest.raises(ValueError, match="unknown purpose 'curiosity'"):
        engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, Situation("curiosity"), FIELDS)


def test_one_org_with_two_kinds_is_a_value_error(engine: PolicyEngine) -> None:
    """The principal's org and the case owner, if the same org, must agree on its kind."""
    case = CaseFacts("entraide", "council")
    with pytest.raises(ValueError, match="'entraide' is given two kinds"):
        engine.decide(ENTRAIDE_WORKER, "read", case, FOOD_AID_CONSENT, "status")


def test_the_forbidden_flag_comes_from_purposes_yaml(engine: PolicyEngine) -> None:
    """purpose_forbidden is looked up in purposes.yaml; the caller cannot set it."""
    owner = Principal("u3", "entraide", "charity", frozenset({"org_admin"}))
    case = CaseFacts("entraide", "charity")
    explained = engine.explain(owner, "read", case, Situation("enforcement"), "status")
    assert explained.context["purpose_forbidden"] is True
    assert not explained.allowed
    assert explained.decision.rules == ("platform.forbidden_purpose",)
    allowed = engine.explain(owner, "read", case, Situation("outreach"), "status")
    assert allowed.context["purpose_forbidden"] is False


def test_explain_shows_the_deciding_rules_as_written(engine: PolicyEngine) -> None:
    """explain gives each deciding rule's effect, file and text, and the context sent."""
    explained = engine.explain(
        ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "location", location_level=3
    )
    assert not explained.allowed
    # The owner's forbid and the platform's cap both decide it.
    platform, rule = explained.rules
    assert platform.id == "platform.partner_location_district_max"
    assert platform.file == "_platform.cedar"
    assert rule.id == "tables-du-coeur.location_district_max"
    assert rule.effect == "forbid"
    assert rule.file == "orgs/tables-du-coeur.cedar"
    assert rule.text.startswith("// Nobody outside Les Tables du Cœur")
    assert rule.text.endswith("};")
    assert '@id("tables-du-coeur.location_district_max")' in rule.text
    assert explained.context["location_level"] == 3
    text = explained.describe()
    assert text.startswith(
        "decision: DENY (platform.partner_location_district_max, "
        "tables-du-coeur.location_district_max)"
    )
    assert "forbid tables-du-coeur.location_district_max  (orgs/tables-du-coeur.cedar)" in text


def test_explain_of_a_default_deny_says_so(engine: PolicyEngine) -> None:
    """With no deciding rule, the explanation says the request is denied by default."""
    explained = engine.explain(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "identity")
    assert explained.rules == ()
    assert explained.decision.rules == ("default.deny",)
    assert "denied by default" in explained.describe()


def test_explain_does_not_touch_the_cache(engine: PolicyEngine) -> None:
    """explain always evaluates afresh."""
    engine.explain(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "needs")
    assert engine.cache_info() == (0, 0)


def test_the_same_decision_twice_is_one_miss_then_one_hit(engine: PolicyEngine) -> None:
    """Decisions are cached by facts: the second identical question is a dict lookup."""
    first = engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "needs")
    assert engine.cache_info() == (0, 1)
    second = engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "needs")
    assert engine.cache_info() == (1, 1)
    assert first is second


def test_the_cache_ignores_user_and_case_identity(engine: PolicyEngine) -> None:
    """Another user of the same org and roles, on another case with the same facts, is a hit."""
    engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "needs")
    colleague = Principal("u9", "entraide", "charity", frozenset({"outreach_worker"}))
    engine.decide(
        colleague, "read", CaseFacts("tables-du-coeur", "charity"), FOOD_AID_CONSENT, "needs"
    )
    assert engine.cache_info() == (1, 1)


def test_a_release_counts_one_decision_per_field_and_level(engine: PolicyEngine) -> None:
    """A release of 12 fields is 15 decisions (4 location levels), cached together."""
    engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, FIELDS)
    assert engine.cache_info() == (0, 15)
    engine.release(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, FIELDS)
    assert engine.cache_info() == (15, 15)


def test_the_cache_is_bounded(bundle: PolicyBundle) -> None:
    """A full cache is emptied, never grown past its size, and decisions stay right."""
    engine = PolicyEngine(bundle, cache_size=2)
    for _ in range(2):
        for field in ("status", "needs", "health"):
            engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, field)
    assert engine.cache_info() == (0, 6)
    assert not engine.decide(ENTRAIDE_WORKER, "read", TDC_CASE, FOOD_AID_CONSENT, "health").allowed


def test_a_rule_that_fails_to_evaluate_makes_a_refusal(policy_dir: Path) -> None:
    """Fail closed: an evaluation error (which Cedar skips) never lets a request through."""
    with (policy_dir / "orgs" / "entraide.cedar").open("a") as file:
        file.write(
            '\n@id("entraide.overflow")\n'
            'forbid (principal, action, resource in Org::"entraide")\n'
            "when { context.location_level * 9223372036854775807 > 1 };\n"
        )
    engine = PolicyEngine(load_bundle(policy_dir))
    owner = Principal("u4", "entraide", "charity", frozenset({"outreach_worker"}))
    decision = engine.decide(
        owner, "read", CaseFacts("entraide", "charity"), Situation("outreach"), "location", 4
    )
    assert decision == engine.decide(
        owner, "read", CaseFacts("entraide", "charity"), Situation("outreach"), "location", 4
    )
    assert not decision.allowed
    assert decision.rules == ("engine.error",)


def test_the_version_is_stable_and_follows_every_byte(policy_dir: Path, tmp_path: Path) -> None:
    """The policy version is the same for the same files and changes with any byte of them."""
    original = load_bundle(POLICIES).version
    assert original.startswith("sha256:")
    assert len(original) == len("sha256:") + 64
    assert load_bundle(policy_dir).version == original
    assert bundle_version(policy_dir) == original
    assert PolicyEngine(load_bundle(policy_dir)).version == original
    path = policy_dir / "orgs" / "emsp.cedar"
    data = bytearray(path.read_bytes())
    data[data.index(b"Medical secrecy")] = ord("m")  # one byte, in a comment
    path.write_bytes(bytes(data))
    changed = load_bundle(policy_dir).version
    assert changed != original
    again = tmp_path / "again"
    shutil.copytree(policy_dir, again)
    assert load_bundle(again).version == changed


def test_the_version_covers_file_names(policy_dir: Path) -> None:
    """Renaming a file (same bytes) changes the version too."""
    original = bundle_version(policy_dir)
    (policy_dir / "README.md").rename(policy_dir / "README.txt")
    assert bundle_version(policy_dir) != original


def test_the_entity_cache_is_bounded(bundle: PolicyBundle, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsed entity sets are kept in a bounded cache too."""
    monkeypatch.setattr("databank.policy.engine._ENTITY_CACHE_SIZE", 1)
    engine = PolicyEngine(bundle)
    other = Principal("u5", "metropole", "council", frozenset({"outreach_worker"}))
    for principal in (ENTRAIDE_WORKER, other, ENTRAIDE_WORKER):
        decision = engine.decide(principal, "read", TDC_CASE, FOOD_AID_CONSENT, "status")
    assert decision.allowed
    assert engine.cache_info() == (1, 2)
