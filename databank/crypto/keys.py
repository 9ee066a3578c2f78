"""Loading the root keys from the environment or a keys directory, and generating dev/demo keys."""

from __future__ import annotations

import base64
import binascii
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from databank.crypto.envelope import KEY_LEN
from databank.crypto.wrapping import (
    KeyProvider,
    LocalKeyProvider,
    new_key,
    unwrap_org_key,
    unwrap_subject_key,
    wrap_org_key,
    wrap_subject_key,
)
from databank.domain.errors import ConfigurationError

__all__ = [
    "AUDIT_PUBLIC_FILE",
    "MASTER_KEY_VERSION",
    "KeyMaterial",
    "KeyProvider",
    "LocalKeyProvider",
    "generate_dev_keys",
    "load_keys",
    "load_linkage_secret",
    "new_key",
    "unwrap_org_key",
    "unwrap_subject_key",
    "wrap_org_key",
    "wrap_subject_key",
]

MASTER_KEY_VERSION = 1
AUDIT_PUBLIC_FILE = "audit-signing.pub"

_MAX_KEY_FILE_SIZE = 64 * 1024
_INIT_HINT = "run `databank keys init` to create dev keys"


class _Secret(NamedTuple):
    label: str
    env_var: str
    file_name: str


_MASTER = _Secret("master key", "DATABANK_MASTER_KEY", "master.key")
_INDEX = _Secret("index key", "DATABANK_INDEX_KEY", "index.key")
_LINKAGE = _Secret("linkage secret", "DATABANK_LINKAGE_SECRET", "linkage.key")
_AUDIT = _Secret("audit signing key", "DATABANK_AUDIT_SIGNING_KEY", "audit-signing.key")


@dataclass(frozen=True)
class KeyMaterial:
    """The root keys the application runs with; repr shows where they came from, never the keys."""

    provider: KeyProvider
    index_root: bytes = field(repr=False)
    audit_signing_key: Ed25519PrivateKey = field(repr=False)
    source: str


def generate_dev_keys(directory: Path) -> list[Path]:
    """Write fresh dev/demo keys into directory (0700) as 0600 files; never overwrites a key.

    Threat: overwriting a key file would make every ciphertext sealed under the old key unreadable,
    so an existing file stops the whole run before anything is written.
    """
    secret_files = [_MASTER.file_name, _INDEX.file_name, _LINKAGE.file_name, _AUDIT.file_name]
    for name in [*secret_files, AUDIT_PUBLIC_FILE]:
        if (directory / name).exists():
            raise ConfigurationError(
                f"{directory / name} already exists; refusing to overwrite a key"
            )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask and ignored for an existing directory: set it again.
    directory.chmod(0o700)

    signing_key = Ed25519PrivateKey.generate()
    contents = {
        _MASTER.file_name: base64.b64encode(new_key()) + b"\n",
        _INDEX.file_name: base64.b64encode(new_key()) + b"\n",
        _LINKAGE.file_name: base64.b64encode(new_key()) + b"\n",
        _AUDIT.file_name: signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }
    written = [_write_new_file(directory / name, data, 0o600) for name, data in contents.items()]
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The public key is published for audit verifiers, so it may be readable by others.
    written.append(_write_new_file(directory / AUDIT_PUBLIC_FILE, public_pem, 0o644))
    return written


def _write_new_file(path: Path, data: bytes, mode: int) -> Path:
    # O_CREAT|O_EXCL creates the file with its final mode in one step: there is no moment when a
    # secret file exists with default (readable) permissions, and an existing file or a symlink
    # planted at the path makes the call fail instead of writing through it.
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise ConfigurationError(f"{path} already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as file:
        # The umask may have removed bits from the creation mode; make the mode exact.
        os.fchmod(file.fileno(), mode)
        file.write(data)
    return path


def load_keys(keys_dir: Path | None, environ: Mapping[str, str]) -> KeyMaterial:
    """Load the master, index and audit signing keys; environment variables win over files.

    Every problem raises ConfigurationError naming the key and where it was looked for, never the
    key's value: the message is shown at start-up and may be logged.
    """
    master, master_from = _read_key(_MASTER, keys_dir, environ)
    index_root, index_from = _read_key(_INDEX, keys_dir, environ)
    audit_raw, audit_from = _read_secret(_AUDIT, keys_dir, environ)
    audit_key = _parse_signing_key(audit_raw, audit_from)

    env_vars = {_MASTER.env_var, _INDEX.env_var, _AUDIT.env_var}
    origins = {master_from, index_from, audit_from}
    if origins <= env_vars:
        source = "environment"
    elif origins.isdisjoint(env_vars):
        source = f"files in {keys_dir}"
    else:
        source = f"environment and files in {keys_dir}"
    return KeyMaterial(
        provider=LocalKeyProvider({MASTER_KEY_VERSION: master}, MASTER_KEY_VERSION),
        index_root=index_root,
        audit_signing_key=audit_key,
        source=source,
    )


def load_linkage_secret(keys_dir: Path | None, environ: Mapping[str, str]) -> bytes:
    """Load the linkage secret, under the same rules as load_keys.

    Kept out of load_keys on purpose: only the linkage zone loads it, so a compromise of the main
    application does not yield the secret that makes linkage tokens comparable across orgs.
    """
    secret, _ = _read_key(_LINKAGE, keys_dir, environ)
    return secret


def _read_secret(
    secret: _Secret, keys_dir: Path | None, environ: Mapping[str, str]
) -> tuple[bytes, str]:
    """The raw text of a secret and where it came from (the variable name or the file path)."""
    if secret.env_var in environ:
        return environ[secret.env_var].encode(), secret.env_var
    if keys_dir is None:
        raise ConfigurationError(
            f"the {secret.label} is missing: set {secret.env_var} or {_INIT_HINT}"
        )
    path = keys_dir / secret.file_name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigurationError(
            f"the {secret.label} is missing: set {secret.env_var} or create {path} ({_INIT_HINT})"
        ) from None
    except OSError as error:
        raise ConfigurationError(
            f"the {secret.label} file {path} cannot be read: {error.strerror}"
        ) from None
    try:
        # Threat: a key file other local users can read (or replace) is a key they hold. The mode is
        # checked on the open descriptor, so the file cannot be swapped between check and read.
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigurationError(f"the {secret.label} file {path} is not a regular file")
        if stat.S_IMODE(mode) & 0o077:
            raise ConfigurationError(
                f"the {secret.label} file {path} is accessible by group or others; "
                f"run `chmod 600 {path}`"
            )
        # Key files are a few hundred bytes; the cap keeps a wrong path from filling memory.
        return os.read(fd, _MAX_KEY_FILE_SIZE), str(path)
    finally:
        os.close(fd)


def _read_key(
    secret: _Secret, keys_dir: Path | None, environ: Mapping[str, str]
) -> tuple[bytes, str]:
    """A 32-byte base64 secret and where it came from."""
    raw, where = _read_secret(secret, keys_dir, environ)
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != KEY_LEN:
        raise ConfigurationError(
            f"the {secret.label} in {where} must be {KEY_LEN} random bytes, base64-encoded "
            f"({_INIT_HINT})"
        )
    return key, where


def _parse_signing_key(raw: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            f"the {_AUDIT.label} in {where} must be an unencrypted PEM (PKCS8) Ed25519 private key "
            f"({_INIT_HINT})"
        )
    return key
