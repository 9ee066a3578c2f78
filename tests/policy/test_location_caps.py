"""The platform's location caps (design section 6), which no organisation's file can loosen:
partners never get a place finer than the district, except under break-glass for vital interest;
statistics and audit release no case content at all, location included, to owners either.

Complete enumerations over the real policies (every owner, partner, role, purpose and sharing
fact): the space is a few thousand decisions, cached by facts, so sampling would only miss some.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

from databank.domain.enums import LocationLevel, Purpose, Role
from databank.policy import FIELDS, CaseFacts, PolicyEngine, Principal, Situation, load_bundle
from tests.policy.conftest import POLICIES

CONTENT_ROLES = (
    Role.OUTREACH_WORKER,
    Role.HOUSING_OFFICER,
    Role.ORG_ADMIN,
    Role.BREAK_GLASS_RESPONDER,
)
SESSION_PURPOSES = [p for p in Purpose if not p.is_forbidden]
NO_CONTENT_PURPOSES = (Purpose.AGGREGATE_STATISTICS, Purpose.AUDIT)
# A partner's file that releases everything, at every level, to every partner, for every
# purpose, emergency or not: the cap must win over it.
PERMIT_ALL = """
@id("entraide.everything_to_everyone")
permit (principal, action == Action::"read", resource in Org::"entraide");
"""


@cache
def _engine(directory: Path = POLICIES) -> PolicyEngine:
    return PolicyEngine(load_bundle(directory))


def _partner_situations(engine: PolicyEngine) -> list[tuple[Principal, CaseFacts, Situation]]:
    """Every partner principal (one content role each), every case flag and every sharing fact,
    with no break-glass for vital interest."""
    kinds = {slug: meta.kind for slug, meta in engine.bundle.orgs.items()}
    out = []
    for owner, partner in itertools.permutations(sorted(kinds), 2):
        for role, minor, survivor in itertools.product(CONTENT_ROLES, (False, True), (False, True)):
            principal = Principal("p", partner, kinds[partner], frozenset({role.value}))
            case = CaseFacts(owner, kinds[owner], minor, survivor)
            for purpose, consent, referred, glass in itertools.product(
                SESSION_PURPOSES, (False, True), (False, True), (False, True)
            ):
                if glass and purpose is Purpose.VITAL_INTEREST:
                    continue  # the one exception, tested below
                situation = Situation(purpose.value, consent, referred, glass, True)
                out.append((principal, case, situation))
    return out


def _assert_capped(engine: PolicyEngine) -> None:
    finer = []
    for principal, case, situation in _partner_situations(engine):
        release = engine.release(principal, "read", case, situation, FIELDS)
        if release.location_level > LocationLevel.DISTRICT:
            finer.append((principal.org, sorted(principal.roles), case.owner, situation))
    assert finer == [], f"{len(finer)} partner releases finer than the district, e.g. {finer[:3]}"


def test_finding3_partners_never_get_a_place_finer_than_the_district() -> None:
    """Partners never get a place finer than the district (level 2), whatever an owner's file
    permits, for every purpose and sharing fact; only break-glass for vital interest is
    exempt (finding 3 of the attacker review, design section 6)."""
    _assert_capped(_engine())


def test_finding3_no_org_file_can_loosen_the_district_cap(policy_dir: Path) -> None:
    """An org file permitting every field at every level to every partner still gives a partner
    the district at most: the cap is a platform forbid (finding 3 of the attacker review)."""
    org_file = policy_dir / "orgs" / "entraide.cedar"
    org_file.write_text(org_file.read_text(encoding="utf-8") + PERMIT_ALL, encoding="utf-8")
    engine = PolicyEngine(load_bundle(policy_dir))
    partner = Principal("p", "metropole", "council", frozenset({Role.HOUSING_OFFICER.value}))
    for purpose in (Purpose.OUTREACH, Purpose.FOOD_AID, Purpose.HOUSING_ALLOCATION):
        release = engine.release(
            partner, "read", CaseFacts("entraide", "charity"), Situation(purpose.value), FIELDS
        )
        assert "notes" in release.allowed  # the permit-all file does apply ...
        assert release.location_level == LocationLevel.DISTRICT  # ... but not to the place
        assert "platform.partner_location_district_max" in release.rules
    _assert_capped(engine)


def test_finding3_statistics_and_audit_release_no_location_even_to_owners() -> None:
    """Statistics and audit release no case content, no location at any level, to owners
    either, whatever the sharing facts (finding 3 of the attacker review; the platform forbid
    `platform.no_content_for_statistics_or_audit`)."""
    engine = _engine()
    kinds = {slug: meta.kind for slug, meta in engine.bundle.orgs.items()}
    for owner, asking in itertools.product(sorted(kinds), repeat=2):
        case = CaseFacts(owner, kinds[owner])
        for role, purpose, shared in itertools.product(
            CONTENT_ROLES, NO_CONTENT_PURPOSES, (False, True)
        ):
            principal = Principal("p", asking, kinds[asking], frozenset({role.value}))
            situation = Situation(purpose.value, shared, shared, shared, shared)
            release = engine.release(principal, "read", case, situation, FIELDS)
            assert release.allowed == frozenset(), (asking, owner, role, purpose)
            assert release.location_level == 0
            for level in LocationLevel:
                if level:
                    decision = engine.decide(principal, "read", case, situation, "location", level)
                    assert "platform.no_content_for_statistics_or_audit" in decision.rules


def test_finding3_break_glass_for_vital_interest_is_the_one_exception() -> None:
    """Under break-glass for vital interest a responder may get a finer place where the owner
    allows it (the owner's forbids still win); with break-glass under any other purpose, or
    vital interest without break-glass, the district cap holds (finding 3)."""
    engine = _engine()
    responder = Principal("r", "metropole", "council", frozenset({"break_glass_responder"}))
    emergency = Situation(Purpose.VITAL_INTEREST.value, break_glass=True, justification=True)
    expected = {
        "emsp": LocationLevel.EXACT,  # no bound of its own
        "entraide": LocationLevel.STREET,  # entraide.location_street_max
        "tables-du-coeur": LocationLevel.DISTRICT,  # tables-du-coeur.location_district_max
        "habitat-rhone": 0,  # habitat-rhone.address_stays_here
    }
    kinds = {slug: meta.kind for slug, meta in engine.bundle.orgs.items()}
    for owner, level in expected.items():
        case = CaseFacts(owner, kinds[owner])
        release = engine.release(responder, "read", case, emergency, ["location"])
        assert release.location_level == level, owner
        for situation in (
            Situation(Purpose.OUTREACH.value, True, True, True, True),
            Situation(Purpose.VITAL_INTEREST.value, True, True, False, True),
        ):
            capped = engine.release(responder, "read", case, situation, ["location"])
            assert capped.location_level <= LocationLevel.DISTRICT, (owner, situation)
