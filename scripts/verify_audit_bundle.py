#!/usr/bin/env python3
"""Check a databank audit bundle using only Python 3.11+ and the `cryptography` package.

    python3 verify_audit_bundle.py BUNDLE.json [--key VERIFIER_KEY_LINE_OR_FILE]

A bundle (from `databank audit prove --org X`) holds some entries of the databank's audit log,
a checkpoint of the whole log (its name, its size and its RFC 6962 Merkle root hash) signed with
Ed25519 in the signed-note format of transparency logs, and an inclusion proof per entry.

What this script checks
  1. The checkpoint has a valid signature by the verifier key. Pass --key with the operator's
     published key line (or a file holding it), obtained independently of the bundle. Without
     --key the key inside the bundle is used, which shows only that the bundle is consistent with
     itself, not who signed it.
  2. For each entry: hashing its body as a leaf, SHA-256(0x00 || body), and combining it with its
     proof gives the signed root, at leaf index = the entry's seq (entries are numbered from 0).

What that proves: each listed entry is, byte for byte, at that position in the log whose state
the operator signed. Keep the bundle: a different entry at that seq, or a different root for
that size, shown later, is evidence that the log was changed.

What it cannot prove
  - That the bundle is complete: the operator chose which entries to include, and other entries
    about the same organisation may exist. Gaps in seq are normal (other organisations' entries).
  - That everyone is shown the same log: compare the checkpoint with others' (same size must
    give the same root). No consistency proof with earlier checkpoints is included.
  - That what the entries say is true: only that it was logged and has not changed since.

Exit status: 0 if every entry is proven against a validly signed checkpoint, 1 if not (one line
per problem), 2 if the bundle or the key cannot be read. databank's own implementation is in
databank/audit/; this file repeats it so that it can be read and run on its own.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "databank-audit-bundle/1"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size or len(leaf) != 32:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != 32:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def b64(text: str) -> bytes:
    """Strict, canonical standard base64."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def key_id(name: str, raw_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || key): the signed-note key id."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + raw_key).digest()[:4]


def parse_key(line: str) -> tuple[str, bytes]:
    """`<name>+<hex key id>+<base64(0x01 || Ed25519 key)>` -> (name, raw key)."""
    parts = line.strip().split("+", 2)  # the base64 part may itself contain '+'
    if len(parts) != 3:
        raise ValueError("not a verifier key line")
    name, hex_id, material = parts
    raw = b64(material)
    if not re.fullmatch(r"[^\s+]+", name) or len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 verifier key line")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise ValueError("the key id does not match the key")
    return name, raw[1:]


def read_checkpoint(note: str) -> tuple[str, str, int, bytes, list[tuple[str, bytes]]]:
    """A signed note -> (signed text, origin, size, root, [(key name, key id + signature)])."""
    text, blank, block = note.rpartition("\n\n")
    if CONTROL.search(note) or not blank or not block.endswith("\n"):
        raise ValueError("not a signed note")
    sigs = []
    for line in block[:-1].split("\n"):
        m = re.fullmatch(r"— ([^\s+]+) (\S+)", line)
        blob = b64(m[2]) if m else b""
        if not m or len(blob) <= 4:
            raise ValueError("a signature line is malformed")
        sigs.append((m[1], blob))
    lines = text.split("\n")
    if len(lines) != 3 or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise ValueError("the checkpoint is not origin, size and root lines")
    root = b64(lines[2])
    if len(root) != 32:
        raise ValueError("the root is not a SHA-256 hash")
    return text + "\n", lines[0], int(lines[1]), root, sigs


def signature_problem(text: str, sigs: list[tuple[str, bytes]], name: str, key: bytes) -> str:
    """'' if some signature by this key is valid, else why not."""
    ours = [blob[4:] for n, blob in sigs if n == name and blob[:4] == key_id(name, key)]
    for sig in ours:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(sig, text.encode("utf-8"))
            return ""
        except InvalidSignature:
            pass
    return f"checkpoint signature invalid: no valid signature by {name}"


def entry_problem(position: int, entry: Any, size: int, root: bytes, seen: set[int]) -> str:
    """'' if the entry is proven, else why not."""
    seq = entry.get("seq") if isinstance(entry, dict) else None
    if type(seq) is not int or seq < 0:
        return f"entry {position} has no valid seq"
    if seq in seen:
        return f"seq {seq} appears twice"
    seen.add(seq)
    body, proof = entry.get("body"), entry.get("proof")
    if not isinstance(body, str) or not isinstance(proof, list):
        return f"seq {seq}: body or proof is missing"
    if seq >= size:
        return f"seq {seq} is beyond the checkpoint size {size}"
    try:
        hashes = [b64(p) for p in proof]
        leaf = leaf_hash(body.encode("utf-8"))
    except (TypeError, ValueError):
        return f"seq {seq}: body or proof is not well formed"
    if not verify_inclusion(leaf, seq, size, hashes, root):
        return f"seq {seq}: body does not match its inclusion proof"
    return ""


def verify(data: bytes, trusted_key: str | None = None) -> tuple[int, list[str], str]:
    """(number of entries, problems, the checkpoint in words); ValueError if not a bundle at all."""
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the bundle is not UTF-8 JSON") from None
    fields = ("origin", "checkpoint", "verifier_key")
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ValueError(f"the bundle is not a {FORMAT} document")
    if not all(isinstance(bundle.get(f), str) for f in fields):
        raise ValueError("the bundle lacks its origin, checkpoint or verifier key")
    if not isinstance(bundle.get("entries"), list):
        raise ValueError("the bundle has no entries list")
    entries, problems = bundle["entries"], []
    if trusted_key is not None and bundle["verifier_key"].strip() != trusted_key.strip():
        problems.append("the bundle's verifier key is not the trusted key")
    try:
        name, key = parse_key(bundle["verifier_key"] if trusted_key is None else trusted_key)
    except ValueError as exc:
        name, key = "", b""
        problems.append(f"verifier key unreadable: {exc}")
    try:
        text, origin, size, root, sigs = read_checkpoint(bundle["checkpoint"])
    except ValueError as exc:
        return len(entries), [*problems, f"checkpoint unreadable: {exc}"], ""
    if key and (problem := signature_problem(text, sigs, name, key)):
        problems.append(problem)
    if origin != bundle["origin"]:
        problems.append(f"the checkpoint is for origin {origin!r}, not the bundle's")
    seen: set[int] = set()
    for position, entry in enumerate(entries):
        if problem := entry_problem(position, entry, size, root, seen):
            problems.append(problem)
    described = f"{origin} at size {size}, root {base64.b64encode(root).decode()}, key {name}"
    return len(entries), problems, described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a databank audit inclusion-proof bundle.")
    parser.add_argument("bundle", type=Path, help="the bundle JSON file")
    parser.add_argument("--key", help="the trusted verifier key line, or a file holding it")
    args = parser.parse_args(argv)
    try:
        key = args.key
        if key is not None and Path(key).is_file():
            key = Path(key).read_text(encoding="utf-8")
        if key is not None:
            parse_key(key)
        count, problems, checkpoint = verify(args.bundle.read_bytes(), key)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"cannot read the bundle or key: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"FAILED: {len(problems)} problem(s) in a bundle of {count} entries")
        return 1
    print(f"OK: all {count} entries are in the signed log {checkpoint}")
    if key is None:
        print("warning: the key was taken from the bundle itself; pass --key", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
