"""Tests of signed checkpoints: the Go signed-note vectors, real sum.golang.org heads, tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from databank.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    key_id,
    parse_signed_note,
    parse_verifier_key,
    public_key_line,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from databank.audit.merkle import EMPTY_ROOT

# golang.org/x/mod/sumdb/note: the package documentation's example and note_test.go.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

# The Go checksum database's published key and a tree head it signed (a real tlog checkpoint).
SUMDB_VERIFIER = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_HEAD = (
    "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
    "— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3cV"
    "tYspg3dxXABkGZZKdsQ8=\n"
)

ORIGIN = "databank.example/audit"
KEY_NAME = "databank.example/audit"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
CHECKPOINT = Checkpoint(ORIGIN, 1234, hashlib.sha256(b"root").digest())


def go_signing_key() -> Ed25519PrivateKey:
    material = GO_SIGNER.split("+", 4)[4]  # the base64 itself contains '+'
    raw = base64.b64decode(material)
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signed_notes_match_the_go_reference() -> None:
    """Our key ids, key lines and signatures are byte for byte those of golang.org/x/mod."""
    key = go_signing_key()
    assert key_id("PeterNeumann", key.public_key()).hex() == "c74f20a3"
    assert public_key_line("PeterNeumann", key.public_key()) == GO_VERIFIER
    assert sign_note(GO_TEXT, key, "PeterNeumann") == GO_NOTE
    name, public = parse_verifier_key(GO_VERIFIER)
    assert verify_note(GO_NOTE, public, name) == GO_TEXT
    with pytest.raises(CheckpointError, match="invalid"):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), public, name)


@pytest.mark.parametrize("line", [GO_VERIFIER, ENOCH_VERIFIER, SUMDB_VERIFIER])
def test_published_verifier_keys_round_trip(line: str) -> None:
    name, public = parse_verifier_key(line + "\n")
    assert public_key_line(name, public) == line


def test_a_real_sum_golang_org_tree_head_verifies() -> None:
    """A checkpoint signed by the Go checksum database verifies with our code."""
    name, public = parse_verifier_key(SUMDB_VERIFIER)
    checkpoint = verify_checkpoint(SUMDB_HEAD, public, name)
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == 65209736
    assert base64.b64encode(checkpoint.root) == b"5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo="
    with pytest.raises(CheckpointError, match="invalid"):
        verify_checkpoint(SUMDB_HEAD.replace("65209736", "65209737"), public, name)


def test_sign_then_verify() -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    body, signature_line = note.split("\n\n")
    assert body + "\n" == CHECKPOINT.body()
    assert CHECKPOINT.body() == f"{ORIGIN}\n1234\n{base64.b64encode(CHECKPOINT.root).decode()}\n"
    assert signature_line.startswith(f"\u2014 {KEY_NAME} ")
    assert len(base64.b64decode(signature_line.split(" ")[2])) == 4 + 64
    assert verify_checkpoint(note, KEY.public_key(), KEY_NAME) == CHECKPOINT
    parsed, signatures = parse_signed_note(note)
    assert parsed == CHECKPOINT
    assert [(n, k) for n, k, _ in signatures] == [(KEY_NAME, key_id(KEY_NAME, KEY.public_key()))]


def test_the_empty_log_has_a_checkpoint() -> None:
    empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    note = sign_checkpoint(empty, KEY, KEY_NAME)
    assert verify_checkpoint(note, KEY.public_key(), KEY_NAME) == empty


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n1234\n", "\n1235\n"),
        (ORIGIN + "\n", "databank.example/other\n"),
        (base64.b64encode(CHECKPOINT.root).decode(), base64.b64encode(EMPTY_ROOT).decode()),
    ],
    ids=["size", "origin", "root"],
)
def test_a_changed_checkpoint_fails(old: str, new: str) -> None:
    """Changing the size, origin or root of a signed checkpoint invalidates its signature."""
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    assert old in note
    with pytest.raises(CheckpointError, match=r"signature by .* is invalid"):
        verify_checkpoint(note.replace(old, new, 1), KEY.public_key(), KEY_NAME)


def test_a_signature_by_another_key_fails() -> None:
    """Only the expected key's signature counts, whatever name the signer used."""
    forged = sign_checkpoint(CHECKPOINT, OTHER_KEY, KEY_NAME)
    with pytest.raises(CheckpointError, match="different key"):
        verify_checkpoint(forged, KEY.public_key(), KEY_NAME)
    # A forger who copies our key id into its signature line still fails.
    name, _, sig = parse_signed_note(forged)[1][0]
    blob = base64.b64encode(key_id(KEY_NAME, KEY.public_key()) + sig).decode()
    relabelled = CHECKPOINT.body() + f"\n\u2014 {name} {blob}\n"
    with pytest.raises(CheckpointError, match="invalid"):
        verify_checkpoint(relabelled, KEY.public_key(), KEY_NAME)
    other_name = sign_checkpoint(CHECKPOINT, KEY, "someone.else")
    with pytest.raises(CheckpointError, match="no signature by"):
        verify_checkpoint(other_name, KEY.public_key(), KEY_NAME)


