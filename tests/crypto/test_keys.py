"""Tests of dev key generation and of loading keys from the environment or a keys directory."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from databank.crypto.envelope import SealingKey, key_id_of
from databank.crypto.keys import (
    KeyMaterial,
    _write_new_file,
    generate_dev_keys,
    load_keys,
    load_linkage_secret,
)
from databank.domain.errors import ConfigurationError

MASTER_V2 = bytes(range(32, 64))
ORG_KEY = bytes(range(64, 96))
SUBJECT_KEY = bytes(range(96, 128))

SECRET_FILES = ["master.key", "index.key", "linkage.key", "audit-signing.key"]
ALL_FILES = [*SECRET_FILES, "audit-signing.pub"]
ENV_FOR_FILE = {
    "master.key": "DATABANK_MASTER_KEY",
    "index.key": "DATABANK_INDEX_KEY",
    "linkage.key": "DATABANK_LINKAGE_SECRET",
    "audit-signing.key": "DATABANK_AUDIT_SIGNING_KEY",
}


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def signing_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "instance" / "keys"
    generate_dev_keys(directory)
    return directory


def all_key_material(directory: Path) -> list[str]:
    """Every secret written in a keys directory, as text and as the bytes' hex and repr."""
    found = []
    for name in SECRET_FILES:
        text = (directory / name).read_text()
        found.append(text.strip())
        if name == "audit-signing.key":
            found += [line for line in text.splitlines() if not line.startswith("-----")]
        else:
            raw = base64.b64decode(text)
            found += [raw.hex(), repr(raw)]
    return found


# Generation


def test_generate_dev_keys_writes_private_files(tmp_path: Path) -> None:
    """Dev keys are written to a 0700 directory as 0600 files, whatever the umask."""
    directory = tmp_path / "instance" / "keys"
    previous_umask = os.umask(0)
    try:
        written = generate_dev_keys(directory)
    finally:
        os.umask(previous_umask)
    assert written == [directory / name for name in ALL_FILES]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in SECRET_FILES:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((directory / "audit-signing.pub").stat().st_mode) == 0o644
    for name in ["master.key", "index.key", "linkage.key"]:
        text = (directory / name).read_text()
        assert text.endswith("\n")
        assert len(base64.b64decode(text, validate=False)) == 32


def test_generate_dev_keys_writes_a_matching_signing_key_pair(keys_dir: Path) -> None:
    private = serialization.load_pem_private_key(
        (keys_dir / "audit-signing.key").read_bytes(), password=None
    )
    public = serialization.load_pem_public_key((keys_dir / "audit-signing.pub").read_bytes())
    assert isinstance(private, Ed25519PrivateKey)
    assert private.public_key() == public


def test_generate_dev_keys_makes_fresh_keys(tmp_path: Path) -> None:
    first = generate_dev_keys(tmp_path / "a")
    second = generate_dev_keys(tmp_path / "b")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() != two.read_bytes()


@pytest.mark.parametrize("existing", ALL_FILES)
def test_generate_dev_keys_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    """Generation never overwrites an existing key file, and then writes nothing at all."""
    tmp_path.joinpath(existing).write_text("old key\n")
    with pytest.raises(ConfigurationError, match=existing):
        generate_dev_keys(tmp_path)
    assert tmp_path.joinpath(existing).read_text() == "old key\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [existing]


# Loading


def test_load_keys_from_files(keys_dir: Path) -> None:
    material = load_keys(keys_dir, {})
    assert material.source == f"files in {keys_dir}"
    assert material.index_root == base64.b64decode((keys_dir / "index.key").read_text())
    public = serialization.load_pem_public_key((keys_dir / "audit-signing.pub").read_bytes())
    assert material.audit_signing_key.public_key() == public
    master = base64.b64decode((keys_dir / "master.key").read_text())
    blob = material.provider.wrap(ORG_KEY, b"context")
    assert key_id_of(blob) == 1
    assert SealingKey(master, 1).open(blob, b"context") == ORG_KEY


def test_environment_overrides_files(keys_dir: Path) -> None:
    """DATABANK_* variables take precedence over the key files."""
    signing_key = Ed25519PrivateKey.generate()
    environ = {
        "DATABANK_MASTER_KEY": b64(MASTER_V2),
        "DATABANK_INDEX_KEY": b64(ORG_KEY),
        "DATABANK_AUDIT_SIGNING_KEY": signing_pem(signing_key),
        "DATABANK_LINKAGE_SECRET": b64(SUBJECT_KEY) + "\n",
    }
    material = load_keys(keys_dir, environ)
    assert material.source == "environment"
    assert material.index_root == ORG_KEY
    assert material.audit_signing_key.public_key() == signing_key.public_key()
    assert SealingKey(MASTER_V2, 1).open(material.provider.wrap(ORG_KEY, b""), b"") == ORG_KEY
    assert load_linkage_secret(keys_dir, environ) == SUBJECT_KEY
    assert load_keys(None, environ).source == "environment"


def test_environment_and_files_mixed(keys_dir: Path) -> None:
    material = load_keys(keys_dir, {"DATABANK_INDEX_KEY": b64(ORG_KEY)})
    assert material.index_root == ORG_KEY
    assert material.source == f"environment and files in {keys_dir}"


