"""Audit log primitives: canonical entry bodies, the Merkle log, checkpoints, proof bundles.

No Flask, no ORM: the services keep the rows, this package does the hashing and signing.
"""

from databank.audit.bundle import BundleReport, make_bundle, verify_bundle
from databank.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_signed_note,
    parse_verifier_key,
    public_key_line,
    sign_checkpoint,
    verify_checkpoint,
)
from databank.audit.entries import canonical_body, canonical_value
from databank.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_of,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "BundleReport",
    "Checkpoint",
    "CheckpointError",
    "Frontier",
    "canonical_body",
    "canonical_value",
    "inclusion_proof",
    "inclusion_proofs",
    "leaf_hash",
    "make_bundle",
    "node_hash",
    "parse_signed_note",
    "parse_verifier_key",
    "public_key_line",
    "root_of",
    "sign_checkpoint",
    "verify_bundle",
    "verify_checkpoint",
    "verify_inclusion",
]
