"""The loader refuses a policies directory that breaks a rule, naming the offending file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from databank.policy import PolicyError, load_bundle
from tests.policy.conftest import POLICIES


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def _rejected(directory: Path, file: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_bundle(directory)
    assert caught.value.file == file
    assert str(caught.value).startswith(f"{file}: ")
    return caught.value


def test_the_real_policies_load() -> None:
    """The shipped directory loads: 5 organisations, all purposes, unique rule ids."""
    bundle = load_bundle(POLICIES)
    assert set(bundle.orgs) == {"metropole", "tables-du-coeur", "entraide", "habitat-rhone", "emsp"}
    assert len(set(bundle.rule_ids)) == len(bundle.rule_ids)
    assert bundle.rules_of("platform")[0] == "platform.owner_content"
    assert all(r.startswith("emsp.") for r in bundle.rules_of("emsp"))
    assert bundle.source_of("emsp") == (POLICIES / "orgs" / "emsp.cedar").read_text()
    assert bundle.source_of("nobody") == ""
    assert bundle.rules_of("nobody") == ()
    assert bundle.orgs["tables-du-coeur"].kind == "charity"
    assert bundle.purposes["vital_interest"].justification
    assert bundle.purposes["enforcement"].forbidden


def test_an_org_rule_scoped_to_another_org_is_rejected(policy_dir: Path) -> None:
    """An organisation writes rules about its own cases only (no `resource in` another org)."""
    _append(
        policy_dir / "orgs" / "entraide.cedar",
        '@id("entraide.peek")\n'
        'permit (principal, action == Action::"read", resource in Org::"metropole");',
    )
    error = _rejected(policy_dir, "orgs/entraide.cedar")
    assert 'resource in Org::"entraide"' in error.message
    assert 'found `resource in Org::"metropole"`' in error.message


def test_an_unscoped_org_rule_is_rejected(policy_dir: Path) -> None:
    """An org rule with a bare `resource` scope would apply to every org's cases: rejected."""
    _append(
        policy_dir / "orgs" / "tables-du-coeur.cedar",
        '@id("tables-du-coeur.everything")\n'
        "forbid (principal, action, resource) when { context.consent };",
    )
    error = _rejected(policy_dir, "orgs/tables-du-coeur.cedar")
    assert "found `resource`" in error.message


def test_an_org_rule_scoped_with_equality_is_rejected(policy_dir: Path) -> None:
    """Only `resource in Org::"<slug>"` is accepted as an org rule's scope."""
    _append(
        policy_dir / "orgs" / "emsp.cedar",
        '@id("emsp.one")\npermit (principal, action, resource == Case::"x");',
    )
    error = _rejected(policy_dir, "orgs/emsp.cedar")
    assert 'found `resource == Case::"x"`' in error.message


def test_a_rule_without_an_id_is_rejected(policy_dir: Path) -> None:
    """Every rule carries an @id, so decisions and audit entries can name it."""
    _append(
        policy_dir / "orgs" / "metropole.cedar",
        'forbid (principal, action, resource in Org::"metropole") when { context.referred };',
    )
    error = _rejected(policy_dir, "orgs/metropole.cedar")
    assert "has no @id" in error.message
    assert "forbid (principal" in error.message


def test_a_duplicate_id_is_rejected(policy_dir: Path) -> None:
    """Rule ids are unique across the platform and every org file."""
    _append(
        policy_dir / "orgs" / "emsp.cedar",
        '@id("emsp.medical_secrecy")\n'
        'forbid (principal, action, resource in Org::"emsp") when { context.referred };',
    )
    error = _rejected(policy_dir, "orgs/emsp.cedar")
    assert "duplicate @id 'emsp.medical_secrecy' (also in orgs/emsp.cedar)" in error.message


def test_an_id_outside_the_org_namespace_is_rejected(policy_dir: Path) -> None:
    """An org's rule ids start with its slug, so one org cannot pose as another or the platform."""
    _append(
        policy_dir / "orgs" / "emsp.cedar",
        '@id("platform.emsp_override")\n'
        'permit (principal, action, resource in Org::"emsp") when { context.referred };',
    )
    error = _rejected(policy_dir, "orgs/emsp.cedar")
    assert "must start with 'emsp.'" in error.message


