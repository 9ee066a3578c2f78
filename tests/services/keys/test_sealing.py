"""The sealed-field registry: every ciphertext column declared once, sealed and opened by it."""

from __future__ import annotations

import uuid

import pytest

from databank.crypto import SealingKey, aad, pad
from databank.db import Base
from databank.domain.errors import DecryptionFailed
from databank.services.keys.sealing import SEALED, KeyOf, RowSealer, open_sealed, seal

KEY = SealingKey(bytes(range(32)), 3)
ORG, ROW, PERSON = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_every_ciphertext_column_is_registered() -> None:
    """Every `*_ciphertext` column of the models is declared in the registry, and every
    declaration names a real column: no field is sealed by a convention of its own."""
    import databank.models  # noqa: F401 - every table on the metadata

    columns = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_ciphertext")
    }
    assert len(columns) >= 16
    assert columns == set(SEALED)


def test_subject_columns_bind_the_person_and_are_padded() -> None:
    """Fields under a person's key name that person in their context and hide their length."""
    subject = [c for c in SEALED.values() if c.key is KeyOf.SUBJECT]
    assert subject
    assert all(c.binds_person and c.padded for c in subject)


@pytest.mark.parametrize(("table", "column"), sorted(SEALED))
def test_a_moved_ciphertext_does_not_open(table: str, column: str) -> None:
    """A ciphertext opens only where it was sealed: another row, org, person or column fails
    with the one opaque error."""
    spec = SEALED[(table, column)]
    person = PERSON if spec.binds_person else None
    blob = seal(KEY, table, column, "Jeanne-Marie", ORG, ROW, person)
    assert open_sealed(KEY, table, column, blob, ORG, ROW, person) == "Jeanne-Marie"
    moves = [(ORG, uuid.uuid4(), person), (uuid.uuid4(), ROW, person)]
    if spec.binds_person:
        moves.append((ORG, ROW, uuid.uuid4()))
    for org, row, who in moves:
        with pytest.raises(DecryptionFailed):
            open_sealed(KEY, table, column, blob, org, row, who)
    # Another column of the same row (where the table has one): moved sideways, it fails too.
    other = next((c for t, c in SEALED if t == table and c != column), None)
    if other is not None:
        with pytest.raises(DecryptionFailed):
            open_sealed(KEY, table, other, blob, ORG, ROW, person)


def test_padded_columns_hide_the_length_of_free_text() -> None:
    """A break-glass justification (free text about a person) is padded like a note: two
    reasons of different lengths in one bucket give ciphertexts of one length."""
    args = ("break_glass_grants", "justification_ciphertext")
    short = seal(KEY, *args, "Unconscious, cold", ORG, ROW, PERSON)
    longer = seal(KEY, *args, "Unconscious, no ID, cold.", ORG, ROW, PERSON)
    assert len(short) == len(longer)


def test_a_review_note_sealed_before_the_registry_still_opens() -> None:
    """Notes sealed with the earlier context (bound to the alert only) are still read; new
    ones are sealed with the registry's context."""
    old = KEY.seal(pad(b"Checked with the team lead."), aad("alert-review", ROW))
    args = ("audit_alerts", "review_note_ciphertext")
    assert open_sealed(KEY, *args, old, ORG, ROW) == "Checked with the team lead."
    with pytest.raises(DecryptionFailed):
        open_sealed(KEY, *args, old, ORG, uuid.uuid4())
    new = seal(KEY, *args, "Closed.", ORG, ROW)
    with pytest.raises(DecryptionFailed):
        KEY.open(new, aad("alert-review", ROW))


def test_a_row_sealer_refuses_an_undeclared_column() -> None:
    """A person's row is sealed only in declared subject columns."""
    sealer = RowSealer(KEY, ORG, "identities", ROW, PERSON)
    assert sealer.open("given_name_ciphertext", sealer.seal("given_name_ciphertext", "Ana"))
    with pytest.raises(KeyError):
        sealer.seal("nickname_ciphertext", "Ana")
    with pytest.raises(KeyError):
        RowSealer(KEY, ORG, "users", ROW, PERSON).seal("totp_secret_ciphertext", "ABC")
