"""Disclosure properties that hold for every combination of facts, not just the table tests."""

from __future__ import annotations

from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from databank.domain.enums import FORBIDDEN_PURPOSES, Purpose, Role
from databank.policy import (
    ACTIONS,
    FIELDS,
    CaseFacts,
    PolicyEngine,
    Principal,
    Situation,
    load_bundle,
)
from tests.policy.conftest import POLICIES


@cache
def _engine() -> PolicyEngine:
    return PolicyEngine(load_bundle(POLICIES))


KINDS = {slug: meta.kind for slug, meta in _engine().bundle.orgs.items()}
orgs = st.sampled_from(sorted(KINDS))
role_sets = st.frozensets(st.sampled_from([r.value for r in Role]))
actions = st.sampled_from(ACTIONS)
fields = st.sampled_from(FIELDS)
levels = st.integers(min_value=0, max_value=4)
allowed_purposes = st.sampled_from([p.value for p in Purpose if not p.is_forbidden])
forbidden_purposes = st.sampled_from(sorted(p.value for p in FORBIDDEN_PURPOSES))


def principals(
    roles: st.SearchStrategy[frozenset[str]] = role_sets,
) -> st.SearchStrategy[Principal]:
    return st.builds(lambda org, r: Principal("someone", org, KINDS[org], r), orgs, roles)


def cases(owners: st.SearchStrategy[str] = orgs) -> st.SearchStrategy[CaseFacts]:
    return st.builds(
        lambda owner, minor, survivor: CaseFacts(owner, KINDS[owner], minor, survivor),
        owners,
        st.booleans(),
        st.booleans(),
    )


def situations(purposes: st.SearchStrategy[str]) -> st.SearchStrategy[Situation]:
    return st.builds(
        Situation, purposes, st.booleans(), st.booleans(), st.booleans(), st.booleans()
    )


@given(principals(), actions, cases(), situations(forbidden_purposes), fields, levels)
def test_a_forbidden_purpose_is_always_denied(
    principal: Principal,
    action: str,
    case: CaseFacts,
    situation: Situation,
    field: str,
    level: int,
) -> None:
    """Threat 4: enforcement, immigration control, public order: denied to anyone, on anything."""
    decision = _engine().decide(principal, action, case, situation, field, level)
    assert not decision.allowed
    assert "platform.forbidden_purpose" in decision.rules
    release = _engine().release(principal, action, case, situation, FIELDS)
    assert release.allowed == frozenset()
    assert release.location_level == 0


@given(
    principals(st.just(frozenset({Role.AUDITOR.value}))),
    actions,
    cases(),
    situations(allowed_purposes),
    fields,
    levels,
)
def test_an_auditor_never_gets_case_content(
    principal: Principal,
    action: str,
    case: CaseFacts,
    situation: Situation,
    field: str,
    level: int,
) -> None:
    """Auditors review the log; no policy, consent, referral or break-glass shows them content."""
    assert not _engine().decide(principal, action, case, situation, field, level).allowed
    assert _engine().release(principal, action, case, situation, FIELDS).allowed == frozenset()


@given(
    principals().filter(lambda p: p.org != "tables-du-coeur"),
    actions,
    cases(st.just("tables-du-coeur")),
    situations(st.sampled_from([p.value for p in Purpose])),
)
def test_tables_du_coeur_keeps_places_and_health(
    principal: Principal, action: str, case: CaseFacts, situation: Situation
) -> None:
    """Outside Les Tables du Cœur: never a place finer than the district, never health."""
    engine = _engine()
    for level in (3, 4):
        assert not engine.decide(principal, action, case, situation, "location", level).allowed
    assert not engine.decide(principal, action, case, situation, "health").allowed
    release = engine.release(principal, action, case, situation, FIELDS)
    assert release.location_level <= 2
    assert "health" not in release.allowed


@given(
    principals(),
    cases(),
    situations(allowed_purposes),
)
def test_partners_never_write_or_erase(
    principal: Principal, case: CaseFacts, situation: Situation
) -> None:
    """Only the owning organisation creates, updates, erases, exports or refers its cases; a
    partner's one update is its answer to a referral made to it (the referrals, nothing else)."""
    if principal.org == case.owner:
        return
    for action in ("create", "update", "erase", "export", "refer", "override_consent"):
        allowed = _engine().release(principal, action, case, situation, FIELDS).allowed
        if action == "update" and situation.referred:
            assert allowed <= {"referrals"}
        else:
            assert allowed == frozenset()
