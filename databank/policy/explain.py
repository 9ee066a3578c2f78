"""What `databank policies explain` shows: a decision, its deciding rules' text, its context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from databank.policy.facts import FieldDecision


@dataclass(frozen=True)
class ExplainedRule:
    """A deciding rule, as its organisation wrote it (with the comment above it)."""

    id: str
    effect: str  # "permit" or "forbid"
    file: str
    text: str


@dataclass(frozen=True)
class Explanation:
    """Why a decision came out as it did: the deciding rules and the context Cedar was given."""

    decision: FieldDecision
    rules: tuple[ExplainedRule, ...]
    context: Mapping[str, object]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def describe(self) -> str:
        """Plain text for an operator or an org admin."""
        verdict = "ALLOW" if self.allowed else "DENY"
        lines = [f"decision: {verdict} ({', '.join(self.decision.rules)})", "context:"]
        lines += [f"  {key}: {json.dumps(value)}" for key, value in self.context.items()]
        if not self.rules:
            lines += ["", "no rule permits this request, so it is denied by default"]
        for rule in self.rules:
            lines += ["", f"{rule.effect} {rule.id}  ({rule.file})", rule.text]
        return "\n".join(lines)
