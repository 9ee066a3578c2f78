"""The policy decision point: Cedar decisions per field and location level, cached by facts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import cedarpy

from databank.policy.bundle import PolicyBundle
from databank.policy.explain import ExplainedRule, Explanation
from databank.policy.facts import (
    ACTIONS,
    DEFAULT_DENY,
    ENGINE_ERROR,
    FIELDS,
    LOCATION_FIELD,
    LOCATION_LEVELS,
    CaseFacts,
    FieldDecision,
    Principal,
    Release,
    Situation,
)

_ACTIONS = frozenset(ACTIONS)
_FIELDS = frozenset(FIELDS)
_ENTITY_CACHE_SIZE = 4096
# Constant entity ids: a decision depends on the facts in the cache key, never on who asks or
# which case, so one Cedar request stands for every user and case sharing those facts.
_USER = {"type": "User", "id": "principal"}
_CASE = {"type": "Case", "id": "case"}
# The (field, level) decisions a release needs per field: the location at each level.
_PAIRS: dict[str, tuple[tuple[str, int], ...]] = {
    name: tuple((name, lvl) for lvl in LOCATION_LEVELS) if name == LOCATION_FIELD else ((name, 0),)
    for name in FIELDS
}
# Facts of one request but its field and level; flat strings and booleans, so hashing and
# comparing a key stays in C (a dataclass in the key would cost a Python call per lookup).
_Facts = tuple[str, str, frozenset[str], str, str, bool, bool, str, bool, bool, bool, bool, str]
_Pair = tuple[str, int]


class PolicyEngine:
    """Decides with a validated bundle; decisions are cached by the facts they depend on."""

    def __init__(self, bundle: PolicyBundle, cache_size: int = 100_000) -> None:
        self.bundle = bundle
        self.version = bundle.version
        # facts -> (field, level) -> decision; two levels so a release hashes the facts once.
        self._cache: dict[_Facts, dict[_Pair, FieldDecision]] = {}
        self._cached = 0
        self._cache_size = max(1, cache_size)
        self._entities: dict[tuple[object, ...], cedarpy.Entities] = {}
        self._hits = 0
        self._misses = 0

    def decide(
        self,
        principal: Principal,
        action: str,
        case: CaseFacts,
        situation: Situation,
        field: str,
        location_level: int = 0,
    ) -> FieldDecision:
        """Whether `principal` may do `action` on one field of `case` in `situation`."""
        facts = _facts(principal, case, situation, action)
        pair = (field, location_level)
        found = self._cache.get(facts, {}).get(pair)
        if found is not None:  # only validated requests are ever stored
            self._hits += 1
            return found
        self._check(action, situation, [pair])
        (decision,) = self._evaluate(principal, action, case, situation, [pair])
        self._store(facts, [pair], [decision])
        return decision

    def release(
        self,
        principal: Principal,
        action: str,
        case: CaseFacts,
        situation: Situation,
        fields: Sequence[str],
    ) -> Release:
        """One decision per field; for the location, the finest of levels 4, 3, 2, 1 allowed."""
        asked = tuple(dict.fromkeys(fields))
        facts = _facts(principal, case, situation, action)
        known = self._cache.get(facts, {})
        decisions: dict[_Pair, FieldDecision] = {}
        missing: list[_Pair] = []
        for name in asked:
            for pair in _PAIRS.get(name) or ((name, 0),):  # an unknown name fails in _check
                found = known.get(pair)
                if found is None:
                    missing.append(pair)
                else:
                    decisions[pair] = found
        self._hits += len(decisions)
        if missing:
            self._check(action, situation, missing)
            # One batch for every uncached field and level of this case.
            evaluated = self._evaluate(principal, action, case, situation, missing)
            self._store(facts, missing, evaluated)
            decisions.update(zip(missing, evaluated, strict=True))
        return _release(asked, decisions)

    def explain(
        self,
        principal: Principal,
        action: str,
        case: CaseFacts,
        situation: Situation,
        field: str,
        location_level: int = 0,
    ) -> Explanation:
        """The decision with its deciding rules' text and the context sent (never cached)."""
        pair = (field, location_level)
        self._check(action, situation, [pair])
        (decision,) = self._evaluate(principal, action, case, situation, [pair])
        rules = tuple(
            ExplainedRule(r.id, r.effect, r.file, r.text)
            for rule_id in decision.rules
            if (r := self.bundle.rules.get(rule_id)) is not None
        )
        context = _context(self.bundle, situation, field, location_level)
        return Explanation(decision, rules, MappingProxyType(context))

    def cache_info(self) -> tuple[int, int]:
        """(hits, misses) since the engine was built; one per field and location level."""
        return self._hits, self._misses

    def _store(
        self, facts: _Facts, pairs: Sequence[_Pair], decisions: Sequence[FieldDecision]
    ) -> None:
        self._misses += len(pairs)
        if self._cached + len(pairs) > self._cache_size:
            self._cache.clear()  # bounded: simpler and cheaper than LRU bookkeeping
            self._cached = 0
        self._cache.setdefault(facts, {}).update(zip(pairs, decisions, strict=True))
        self._cached += len(pairs)

    def _check(self, action: str, situation: Situation, pairs: Sequence[_Pair]) -> None:
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of: {', '.join(ACTIONS)}")
        if situation.purpose not in self.bundle.purposes:
            raise ValueError(f"unknown purpose {situation.purpose!r}")
        for name, level in pairs:
            if name not in _FIELDS:
                raise ValueError(f"unknown field {name!r}; expected one of: {', '.join(FIELDS)}")
            if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 4:
                raise ValueError(f"location level must be an integer from 0 to 4, not {level!r}")

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        case: CaseFacts,
        situation: Situation,
        pairs: Sequence[_Pair],
    ) -> list[FieldDecision]:
        requests = [
            {
                "principal": _USER,
                "action": {"type": "Action", "id": action},
                "resource": _CASE,
                "context": _context(self.bundle, situation, name, level),
            }
            for name, level in pairs
        ]
        entities = self._entities_of(principal, case)
        # Only the platform's and the owner's rules can match the owner's cases.
        policies = self.bundle.policy_set_for(case.owner)
        # The entities were checked against the schema when parsed and the context is built
        # here with fixed types, so the request is not validated again (about 15 us saved).
        results = cedarpy.is_authorized_batch(requests, policies, entities)
        return [_decision(result) for result in results]

    def _entities_of(self, principal: Principal, case: CaseFacts) -> cedarpy.Entities:
        """The parsed entity set for these facts (parsing costs about 50 us, so it is kept)."""
        key = (
            *(principal.org, principal.org_kind, principal.roles, case.owner, case.owner_kind),
            *(case.is_minor, case.is_domestic_abuse_survivor),
        )
        found = self._entities.get(key)
        if found is None:
            if len(self._entities) >= _ENTITY_CACHE_SIZE:
                self._entities.clear()
            found = cedarpy.Entities.from_json_str(_entities(principal, case), self.bundle.schema)
            self._entities[key] = found
        return found


