"""Personal data never appears in clear at rest: raw database files and dumps are searched."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from databank.demo.generator import generate_population, load_demo
from tests.privacy import contexts, find_clear_values, personal_values
from tests.support import fresh_postgres_database, migrated_runtime, postgres_url

PEOPLE, SEED = 2000, 42
_BYTEA = re.compile(rb"\\\\x([0-9a-f]+)")  # a bytea value in pg_dump's COPY text


@pytest.fixture(scope="module")
def needles() -> tuple[set[str], set[str]]:
    return personal_values(generate_population(PEOPLE, SEED))


def test_the_search_finds_what_it_looks_for() -> None:
    """The scanner itself can fail: clear values in UTF-8 and UTF-16 are found in noise."""
    noise = os.urandom(50_000)
    raw = noise + "Amélie Lefèvre".encode() + noise + "Benali".encode("utf-16-le") + noise
    raw += "06 12 34 56 78".encode("utf-16-be")
    raw += noise + b"erasure_tombstones" + noise + b"\x07stone\x01"
    found = find_clear_values(
        raw, ["Amélie Lefèvre", "Benali", "06 12 34 56 78", "Absent"], ["stone", "erasure"]
    )
    assert found == ["06 12 34 56 78", "Amélie Lefèvre", "Benali", "stone"]


@pytest.mark.slow
@pytest.mark.skipif(
    postgres_url() is not None, reason="SQLite files: the SQLite pass runs this one (same test)"
)
def test_no_demo_identifier_in_the_sqlite_files(
    tmp_path: Path, needles: tuple[set[str], set[str]]
) -> None:
    """Threat 1: the database file and its WAL hold no name, birth date, phone or note in clear."""
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    runtime = migrated_runtime(url, tmp_path / "instance")
    with runtime.transaction() as session:
        summary = load_demo(session, people=PEOPLE, seed=SEED)
    assert summary.linkage.true_persons == PEOPLE
    wal = tmp_path / "demo.sqlite-wal"
    raw_while_open = wal.read_bytes() if wal.exists() else b""
    runtime.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("demo.sqlite"))
    assert len(raw) > 1_000_000  # the demo really is in there
    found = find_clear_values(raw + raw_while_open, *needles)
    assert found == [], contexts(raw + raw_while_open, found)


@pytest.mark.slow
@pytest.mark.skipif(postgres_url() is None, reason="needs DATABANK_TEST_DATABASE_URL (PostgreSQL)")
def test_no_demo_identifier_in_a_postgres_dump(
    tmp_path: Path, needles: tuple[set[str], set[str]]
) -> None:
    """Threat 1, PostgreSQL: a pg_dump of the demo holds no personal value in clear."""
    base = postgres_url()
    assert base is not None
    url = fresh_postgres_database(base, "databank_privacy_check")
    runtime = migrated_runtime(url, tmp_path / "instance")
    with runtime.transaction() as session:
        load_demo(session, people=PEOPLE, seed=SEED)
    runtime.dispose()
    parts = make_url(url)
    dump = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            parts.host or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            parts.database or "",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    ).stdout
    assert b"COPY public.identities" in dump
    # pg_dump writes bytea as hex text (\\x33666437...): searched as text, the hex of the
    # hashes and salts in the log's bodies spells out digit runs by chance (a phone number's
    # digits were found so). Each value is searched as stored, decoded from its hex.
    stored = _BYTEA.sub(lambda m: bytes.fromhex(m.group(1).decode()), dump)
    assert len(stored) < len(dump)  # there were bytea values to decode
    assert find_clear_values(stored, *needles) == []