def test_a_platform_id_outside_the_platform_namespace_is_rejected(policy_dir: Path) -> None:
    """Platform rule ids start with "platform."."""
    _append(
        policy_dir / "_platform.cedar",
        '@id("entraide.sneaky")\nforbid (principal, action, resource) when { context.referred };',
    )
    error = _rejected(policy_dir, "_platform.cedar")
    assert "must start with 'platform.'" in error.message


def test_a_rule_failing_schema_validation_is_rejected(policy_dir: Path) -> None:
    """Policies are validated against the schema: an unknown context field is an error."""
    _append(
        policy_dir / "orgs" / "habitat-rhone.cedar",
        '@id("habitat-rhone.typo")\n'
        'forbid (principal, action, resource in Org::"habitat-rhone")\n'
        "when { context.nonexistent };",
    )
    error = _rejected(policy_dir, "orgs/habitat-rhone.cedar")
    assert "rule 'habitat-rhone.typo' does not validate against the schema" in error.message
    assert "nonexistent" in error.message


def test_a_policy_that_does_not_parse_is_rejected(policy_dir: Path) -> None:
    """A syntax error is reported with the file."""
    _append(policy_dir / "_platform.cedar", '@id("platform.broken")\npermit (principal, action;')
    error = _rejected(policy_dir, "_platform.cedar")
    assert error.message.startswith("does not parse")


def test_a_template_is_rejected(policy_dir: Path) -> None:
    """Templates (slots) are not allowed: every rule is a plain, reviewable policy."""
    _append(
        policy_dir / "orgs" / "entraide.cedar",
        '@id("entraide.slot")\n'
        'permit (principal == ?principal, action, resource in Org::"entraide");',
    )
    error = _rejected(policy_dir, "orgs/entraide.cedar")
    assert "templates" in error.message


def test_purposes_missing_a_purpose_are_rejected(policy_dir: Path) -> None:
    """purposes.yaml lists exactly the purposes of the Purpose enum."""
    path = policy_dir / "purposes.yaml"
    text = path.read_text()
    start = text.index("\naudit:")
    end = text.index("\nvital_interest:")
    path.write_text(text[:start] + text[end:])
    error = _rejected(policy_dir, "purposes.yaml")
    assert "missing purposes: audit" in error.message


def test_purposes_with_an_unknown_purpose_are_rejected(policy_dir: Path) -> None:
    """A purpose the databank does not know cannot be added in purposes.yaml alone."""
    _append(
        policy_dir / "purposes.yaml",
        "marketing: {en: M, fr: M, description_en: M., description_fr: M., "
        "justification: false, forbidden: false, hl7: HMARKT}",
    )
    error = _rejected(policy_dir, "purposes.yaml")
    assert "unknown purposes: marketing" in error.message


def test_a_forbidden_purpose_cannot_be_unforbidden(policy_dir: Path) -> None:
    """Threat 4: enforcement, immigration control and public order stay forbidden."""
    path = policy_dir / "purposes.yaml"
    text = path.read_text()
    start = text.index("\nenforcement:")
    head, tail = text[:start], text[start:]
    path.write_text(head + tail.replace("forbidden: true", "forbidden: false", 1))
    error = _rejected(policy_dir, "purposes.yaml")
    assert "enforcement, immigration_control, public_order" in error.message


def test_a_purpose_with_a_malformed_entry_is_rejected(policy_dir: Path) -> None:
    """Each purpose has both labels, both descriptions and boolean flags."""
    path = policy_dir / "purposes.yaml"
    path.write_text(path.read_text().replace("justification: true", "justification: maybe", 1))
    error = _rejected(policy_dir, "purposes.yaml")
    assert "purpose 'vital_interest': justification must be true or false" in error.message


def test_meta_with_an_unknown_kind_is_rejected(policy_dir: Path) -> None:
    """An organisation's kind is one of the OrgKind values."""
    path = policy_dir / "orgs" / "emsp.meta.yaml"
    path.write_text(path.read_text().replace("kind: health", "kind: hospital"))
    error = _rejected(policy_dir, "orgs/emsp.meta.yaml")
    assert "kind 'hospital' is not one of" in error.message


def test_meta_missing_a_field_is_rejected(policy_dir: Path) -> None:
    """Every meta.yaml names an approver, an approval date, a privacy contact and hours."""
    path = policy_dir / "orgs" / "entraide.meta.yaml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("approver:")))
    error = _rejected(policy_dir, "orgs/entraide.meta.yaml")
    assert "approver is missing" in error.message


