"""Load and validate a policies/ directory into one immutable PolicyBundle."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cedarpy
import yaml

from databank.domain.enums import FORBIDDEN_PURPOSES, OrgKind, Purpose
from databank.policy.facts import PolicyError
from databank.policy.source import PLATFORM, Rule, read_rules

SCHEMA_FILE = "schema.cedarschema"
PURPOSES_FILE = "purposes.yaml"
PLATFORM_FILE = "_platform.cedar"
_PURPOSE_TEXT = ("en", "fr", "description_en", "description_fr")
_META_TEXT = ("name", "version", "approver", "privacy_contact", "working_hours")


@dataclass(frozen=True)
class PurposeInfo:
    """One purpose of the closed vocabulary, with what a person can be shown about it."""

    value: str
    en: str
    fr: str
    description_en: str
    description_fr: str
    justification: bool
    forbidden: bool
    hl7: str | None


@dataclass(frozen=True)
class OrgMeta:
    """Who approved an organisation's policy, when, and whom to contact about it."""

    slug: str
    name: str
    kind: str
    version: str
    approver: str
    approved_on: dt.date
    privacy_contact: str
    working_hours: str


@dataclass(frozen=True, eq=False)
class PolicyBundle:
    """Everything loaded from one policies/ directory, validated; build it with `load_bundle`."""

    directory: Path
    version: str
    purposes: Mapping[str, PurposeInfo]
    orgs: Mapping[str, OrgMeta]
    rules: Mapping[str, Rule]  # by @id, platform rules first, then each org's in file order
    schema: cedarpy.Schema
    _sources: Mapping[str, str] = field(repr=False)
    _sets: dict[str, cedarpy.PolicySet] = field(default_factory=dict, repr=False, compare=False)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(self.rules)

    def source_of(self, slug: str) -> str:
        """The text of orgs/<slug>.cedar ("" if the org has no policy file)."""
        return self._sources.get(slug, "")

    def rules_of(self, slug: str) -> tuple[str, ...]:
        """The @ids of an org's rules (or of the platform rules for "platform")."""
        return tuple(r.id for r in self.rules.values() if r.owner == slug)

    def policy_set_for(self, owner: str) -> cedarpy.PolicySet:
        """The platform rules plus the owner org's rules: the only ones that can match its cases.

        Every org rule is scoped to `resource in Org::"<slug>"` (checked at load), so leaving out
        the other orgs' rules changes no decision and keeps each evaluation small.
        """
        found = self._sets.get(owner)
        if found is None:
            static = {r.id: r.ast for r in self.rules.values() if r.owner in (PLATFORM, owner)}
            text = json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
            found = self._sets[owner] = cedarpy.PolicySet.from_json_str(text)
        return found


