"""Signed checkpoints of the audit log, in the signed-note format of transparency logs.

A checkpoint (origin, tree size, root hash) is signed with Ed25519 as a note, the format of
golang.org/x/mod/sumdb/note and of tlog checkpoints (c2sp.org/signed-note and tlog-checkpoint),
so that witnesses and tooling built for transparency logs can read ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from databank.audit.merkle import HASH_LEN
from databank.domain.errors import DatabankError

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "key_id",
    "parse_signed_note",
    "parse_verifier_key",
    "public_key_line",
    "sign_checkpoint",
    "sign_note",
    "verify_checkpoint",
    "verify_note",
]

ED25519_ALG = b"\x01"
KEY_ID_LEN = 4
MAX_SIGNATURES = 100  # golang.org/x/mod/sumdb/note refuses more, bounding the work per note

_SIG_PREFIX = "— "  # em dash U+2014 and a space
_KEY_NAME = re.compile(r"[^\s+]+")  # the note spec: non-empty, no spaces, no plus signs
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # control characters other than newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(DatabankError):
    """A checkpoint carries no valid signature by the expected key, or cannot be read."""

    code = "checkpoint_invalid"


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement "the log called `origin` has `size` entries and this root hash"."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or _CONTROL.search(self.origin) or "\n" in self.origin:
            raise ValueError("the origin must be one non-empty line without control characters")
        if self.size < 0:
            raise ValueError("the tree size cannot be negative")
        if len(self.root) != HASH_LEN:
            raise ValueError("the root hash is 32 bytes")

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def _check_key_name(key_name: str) -> None:
    if not _KEY_NAME.fullmatch(key_name):
        raise ValueError("a key name is non-empty, without spaces or '+'")


def decode_base64(text: str, what: str) -> bytes:
    """Strict standard base64: refuse other alphabets and non-canonical encodings."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || public key), as in the note spec."""
    data = key_name.encode("utf-8") + b"\n" + ED25519_ALG + _raw_public(public_key)
    return hashlib.sha256(data).digest()[:KEY_ID_LEN]


def public_key_line(key_name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key `<name>+<hex key id>+<base64(0x01 || public key)>`."""
    _check_key_name(key_name)
    material = base64.b64encode(ED25519_ALG + _raw_public(public_key)).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{material}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """Read a verifier key line (surrounding whitespace allowed); ValueError if malformed."""
    parts = text.strip().split("+", 2)  # the base64 part may itself contain '+'
    if len(parts) != 3:
        raise ValueError("a verifier key is <name>+<key id>+<key>")
    name, hex_id, material = parts
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise ValueError("the verifier key id is not 8 lowercase hex digits")
    raw = decode_base64(material, "the verifier key")
    if len(raw) != 1 + 32 or raw[:1] != ED25519_ALG:
        raise ValueError("the verifier key is not an Ed25519 key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key).hex() != hex_id:
        raise ValueError("the verifier key id does not match its name and key")
    return name, public_key


def sign_note(text: str, key: Ed25519PrivateKey, key_name: str) -> str:
    """Sign note text (non-empty lines, each ending in newline) as a signed note."""
    _check_key_name(key_name)
    if not text.endswith("\n") or _CONTROL.search(text) or "\n\n" in text:
        raise ValueError("note text is newline-terminated lines without control characters")
    blob = key_id(key_name, key.public_key()) + key.sign(text.encode("utf-8"))
    return f"{text}\n{_SIG_PREFIX}{key_name} {base64.b64encode(blob).decode('ascii')}\n"


def sign_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey, key_name: str) -> str:
    """The signed note text of this checkpoint."""
    return sign_note(checkpoint.body(), key, key_name)


def _parse_body(body: str) -> Checkpoint:
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("a checkpoint has an origin, a size and a root hash line")
    if len(lines) > 3:
        raise ValueError("the checkpoint has extension lines, which this log never writes")
    origin, size, root = lines
    if not origin:
        raise ValueError("the checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size):
        raise ValueError("the checkpoint size is not a decimal number")
    root_hash = decode_base64(root, "the checkpoint root hash")
    if len(root_hash) != HASH_LEN:
        raise ValueError("the checkpoint root hash is not 32 bytes")
    return Checkpoint(origin, int(size), root_hash)


def _split_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The note's signed text and its signature lines, parsed but not verified."""
    if _CONTROL.search(text):
        raise ValueError("the note contains control characters")
    split = text.rfind("\n\n")
    if split < 0:
        raise ValueError("the note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        raise ValueError("the note has no signature lines, or does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise ValueError("a signature line does not start with '— '")
        fields = line[len(_SIG_PREFIX) :].split(" ")
        if len(fields) != 2 or not _KEY_NAME.fullmatch(fields[0]):
            raise ValueError("a signature line is not '— <key name> <signature>'")
        blob = decode_base64(fields[1], "a signature")
        if len(blob) <= KEY_ID_LEN:
            raise ValueError("a signature is too short")
        signatures.append((fields[0], blob[:KEY_ID_LEN], blob[KEY_ID_LEN:]))
    return body, signatures


def parse_signed_note(text: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """The checkpoint and its signatures [(key name, key id, signature)]; ValueError if malformed.

    Signatures are parsed, not verified: use verify_checkpoint for that.
    """
    body, signatures = _split_note(text)
    return _parse_body(body), signatures


def verify_note(text: str, public_key: Ed25519PublicKey, key_name: str) -> str:
    """The text of a signed note that this key validly signed; CheckpointError otherwise."""
    try:
        body, signatures = _split_note(text)
    except ValueError as exc:
        raise CheckpointError(f"malformed checkpoint: {exc}") from None
    expected_id = key_id(key_name, public_key)
    named = [(kid, sig) for name, kid, sig in signatures if name == key_name]
    if not named:
        raise CheckpointError(f"the checkpoint has no signature by {key_name}")
    ours = [sig for kid, sig in named if kid == expected_id]
    if not ours:
        raise CheckpointError(f"the checkpoint is signed by a different key named {key_name}")
    for sig in ours:
        try:
            public_key.verify(sig, body.encode("utf-8"))  # exactly the bytes that were signed
        except InvalidSignature:
            continue
        return body
    raise CheckpointError(f"the signature by {key_name} is invalid")


def verify_checkpoint(text: str, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    """The checkpoint of a signed note that this key validly signed; CheckpointError otherwise."""
    try:
        checkpoint, _ = parse_signed_note(text)
    except ValueError as exc:
        raise CheckpointError(f"malformed checkpoint: {exc}") from None
    verify_note(text, public_key, key_name)
    return checkpoint
