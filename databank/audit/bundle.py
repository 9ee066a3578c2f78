"""Inclusion-proof bundles: an org's audit entries, proven against a signed checkpoint of the log.

`databank audit prove --org X` writes one with make_bundle; an outside party checks it with
verify_bundle or with the standalone scripts/verify_audit_bundle.py, which repeats these checks.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from databank.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    decode_base64,
    parse_signed_note,
    parse_verifier_key,
    verify_checkpoint,
)
from databank.audit.merkle import HASH_LEN, leaf_hash, verify_inclusion

__all__ = ["FORMAT", "BundleReport", "make_bundle", "verify_bundle"]

FORMAT = "databank-audit-bundle/1"


@dataclass(frozen=True)
class BundleReport:
    """What verify_bundle found. `entries` counts the bundle's entries, proven or not."""

    ok: bool
    entries: int
    problems: list[str]
    checkpoint: Checkpoint | None = None


def make_bundle(
    origin: str,
    signed_checkpoint: str,
    verifier_key: str,
    entries: Sequence[tuple[int, bytes, list[bytes]]],
) -> bytes:
    """The bundle JSON (UTF-8) of these (seq, canonical body, inclusion proof) entries.

    Raises ValueError rather than write a bundle that would not verify: a bad export is a bug or
    a damaged log, and should be found by its operator before an outside party finds it.
    """
    document = {
        "format": FORMAT,
        "origin": origin,
        "checkpoint": signed_checkpoint,
        "verifier_key": verifier_key,
        "entries": [
            {
                "seq": seq,
                "body": body.decode("utf-8"),
                "proof": [base64.b64encode(h).decode("ascii") for h in proof],
            }
            for seq, body, proof in entries
        ],
    }
    data = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    report = verify_bundle(data)
    if not report.ok:
        raise ValueError("the bundle would not verify: " + "; ".join(report.problems[:5]))
    return data


def _load(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the bundle is not UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"the bundle is not a {FORMAT} document")
    for key, kind in (("origin", str), ("checkpoint", str), ("verifier_key", str)):
        if not isinstance(document.get(key), kind):
            raise ValueError(f"the bundle has no {key}")
    if not isinstance(document.get("entries"), list):
        raise ValueError("the bundle has no entries list")
    return document


def _entry_problem(position: int, entry: Any, checkpoint: Checkpoint, seen: set[int]) -> str | None:
    seq = entry.get("seq") if isinstance(entry, dict) else None
    if type(seq) is not int or seq < 0:
        return f"entry {position} has no valid seq"
    if seq in seen:
        return f"seq {seq} appears twice"
    seen.add(seq)
    body, proof = entry.get("body"), entry.get("proof")
    if not isinstance(body, str) or not isinstance(proof, list):
        return f"seq {seq}: body or proof is missing"
    if seq >= checkpoint.size:
        return f"seq {seq} is beyond the checkpoint size {checkpoint.size}"
    try:
        hashes = [decode_base64(p, "a proof hash") for p in proof]
        raw = body.encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError (lone surrogate) is a ValueError
        return f"seq {seq}: body or proof is not well formed"
    if any(len(h) != HASH_LEN for h in hashes) or not verify_inclusion(
        leaf_hash(raw), seq, checkpoint.size, hashes, checkpoint.root
    ):
        return f"seq {seq}: body does not match its inclusion proof"
    return None


def verify_bundle(data: bytes, trusted_verifier_key: str | None = None) -> BundleReport:
    """Check every entry's inclusion proof against the bundle's checkpoint and its signature.

    With `trusted_verifier_key`, the checkpoint must be signed by that key (obtained from a
    source other than the bundle); without it, the bundle only proves consistency with the key
    it names itself. Raises ValueError if `data` is not a bundle at all.
    """
    document = _load(data)
    problems: list[str] = []
    bundle_key = document["verifier_key"]
    if trusted_verifier_key is not None and bundle_key.strip() != trusted_verifier_key.strip():
        problems.append("the bundle's verifier key is not the trusted key")
    key_line = bundle_key if trusted_verifier_key is None else trusted_verifier_key
    try:
        verifier = parse_verifier_key(key_line)
    except ValueError as exc:
        verifier = None
        problems.append(f"verifier key unreadable: {exc}")
    try:
        checkpoint, _ = parse_signed_note(document["checkpoint"])
    except ValueError as exc:
        problems.append(f"checkpoint unreadable: {exc}")
        return BundleReport(False, len(document["entries"]), problems)
    if verifier is not None:
        try:
            verify_checkpoint(document["checkpoint"], verifier[1], verifier[0])
        except CheckpointError as exc:
            problems.append(f"checkpoint signature invalid: {exc.message}")
    if checkpoint.origin != document["origin"]:
        problems.append(f"the checkpoint is for origin {checkpoint.origin!r}, not the bundle's")
    seen: set[int] = set()
    for position, entry in enumerate(document["entries"]):
        problem = _entry_problem(position, entry, checkpoint, seen)
        if problem:
            problems.append(problem)
    return BundleReport(not problems, len(document["entries"]), problems, checkpoint)
