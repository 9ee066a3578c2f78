"""Fixtures for policy tests: the real policies directory, its bundle, and writable copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from databank.policy import PolicyBundle, PolicyEngine, load_bundle

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="session")
def bundle() -> PolicyBundle:
    return load_bundle(POLICIES)


@pytest.fixture
def engine(bundle: PolicyBundle) -> PolicyEngine:
    return PolicyEngine(bundle)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the real policies directory, to break one thing in."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target