def test_one_valid_signature_among_several_suffices() -> None:
    ours = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    theirs = sign_checkpoint(CHECKPOINT, OTHER_KEY, "witness.example")
    cosigned = ours + theirs.split("\n\n")[1]
    assert len(parse_signed_note(cosigned)[1]) == 2
    assert verify_checkpoint(cosigned, KEY.public_key(), KEY_NAME) == CHECKPOINT
    assert verify_checkpoint(cosigned, OTHER_KEY.public_key(), "witness.example") == CHECKPOINT


ROOT_B64 = base64.b64encode(CHECKPOINT.root).decode()
SIG = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME).split("\n\n")[1]


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n", "no blank line"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n", "no signature lines"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n{SIG[:-1]}", "does not end with a newline"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n- {SIG[2:]}", "does not start with"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n\u2014 {KEY_NAME}\n", "not '— <key name>"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n\u2014 a+b AAAAAAA=\n", "not '— <key name>"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n\u2014 {KEY_NAME} AAAAAA==\n", "too short"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n\u2014 {KEY_NAME} not*base64\n", "not valid base64"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n\u2014 {KEY_NAME} AAAAAAB=\n", "not canonical"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\n\n" + SIG * 101, "more than 100 signatures"),
        (f"{ORIGIN}\r\n1234\n{ROOT_B64}\n\n{SIG}", "control characters"),
        (f"{ORIGIN}\n1234\n\n{SIG}", "an origin, a size and a root"),
        (f"{ORIGIN}\n1234\n{ROOT_B64}\nextension\n\n{SIG}", "extension lines"),
        (f"\n1234\n{ROOT_B64}\n\n{SIG}", "origin is empty"),
        (f"{ORIGIN}\n01234\n{ROOT_B64}\n\n{SIG}", "size is not a decimal"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n\n{SIG}", "size is not a decimal"),
        (f"{ORIGIN}\n\u0661\n{ROOT_B64}\n\n{SIG}", "size is not a decimal"),  # Arabic-Indic 1
        (f"{ORIGIN}\n1234\n{ROOT_B64[:-4]}\n\n{SIG}", "not 32 bytes"),
        (f"{ORIGIN}\n1234\n{ROOT_B64.replace('=', '')}\n\n{SIG}", "not valid base64"),
    ],
)
def test_malformed_notes_are_rejected_with_the_reason(note: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_signed_note(note)
    with pytest.raises(CheckpointError, match="malformed checkpoint"):
        verify_checkpoint(note, KEY.public_key(), KEY_NAME)


@given(st.text(max_size=200))
def test_parsing_arbitrary_text_raises_only_value_error(text: str) -> None:
    try:
        checkpoint, _ = parse_signed_note(text)
    except ValueError:
        return
    assert checkpoint.body() in text


@pytest.mark.parametrize(
    "line",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper case
        "PeterNeumenn+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # other name
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm 2
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_rejected(line: str) -> None:
    with pytest.raises(ValueError, match=r"verifier key|key name"):
        parse_verifier_key(line)


def test_key_line_round_trip_for_generated_keys() -> None:
    for key in (KEY, OTHER_KEY, Ed25519PrivateKey.generate()):
        line = public_key_line(KEY_NAME, key.public_key())
        name, public = parse_verifier_key(line)
        assert name == KEY_NAME
        assert public == key.public_key()


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, EMPTY_ROOT), ("a\nb", 1, EMPTY_ROOT), ("a", -1, EMPTY_ROOT), ("a", 1, b"short")],
)
def test_invalid_checkpoints_cannot_be_made(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(ValueError, match=r"origin|size|32 bytes"):
        Checkpoint(origin, size, root)


@pytest.mark.parametrize("name", ["", "two words", "a+b"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="key name"):
        sign_checkpoint(CHECKPOINT, KEY, name)
    with pytest.raises(ValueError, match="key name"):
        public_key_line(name, KEY.public_key())


@pytest.mark.parametrize("text", ["no newline", "blank\n\nline\n", "tab\there\n"])
def test_note_text_must_be_lines(text: str) -> None:
    with pytest.raises(ValueError, match="newline-terminated"):
        sign_note(text, KEY, KEY_NAME)


def test_verify_note_rejects_malformed_notes() -> None:
    with pytest.raises(CheckpointError, match="malformed"):
        verify_note(GO_TEXT, go_signing_key().public_key(), "PeterNeumann")