def test_load_linkage_secret_from_file(keys_dir: Path) -> None:
    expected = base64.b64decode((keys_dir / "linkage.key").read_text())
    assert load_linkage_secret(keys_dir, {}) == expected


@pytest.mark.parametrize(
    ("missing", "label"),
    [
        ("master.key", "master key"),
        ("index.key", "index key"),
        ("audit-signing.key", "audit signing key"),
        ("linkage.key", "linkage secret"),
    ],
)
def test_missing_key_is_named_without_key_material(
    keys_dir: Path, missing: str, label: str
) -> None:
    """A missing key is reported by name, variable and `databank keys init`, never by value."""
    secrets = all_key_material(keys_dir)
    (keys_dir / missing).unlink()
    load = load_linkage_secret if missing == "linkage.key" else load_keys
    with pytest.raises(ConfigurationError) as excinfo:
        load(keys_dir, {})
    message = str(excinfo.value)
    assert label in message
    assert ENV_FOR_FILE[missing] in message
    assert "databank keys init" in message
    for secret in secrets:
        assert secret not in message


@pytest.mark.parametrize("load", [load_keys, load_linkage_secret])
def test_no_keys_dir_and_no_environment(
    load: Callable[[Path | None, dict[str, str]], object],
) -> None:
    """Without a keys directory or variables, start-up fails and says how to create keys."""
    with pytest.raises(ConfigurationError, match="databank keys init"):
        load(None, {})


@pytest.mark.parametrize("name", SECRET_FILES)
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_key_file_accessible_to_others_is_refused(keys_dir: Path, name: str, mode: int) -> None:
    """A secret key file that group or others can access is refused, with the chmod to fix it."""
    path = keys_dir / name
    path.chmod(mode)
    load = load_linkage_secret if name == "linkage.key" else load_keys
    with pytest.raises(ConfigurationError) as excinfo:
        load(keys_dir, {})
    assert str(path) in str(excinfo.value)
    assert "chmod 600" in str(excinfo.value)


def test_key_path_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "master.key").mkdir(mode=0o700)
    with pytest.raises(ConfigurationError, match="not a regular file"):
        load_keys(tmp_path, {})


def test_unreadable_key_path_is_reported(tmp_path: Path) -> None:
    (tmp_path / "master.key").symlink_to(tmp_path / "master.key")
    with pytest.raises(ConfigurationError, match=r"master key file .* cannot be read"):
        load_keys(tmp_path, {})


def test_file_created_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    """A key file that appears after the existence check is still never overwritten."""
    (tmp_path / "master.key").write_text("old key\n")
    with pytest.raises(ConfigurationError, match="already exists"):
        _write_new_file(tmp_path / "master.key", b"new key\n", 0o600)
    assert (tmp_path / "master.key").read_text() == "old key\n"


@pytest.mark.parametrize(
    "bad_value",
    [
        pytest.param("not base64 at all!", id="bad-base64"),
        # 32 bytes once the stray character is dropped: a lenient decoder would take it.
        pytest.param(b64(bytes(range(32)))[:20] + "*" + b64(bytes(range(32)))[20:], id="stray"),
        pytest.param(b64(bytes(16)), id="too-short"),
        pytest.param(b64(bytes(33)), id="too-long"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize("variable", ["DATABANK_MASTER_KEY", "DATABANK_INDEX_KEY"])
def test_malformed_key_is_named_without_its_value(
    keys_dir: Path, variable: str, bad_value: str
) -> None:
    """A malformed key is reported by name and source, never by its value."""
    with pytest.raises(ConfigurationError, match=variable) as excinfo:
        load_keys(keys_dir, {variable: bad_value})
    if bad_value:
        assert bad_value not in str(excinfo.value)
    assert "32 random bytes" in str(excinfo.value)


def test_malformed_key_file_is_named(keys_dir: Path) -> None:
    (keys_dir / "master.key").write_text(b64(bytes(16)) + "\n")
    with pytest.raises(ConfigurationError, match=r"master key in .*master\.key"):
        load_keys(keys_dir, {})


@pytest.mark.parametrize(
    "bad_pem",
    [
        pytest.param("not a pem", id="garbage"),
        pytest.param(
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode(),
            id="not-ed25519",
        ),
        pytest.param(
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            )
            .decode(),
            id="encrypted",
        ),
    ],
)
def test_bad_audit_signing_key_is_refused(keys_dir: Path, bad_pem: str) -> None:
    with pytest.raises(ConfigurationError, match="DATABANK_AUDIT_SIGNING_KEY") as excinfo:
        load_keys(keys_dir, {"DATABANK_AUDIT_SIGNING_KEY": bad_pem})
    assert bad_pem not in str(excinfo.value)


def test_key_material_repr_shows_no_keys(keys_dir: Path) -> None:
    """repr of the loaded key material names its source and shows no key bytes."""
    material = load_keys(keys_dir, {})
    assert isinstance(material, KeyMaterial)
    text = repr(material)
    assert "files in" in text
    assert "index_root" not in text
    assert "audit_signing_key" not in text
    for secret in all_key_material(keys_dir):
        assert secret not in text
    assert repr(material.index_root) not in text
