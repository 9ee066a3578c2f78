"""Tests of inclusion-proof bundles, and of the standalone verifier an outside auditor runs."""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from databank.audit import (
    Checkpoint,
    canonical_body,
    inclusion_proofs,
    leaf_hash,
    make_bundle,
    node_hash,
    public_key_line,
    root_of,
    sign_checkpoint,
    verify_bundle,
    verify_inclusion,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_bundle.py"
ORIGIN = "databank.example/audit"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEY_LINE = public_key_line(ORIGIN, KEY.public_key())
LOG_SIZE = 50
ORG_SEQS = [0, 3, 17, 18, 31, 49]

BODIES = [
    canonical_body(
        {
            "seq": seq,
            "event": "access",
            "actor_org": "org-a" if seq in ORG_SEQS else "org-b",
            "purpose": "housing",
            "justification": "visite à domicile",  # non-ASCII: bodies are UTF-8, not escaped
            "decision": "allow",
        }
    )
    for seq in range(LOG_SIZE)
]
LEAVES = [leaf_hash(b) for b in BODIES]


CHECKPOINT = Checkpoint(ORIGIN, LOG_SIZE, root_of(LEAVES))


def build(seqs: list[int] = ORG_SEQS) -> bytes:
    proofs = inclusion_proofs(LEAVES, LOG_SIZE, seqs)
    entries = [(seq, BODIES[seq], proofs[seq]) for seq in seqs]
    signed = sign_checkpoint(CHECKPOINT, KEY, ORIGIN)
    return make_bundle(ORIGIN, signed, KEY_LINE, entries)


def edit(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document).encode("utf-8")  # escaped, so a lone surrogate survives


def flip_body_byte(seq: int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        entry = next(e for e in document["entries"] if e["seq"] == seq)
        entry["body"] = entry["body"].replace('"allow"', '"allaw"')

    return change


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_audit_bundle", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_made_bundle_verifies() -> None:
    data = build()
    document = json.loads(data)
    assert document["format"] == "databank-audit-bundle/1"
    assert [e["seq"] for e in document["entries"]] == ORG_SEQS
    assert document["entries"][0]["body"].encode("utf-8") == BODIES[0]
    report = verify_bundle(data, KEY_LINE)
    assert report.ok, report.problems
    assert report.entries == len(ORG_SEQS)
    assert report.problems == []
    assert report.checkpoint == CHECKPOINT


def test_the_script_accepts_a_good_bundle(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(build())
    result = run_script(str(path), "--key", KEY_LINE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK: all {len(ORG_SEQS)} entries")
    key_file = tmp_path / "audit-key.pub"
    key_file.write_text(KEY_LINE + "\n")
    assert run_script(str(path), "--key", str(key_file)).returncode == 0
    without_key = run_script(str(path))
    assert without_key.returncode == 0
    assert "pass --key" in without_key.stderr


def test_one_changed_body_byte_is_named_by_seq(tmp_path: Path) -> None:
    """Changing one byte of one entry's body makes both verifiers name that seq and fail."""
    data = edit(build(), flip_body_byte(17))
    report = verify_bundle(data, KEY_LINE)
    assert not report.ok
    assert report.problems == ["seq 17: body does not match its inclusion proof"]
    path = tmp_path / "bundle.json"
    path.write_bytes(data)
    result = run_script(str(path), "--key", KEY_LINE)
    assert result.returncode == 1
    assert "seq 17: body does not match its inclusion proof" in result.stdout.splitlines()
    assert "FAILED" in result.stdout


def test_a_bundle_signed_by_another_key_fails_with_the_trusted_key(tmp_path: Path) -> None:
    """An operator cannot pass off a checkpoint signed by some other key as its own."""
    signed_by_other = sign_checkpoint(CHECKPOINT, OTHER_KEY, ORIGIN)
    forged = edit(build(), lambda d: d.update(checkpoint=signed_by_other))
    report = verify_bundle(forged, KEY_LINE)
    assert not report.ok
    assert any(p.startswith("checkpoint signature invalid") for p in report.problems)
    # The bundle also names the other key: with --key the mismatch is reported first.
    other_line = public_key_line(ORIGIN, OTHER_KEY.public_key())
    relabelled = edit(forged, lambda d: d.update(verifier_key=other_line))
    assert verify_bundle(relabelled).ok  # self-consistent, which is all a bundle alone shows
    report = verify_bundle(relabelled, KEY_LINE)
    assert report.problems[0] == "the bundle's verifier key is not the trusted key"
    path = tmp_path / "bundle.json"
    path.write_bytes(relabelled)
    assert run_script(str(path)).returncode == 0
    result = run_script(str(path), "--key", KEY_LINE)
    assert result.returncode == 1
    assert "the bundle's verifier key is not the trusted key" in result.stdout
    assert "checkpoint signature invalid" in result.stdout


def set_entry(position: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["entries"][position].update(fields)


def _bad_proof(d: dict[str, Any]) -> None:
    proof = d["entries"][2]["proof"]
    proof[0] = base64.b64encode(bytes(32)).decode()


def _moved(d: dict[str, Any]) -> None:
    d["entries"][1]["seq"] = 4


TAMPERED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("body", flip_body_byte(31), "seq 31: body does not match its inclusion proof"),
    ("proof hash", _bad_proof, "seq 17: body does not match its inclusion proof"),
    ("moved entry", _moved, "seq 4: body does not match its inclusion proof"),
    ("beyond size", set_entry(5, seq=LOG_SIZE), f"seq {LOG_SIZE} is beyond the checkpoint size"),
    ("duplicate", set_entry(1, seq=0), "seq 0 appears twice"),
    ("no seq", set_entry(0, seq="0"), "entry 0 has no valid seq"),
    ("bool seq", set_entry(0, seq=True), "entry 0 has no valid seq"),
    ("negative", set_entry(0, seq=-1), "entry 0 has no valid seq"),
    ("no body", set_entry(0, body=None), "seq 0: body or proof is missing"),
    ("proof type", set_entry(0, proof=[1]), "seq 0: body or proof is not well formed"),
    ("proof b64", set_entry(0, proof=["***"]), "seq 0: body or proof is not well formed"),
    ("short hash", set_entry(0, proof=["AAAA"]), "seq 0: body does not match"),
    ("surrogate", set_entry(0, body="\ud800"), "seq 0: body or proof is not well formed"),
    ("not a dict", lambda d: d["entries"].append([]), "entry 6 has no valid seq"),
    ("origin", lambda d: d.update(origin="elsewhere"), "the checkpoint is for origin"),
    (
        "checkpoint",
        lambda d: d.update(checkpoint=d["checkpoint"].replace(f"\n{LOG_SIZE}\n", "\n51\n")),
        "checkpoint signature invalid",
    ),
    (
        "garbled checkpoint",
        lambda d: d.update(checkpoint="garbage"),
        "checkpoint unreadable",
    ),
    ("garbled key", lambda d: d.update(verifier_key="garbage"), "verifier key unreadable"),
]


@pytest.mark.parametrize(
    ("change", "problem"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED]
)
def test_every_tampering_is_reported_by_both_verifiers(
    script: ModuleType, change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    data = edit(build(), change)
    report = verify_bundle(data)
    assert not report.ok
    assert any(p.startswith(problem) for p in report.problems), report.problems
    count, script_problems, _ = script.verify(data)
    assert count == report.entries
    assert any(p.startswith(problem) for p in script_problems), script_problems
    # The two implementations agree on which entries failed.
    assert [p for p in script_problems if p.startswith(("seq", "entry"))] == [
        p for p in report.problems if p.startswith(("seq", "entry"))
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\xff not utf-8",
        b"not json",
        b"[]",
        b'{"format": "something-else/1"}',
        b'{"format": "databank-audit-bundle/1", "origin": "o", "checkpoint": "c"}',
        b'{"format": "databank-audit-bundle/1", "origin": "o", "checkpoint": "c",'
        b' "verifier_key": "k", "entries": {}}',
    ],
)
def test_what_is_not_a_bundle_is_unreadable(
    script: ModuleType, data: bytes, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="bundle"):
        verify_bundle(data)
    with pytest.raises(ValueError, match="bundle"):
        script.verify(data)
    path = tmp_path / "bundle.json"
    path.write_bytes(data)
    result = run_script(str(path))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_missing_files_and_bad_keys_are_unreadable(tmp_path: Path) -> None:
    assert run_script(str(tmp_path / "missing.json")).returncode == 2
    path = tmp_path / "bundle.json"
    path.write_bytes(build())
    assert run_script(str(path), "--key", "not-a-key").returncode == 2


def test_make_bundle_refuses_what_would_not_verify() -> None:
    signed = sign_checkpoint(CHECKPOINT, KEY, ORIGIN)
    proofs = inclusion_proofs(LEAVES, LOG_SIZE, [3])
    with pytest.raises(ValueError, match="seq 4: body does not match"):
        make_bundle(ORIGIN, signed, KEY_LINE, [(4, BODIES[4], proofs[3])])
    with pytest.raises(ValueError, match="origin"):
        make_bundle("other", signed, KEY_LINE, [(3, BODIES[3], proofs[3])])


def test_an_empty_bundle_is_valid_but_proves_nothing() -> None:
    report = verify_bundle(build(seqs=[]), KEY_LINE)
    assert report.ok
    assert report.entries == 0


@given(st.binary(max_size=200), st.binary(min_size=32, max_size=32))
def test_script_and_package_hash_alike(script: ModuleType, body: bytes, other: bytes) -> None:
    assert script.leaf_hash(body) == leaf_hash(body)
    assert script.node_hash(leaf_hash(body), other) == node_hash(leaf_hash(body), other)


@pytest.mark.parametrize("size", [1, 2, 5, 8, 13, 50])
def test_script_and_package_verify_proofs_alike(script: ModuleType, size: int) -> None:
    leaves = LEAVES[:size]
    root = root_of(leaves)
    proofs = inclusion_proofs(leaves, size, range(size))
    for index in range(size):
        for i, s, proof in [
            (index, size, proofs[index]),
            (index + 1, size, proofs[index]),
            (index, size + 1, proofs[index]),
            (index, size, proofs[index][:-1]),
            (index, size, [*proofs[index], root]),
        ]:
            assert script.verify_inclusion(leaves[index], i, s, proof, root) == verify_inclusion(
                leaves[index], i, s, proof, root
            )


def test_the_standalone_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    """The outside auditor's verifier runs with nothing but Python and `cryptography`."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            roots.add((node.module or "").split(".")[0])
    assert roots - {"cryptography", "__future__"} <= set(sys.stdlib_module_names)
    assert "databank" not in roots
