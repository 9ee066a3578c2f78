"""Access policy decisions from the organisations' Cedar policies (policies/). No Flask, no ORM.

Load a policies directory once with `load_bundle`, wrap it in a `PolicyEngine`, and ask it per
field (`decide`) or per case (`release`); `check` is the operator's validation of a directory.
"""

from databank.policy.bundle import OrgMeta, PolicyBundle, PurposeInfo, bundle_version, load_bundle
from databank.policy.engine import PolicyEngine
from databank.policy.explain import ExplainedRule, Explanation
from databank.policy.facts import (
    ACTIONS,
    DEFAULT_DENY,
    ENGINE_ERROR,
    FIELDS,
    HEALTH_NEEDS,
    LOCATION_FIELD,
    LOCATION_LEVELS,
    STATISTICS_ORG,
    CaseFacts,
    FieldDecision,
    PolicyError,
    Principal,
    Release,
    Situation,
    need_field,
    statistics_principal,
)
from databank.policy.source import Rule
from databank.policy.testing import CheckReport, TestReport, check, run_table_tests

__all__ = [
    "ACTIONS",
    "DEFAULT_DENY",
    "ENGINE_ERROR",
    "FIELDS",
    "HEALTH_NEEDS",
    "LOCATION_FIELD",
    "LOCATION_LEVELS",
    "STATISTICS_ORG",
    "CaseFacts",
    "CheckReport",
    "ExplainedRule",
    "Explanation",
    "FieldDecision",
    "OrgMeta",
    "PolicyBundle",
    "PolicyEngine",
    "PolicyError",
    "Principal",
    "PurposeInfo",
    "Release",
    "Rule",
    "Situation",
    "TestReport",
    "bundle_version",
    "check",
    "load_bundle",
    "need_field",
    "run_table_tests",
    "statistics_principal",
]
