"""Read one Cedar policy file: parse, check ids and scopes, validate against the schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import cedarpy

from databank.policy.facts import PolicyError

PLATFORM = "platform"


@dataclass(frozen=True)
class Rule:
    """One policy: its @id, effect ("permit" or "forbid"), file, owner ("platform" or a slug)."""

    id: str
    effect: str
    file: str
    owner: str
    text: str  # the policy as written, with the comment lines just above it
    ast: dict[str, Any]  # Cedar's JSON form, used to build the engine's policy sets


def read_rules(text: str, file: str, owner: str, schema: cedarpy.Schema) -> tuple[Rule, ...]:
    """The rules of one file, or PolicyError naming the file and the first problem found.

    `owner` is PLATFORM for _platform.cedar, else the org slug: every rule of an org file must be
    scoped to `resource in Org::"<slug>"`, so that no organisation writes rules about another's
    cases (design section 6).
    """
    try:
        parsed = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise PolicyError(file, f"does not parse: {_first_line(exc)}") from None
    if parsed.get("templates"):
        raise PolicyError(file, "templates (?principal / ?resource slots) are not allowed")
    policies: dict[str, dict[str, Any]] = parsed.get("staticPolicies", {})
    chunks = split_statements(text)
    if len(chunks) != len(policies):  # pragma: no cover - the splitter follows Cedar's grammar
        chunks = [cedarpy.policies_from_json_str(_one(p)) for p in policies.values()]
    rules: list[Rule] = []
    for index, (policy, chunk) in enumerate(zip(policies.values(), chunks, strict=True), 1):
        rule_id = policy.get("annotations", {}).get("id")
        if not rule_id:
            start = " ".join(chunk.split("\n")[_code_start(chunk)].split())[:40]
            raise PolicyError(file, f'policy #{index} ({start} ...) has no @id("...")')
        prefix = f"{owner}."
        if not rule_id.startswith(prefix) or rule_id == prefix:
            raise PolicyError(file, f"rule {rule_id!r}: its @id must start with {prefix!r}")
        if owner != PLATFORM:
            _check_scope(file, owner, rule_id, policy["resource"])
        rules.append(Rule(rule_id, policy["effect"], file, owner, chunk, policy))
    _validate(text, file, schema)
    return tuple(rules)


def _check_scope(file: str, slug: str, rule_id: str, scope: dict[str, Any]) -> None:
    expected = {"op": "in", "entity": {"type": "Org", "id": slug}}
    if scope != expected:
        raise PolicyError(
            file,
            f'rule {rule_id!r}: resource scope must be `resource in Org::"{slug}"` '
            f"(an organisation's rules are about its own cases only), found {_scope(scope)}",
        )


def _scope(scope: dict[str, Any]) -> str:
    if scope.get("op") == "All":
        return "`resource`"
    entity = scope.get("entity") or {}
    if "type" in entity:
        return f'`resource {scope["op"]} {entity["type"]}::"{entity.get("id", "")}"`'
    return f"`resource {scope.get('op')} ...`"


def _validate(text: str, file: str, schema: cedarpy.Schema) -> None:
    result = cedarpy.validate_policies(text, schema)
    if result.validation_passed:
        return
    ids: dict[str, str] = result.id_annotations_by_policy_id
    first = result.errors[0]
    name = ids.get(first.policy_id, first.policy_id)
    raise PolicyError(file, f"rule {name!r} does not validate against the schema: {first.error}")


def split_statements(text: str) -> list[str]:
    """Cut Cedar text at each top-level `;`, keeping the comment block just above each policy.

    Cedar has `;` only as a policy terminator, in strings and in `//` comments, so tracking
    strings and comments is enough.
    """
    chunks: list[str] = []
    start = index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            index += 1
            while index < len(text) and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        elif char == ";":
            chunks.append(_trim_leading(text[start : index + 1]))
            start = index + 1
        index += 1
    return chunks


def _trim_leading(chunk: str) -> str:
    """Keep the policy and the comment lines directly above it (not the file's header)."""
    chunk = chunk.strip()
    lines = chunk.split("\n")
    first = _code_start(chunk)
    while first > 0 and lines[first - 1].strip():
        first -= 1
    return "\n".join(lines[first:])


def _code_start(chunk: str) -> int:
    """Index of the first line of `chunk` that is neither blank nor a comment."""
    lines = chunk.split("\n")
    return next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("//")),
        0,
    )


def _one(policy: dict[str, Any]) -> str:  # pragma: no cover - fallback of read_rules
    return json.dumps({"staticPolicies": {"p": policy}, "templates": {}, "templateLinks": []})


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:500]