def test_meta_with_a_bad_date_is_rejected(policy_dir: Path) -> None:
    """approved_on is a date."""
    path = policy_dir / "orgs" / "entraide.meta.yaml"
    path.write_text(path.read_text().replace("approved_on: 2026-10-08", "approved_on: soon"))
    error = _rejected(policy_dir, "orgs/entraide.meta.yaml")
    assert "approved_on must be a date" in error.message


def test_meta_for_another_slug_is_rejected(policy_dir: Path) -> None:
    """A meta.yaml describes the org its file is named after."""
    path = policy_dir / "orgs" / "entraide.meta.yaml"
    path.write_text(path.read_text().replace("slug: entraide", "slug: metropole"))
    error = _rejected(policy_dir, "orgs/entraide.meta.yaml")
    assert "slug must be 'entraide'" in error.message


def test_an_org_file_without_meta_is_rejected(policy_dir: Path) -> None:
    """Every org policy has an approval record (meta.yaml)."""
    (policy_dir / "orgs" / "habitat-rhone.meta.yaml").unlink()
    _rejected(policy_dir, "orgs/habitat-rhone.cedar")


def test_a_meta_without_an_org_file_is_rejected(policy_dir: Path) -> None:
    """A meta.yaml without its policy file is a mistake, not an org with no rules."""
    (policy_dir / "orgs" / "habitat-rhone.cedar").unlink()
    _rejected(policy_dir, "orgs/habitat-rhone.meta.yaml")


def test_a_broken_schema_is_rejected(policy_dir: Path) -> None:
    """The schema itself must parse."""
    _append(policy_dir / "schema.cedarschema", "entity Broken = {")
    _rejected(policy_dir, "schema.cedarschema")


def test_a_missing_file_is_named(policy_dir: Path) -> None:
    """A missing platform file is reported by name."""
    (policy_dir / "_platform.cedar").unlink()
    error = _rejected(policy_dir, "_platform.cedar")
    assert error.message == "is missing"


def test_an_org_rule_scoped_by_type_is_rejected(policy_dir: Path) -> None:
    """`resource is Case` is not a scope to one organisation's cases."""
    _append(
        policy_dir / "orgs" / "emsp.cedar",
        '@id("emsp.typed")\npermit (principal, action, resource is Case);',
    )
    error = _rejected(policy_dir, "orgs/emsp.cedar")
    assert "found `resource is ...`" in error.message


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("purposes.yaml", None, "- a list\n", "must map each purpose to its description"),
        ("purposes.yaml", None, "outreach: [unclosed\n", "is not valid YAML"),
        ("purposes.yaml", "hl7: CAREMGT", "hl7: 12", "purpose 'outreach': hl7 must be a code"),
        ("purposes.yaml", "  fr: Maraude\n", "", "purpose 'outreach': fr is missing"),
        ("purposes.yaml", "  hl7: CAREMGT\n", "  hl7: CAREMGT\n  colour: red\n", "colour"),
        ("orgs/emsp.meta.yaml", None, "just text\n", "must be a mapping"),
        ("orgs/emsp.meta.yaml", "kind: health", "kind: health\nowner: me", "unknown fields: owner"),
        ("orgs/emsp.meta.yaml", 'version: "1.0"', "version: 1.0", "version is missing or not"),
        ("orgs/emsp.cedar", None, "\udcff", "cannot be read"),
    ],
)
def test_malformed_yaml_files_are_rejected(
    policy_dir: Path, file: str, old: str | None, new: str, message: str
) -> None:
    """Each purpose and meta field is checked; the error names the file and the field."""
    path = policy_dir / file
    if old is None:
        path.write_bytes(new.encode("utf-8", "surrogateescape"))
    else:
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    error = _rejected(policy_dir, file)
    assert message in error.message


def test_a_directory_that_is_not_there_is_rejected(tmp_path: Path) -> None:
    """Loading a path that is not a directory fails with that path."""
    with pytest.raises(PolicyError, match="is not a directory"):
        load_bundle(tmp_path / "nowhere")


def test_a_purpose_that_is_not_a_mapping_is_rejected(policy_dir: Path) -> None:
    """Each purpose is described by a mapping of its labels and flags."""
    path = policy_dir / "purposes.yaml"
    data = yaml.safe_load(path.read_text())
    data["outreach"] = "Outreach"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    error = _rejected(policy_dir, "purposes.yaml")
    assert error.message == "purpose 'outreach' must be a mapping"