def _facts(principal: Principal, case: CaseFacts, situation: Situation, action: str) -> _Facts:
    """Every fact a decision depends on, but the field and level; no user or case id."""
    return (
        *(principal.org, principal.org_kind, principal.roles, case.owner, case.owner_kind),
        *(case.is_minor, case.is_domestic_abuse_survivor, situation.purpose, situation.consent),
        *(situation.referred, situation.break_glass, situation.justification, action),
    )


def _decision(result: cedarpy.AuthzResult) -> FieldDecision:
    if result.diagnostics.errors:
        # Cedar skips a rule that fails to evaluate; had it been a forbid, allowing would be
        # wrong, so any evaluation error is a refusal.
        return FieldDecision(False, (ENGINE_ERROR,))
    reasons = tuple(sorted(result.diagnostics.reasons))
    if result.allowed:
        return FieldDecision(True, reasons)
    return FieldDecision(False, reasons or (DEFAULT_DENY,))


def _context(bundle: PolicyBundle, situation: Situation, field: str, level: int) -> dict[str, Any]:
    return {
        "purpose": situation.purpose,
        # From purposes.yaml, never from the caller (threat 4).
        "purpose_forbidden": bundle.purposes[situation.purpose].forbidden,
        "field": field,
        "location_level": level,
        "consent": situation.consent,
        "referred": situation.referred,
        "break_glass": situation.break_glass,
        "justification": situation.justification,
    }


def _entities(principal: Principal, case: CaseFacts) -> str:
    kinds = {principal.org: principal.org_kind}
    if kinds.get(case.owner, case.owner_kind) != case.owner_kind:
        raise ValueError(f"organisation {case.owner!r} is given two kinds")
    kinds[case.owner] = case.owner_kind
    entities: list[dict[str, Any]] = [
        {"uid": {"type": "Org", "id": slug}, "attrs": {"kind": kind}, "parents": []}
        for slug, kind in kinds.items()
    ]
    user_attrs = {"org": _ref(principal.org), "roles": sorted(principal.roles)}
    case_attrs = {
        "owner": _ref(case.owner),
        "is_minor": case.is_minor,
        "is_domestic_abuse_survivor": case.is_domestic_abuse_survivor,
    }
    entities += [
        {"uid": _USER, "attrs": user_attrs, "parents": [_org(principal.org)]},
        {"uid": _CASE, "attrs": case_attrs, "parents": [_org(case.owner)]},
    ]
    return json.dumps(entities)


def _org(slug: str) -> dict[str, str]:
    return {"type": "Org", "id": slug}


def _ref(slug: str) -> dict[str, Any]:
    return {"__entity": _org(slug)}


def _release(asked: tuple[str, ...], decisions: Mapping[_Pair, FieldDecision]) -> Release:
    allowed: set[str] = set()
    rules: set[str] = set()
    location_level = 0
    for name in asked:
        if name != LOCATION_FIELD:
            decision = decisions[(name, 0)]
            rules.update(decision.rules)
            if decision.allowed:
                allowed.add(name)
            continue
        # The levels tried, finest first, down to the first allowed: their rules say why the
        # finer ones were withheld and why this one was released.
        for level in LOCATION_LEVELS:
            decision = decisions[(name, level)]
            rules.update(decision.rules)
            if decision.allowed:
                allowed.add(name)
                location_level = level
                break
    return Release(
        allowed=frozenset(allowed),
        withheld=frozenset(asked) - allowed,
        location_level=location_level,
        rules=tuple(sorted(rules)),
    )