def bundle_version(directory: Path) -> str:
    """The policy version: "sha256:" + hex over every file's relative path and bytes, sorted."""
    digest = hashlib.sha256()
    files = sorted((p.relative_to(directory).as_posix(), p) for p in directory.rglob("*"))
    for relative, path in files:
        if not path.is_file():
            continue
        name, data = relative.encode(), path.read_bytes()
        # Length prefixes keep (path, bytes) boundaries unambiguous.
        for part in (name, data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return "sha256:" + digest.hexdigest()


def load_bundle(directory: Path) -> PolicyBundle:
    """Load a policies directory, or raise PolicyError naming the file and the problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError(str(directory), "is not a directory")
    schema_text = _read(directory, SCHEMA_FILE)
    try:
        schema = cedarpy.Schema.from_str(schema_text)
    except ValueError as exc:
        raise PolicyError(SCHEMA_FILE, f"does not parse: {' '.join(str(exc).split())}") from None
    purposes = _load_purposes(directory)
    orgs = _load_orgs(directory)
    rules: dict[str, Rule] = {}
    sources: dict[str, str] = {}
    files = [(PLATFORM_FILE, PLATFORM)] + [(f"orgs/{slug}.cedar", slug) for slug in orgs]
    for file, owner in files:
        text = _read(directory, file)
        if owner != PLATFORM:
            sources[owner] = text
        for rule in read_rules(text, file, owner, schema):
            if rule.id in rules:
                other = rules[rule.id].file
                raise PolicyError(file, f"duplicate @id {rule.id!r} (also in {other})")
            rules[rule.id] = rule
    return PolicyBundle(
        directory=directory,
        version=bundle_version(directory),
        purposes=MappingProxyType(purposes),
        orgs=MappingProxyType(orgs),
        rules=MappingProxyType(rules),
        schema=schema,
        _sources=MappingProxyType(sources),
    )


def _read(directory: Path, file: str) -> str:
    try:
        return (directory / file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(file, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(file, f"cannot be read: {exc}") from None


def _yaml(directory: Path, file: str) -> Any:
    try:
        return yaml.safe_load(_read(directory, file))
    except yaml.YAMLError as exc:
        raise PolicyError(file, f"is not valid YAML: {' '.join(str(exc).split())}") from None


def _load_purposes(directory: Path) -> dict[str, PurposeInfo]:
    data = _yaml(directory, PURPOSES_FILE)
    if not isinstance(data, dict):
        raise PolicyError(PURPOSES_FILE, "must map each purpose to its description")
    known = [p.value for p in Purpose]
    missing = [p for p in known if p not in data]
    unknown = sorted(str(k) for k in data if k not in known)
    if missing or unknown:
        parts = [f"missing purposes: {', '.join(missing)}"] if missing else []
        parts += [f"unknown purposes: {', '.join(unknown)}"] if unknown else []
        raise PolicyError(
            PURPOSES_FILE, "must list exactly the databank's purposes; " + "; ".join(parts)
        )
    purposes = {value: _purpose(value, data[value]) for value in known}
    # Threat 4: which purposes are refused is fixed by the platform, not by an editable file.
    flagged = {v for v, p in purposes.items() if p.forbidden}
    if flagged != {p.value for p in FORBIDDEN_PURPOSES}:
        expected = ", ".join(sorted(p.value for p in FORBIDDEN_PURPOSES))
        raise PolicyError(PURPOSES_FILE, f"forbidden: true must be set on exactly: {expected}")
    return purposes


def _purpose(value: str, entry: Any) -> PurposeInfo:
    where = f"purpose {value!r}"
    if not isinstance(entry, dict):
        raise PolicyError(PURPOSES_FILE, f"{where} must be a mapping")
    _no_unknown_keys(
        PURPOSES_FILE, where, entry, {*_PURPOSE_TEXT, "justification", "forbidden", "hl7"}
    )
    text = {key: _text(PURPOSES_FILE, where, entry, key) for key in _PURPOSE_TEXT}
    flags: dict[str, bool] = {}
    for key in ("justification", "forbidden"):
        flag = entry.get(key)
        if not isinstance(flag, bool):
            raise PolicyError(PURPOSES_FILE, f"{where}: {key} must be true or false")
        flags[key] = flag
    hl7 = entry.get("hl7")
    if hl7 is not None and not (isinstance(hl7, str) and hl7):
        raise PolicyError(PURPOSES_FILE, f"{where}: hl7 must be a code or null")
    return PurposeInfo(
        value, **text, justification=flags["justification"], forbidden=flags["forbidden"], hl7=hl7
    )


def _load_orgs(directory: Path) -> dict[str, OrgMeta]:
    org_dir = directory / "orgs"
    cedar = {p.name.removesuffix(".cedar") for p in org_dir.glob("*.cedar")}
    meta = {p.name.removesuffix(".meta.yaml") for p in org_dir.glob("*.meta.yaml")}
    if cedar - meta:
        slug = min(cedar - meta)
        raise PolicyError(f"orgs/{slug}.cedar", f"has no orgs/{slug}.meta.yaml")
    if meta - cedar:
        slug = min(meta - cedar)
        raise PolicyError(f"orgs/{slug}.meta.yaml", f"has no orgs/{slug}.cedar")
    return {slug: _meta(directory, slug) for slug in sorted(cedar)}


def _meta(directory: Path, slug: str) -> OrgMeta:
    file = f"orgs/{slug}.meta.yaml"
    data = _yaml(directory, file)
    if not isinstance(data, dict):
        raise PolicyError(file, "must be a mapping of the fields of OrgMeta")
    _no_unknown_keys(file, "meta", data, {*_META_TEXT, "slug", "kind", "approved_on"})
    if data.get("slug") != slug:
        raise PolicyError(file, f"slug must be {slug!r} (the file's name)")
    kinds = [k.value for k in OrgKind]
    if data.get("kind") not in kinds:
        raise PolicyError(file, f"kind {data.get('kind')!r} is not one of: {', '.join(kinds)}")
    approved_on = data.get("approved_on")
    if isinstance(approved_on, str):
        with contextlib.suppress(ValueError):  # reported just below
            approved_on = dt.date.fromisoformat(approved_on)
    if not isinstance(approved_on, dt.date) or isinstance(approved_on, dt.datetime):
        raise PolicyError(file, "approved_on must be a date (YYYY-MM-DD)")
    text = {key: _text(file, "meta", data, key) for key in _META_TEXT}
    return OrgMeta(slug=slug, kind=data["kind"], approved_on=approved_on, **text)


def _text(file: str, where: str, data: dict[Any, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(file, f"{where}: {key} is missing or not a text (quote numbers)")
    return value


def _no_unknown_keys(file: str, where: str, data: dict[Any, Any], allowed: set[str]) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise PolicyError(file, f"{where}: unknown fields: {', '.join(unknown)}")
