"""The sealed-field registry: every `*_ciphertext` column declared once, and sealing by it.

Each column says whose key seals it (the subject's key, or the organisation's key), whether
its associated data binds the row's subject, and whether its value is padded to a length bucket.
The associated data is always built the same way from the declaration:
`aad(org, table, column, row[, binding])`, where a subject's row names `Subject.binding` (never
the pooled person, which linkage may change without touching a ciphertext). Threat 2 (a
database writer moving ciphertext between rows, columns, people or orgs): the context is rebuilt
from where the ciphertext is read, so a moved one fails to open. Threat 1 (a stolen database):
free text is padded, so a ciphertext's length does not reveal a name or a note.
`tests/services/keys/test_sealing.py` fails when a `*_ciphertext` column of the models is
missing here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from databank.crypto import RowContext, SealingKey, aad, field_context, pad, unpad
from databank.domain.errors import DecryptionFailed


class KeyOf(Enum):
    """Whose key seals a column."""

    SUBJECT = "subject"  # the person's key at that org: erasure destroys it (crypto-shredding)
    ORG = "org"  # the org's current key: account secrets, notes of staff about the log


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    key: KeyOf
    binds_person: bool  # the associated data names the row's subject binding (or grant's person)
    padded: bool  # padded to a power-of-two bucket (free text, names, dates, places)
    # A context this column was sealed with before the registry; read only, never written.
    legacy: tuple[str, ...] = ()

    def context(self, org_id: uuid.UUID, row_id: uuid.UUID, binding: uuid.UUID | None) -> bytes:
        if self.binds_person:
            if binding is None:
                raise ValueError(f"{self.table}.{self.column} is bound to a subject: give one")
            return field_context(org_id, self.table, self.column, row_id, binding)
        return aad(org_id, self.table, self.column, row_id)

    def legacy_context(self, row_id: uuid.UUID) -> bytes | None:
        return aad(*self.legacy, row_id) if self.legacy else None


def _subject(table: str, *columns: str) -> list[SealedColumn]:
    return [SealedColumn(table, c, KeyOf.SUBJECT, binds_person=True, padded=True) for c in columns]


SEALED: dict[tuple[str, str], SealedColumn] = {
    (c.table, c.column): c
    for c in [
        *_subject(
            "identities",
            "given_name_ciphertext",
            "family_name_ciphertext",
            "birth_date_ciphertext",
            "sex_ciphertext",
            "aliases_ciphertext",
            "birth_place_ciphertext",
            "phone_ciphertext",
            "id_numbers_ciphertext",
        ),
        # The values an identity correction replaced, kept as its history (lifecycle).
        *_subject(
            "identity_changes",
            "given_name_ciphertext",
            "family_name_ciphertext",
            "birth_date_ciphertext",
            "aliases_ciphertext",
            "phone_ciphertext",
        ),
        *_subject("cases", "location_ciphertext", "notes_ciphertext"),
        *_subject("encounters", "location_ciphertext", "notes_ciphertext"),
        *_subject("referrals", "note_ciphertext"),
        # The responder's written reason for a break-glass read: free text about a person, kept
        # under the responder org's key (the person's own keys belong to the orgs that hold them).
        SealedColumn(
            "break_glass_grants",
            "justification_ciphertext",
            KeyOf.ORG,
            binds_person=True,
            padded=True,
        ),
        # An auditor's review note: free text that may name people, under the reviewer org's key.
        SealedColumn(
            "audit_alerts",
            "review_note_ciphertext",
            KeyOf.ORG,
            binds_person=False,
            padded=True,
            legacy=("alert-review",),
        ),
        # A TOTP secret: 32 base32 characters, always the same length, so not padded.
        SealedColumn(
            "users", "totp_secret_ciphertext", KeyOf.ORG, binds_person=False, padded=False
        ),
    ]
}


def sealed_column(table: str, column: str) -> SealedColumn:
    found = SEALED.get((table, column))
    if found is None:
        raise KeyError(f"{table}.{column} is not a registered sealed column")
    return found


def seal(
    key: SealingKey,
    table: str,
    column: str,
    value: str,
    org_id: uuid.UUID,
    row_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
) -> bytes:
    """The value sealed as its column's declaration says."""
    spec = sealed_column(table, column)
    raw = value.encode("utf-8")
    return key.seal(pad(raw) if spec.padded else raw, spec.context(org_id, row_id, person_id))


def open_sealed(
    key: SealingKey,
    table: str,
    column: str,
    blob: bytes,
    org_id: uuid.UUID,
    row_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
) -> str:
    """The value of a sealed field; `DecryptionFailed` (one opaque error) if it does not open."""
    spec = sealed_column(table, column)
    context = spec.context(org_id, row_id, person_id)
    legacy = spec.legacy_context(row_id)
    if legacy is None:
        raw = key.open(blob, context)
    else:
        try:
            raw = key.open(blob, context)
        except DecryptionFailed:
            raw = key.open(blob, legacy)  # sealed before the registry; still bound to its row
    return (unpad(raw) if spec.padded else raw).decode("utf-8")


class RowSealer:
    """Seals the fields of one subject's row under its key: the AAD names the row and the
    subject's binding, so a moved ciphertext fails to open. Every column must be a registered
    subject column."""

    __slots__ = ("_context", "_key", "_table")

    def __init__(
        self,
        key: SealingKey,
        org_id: uuid.UUID,
        table: str,
        row_id: uuid.UUID,
        binding: uuid.UUID,
    ) -> None:
        self._key = key
        self._table = table
        self._context = RowContext(org_id, table, row_id, binding).for_column

    def _check(self, column: str) -> None:
        spec = SEALED.get((self._table, column))
        if spec is None or spec.key is not KeyOf.SUBJECT:
            raise KeyError(f"{self._table}.{column} is not a registered subject column")

    def seal(self, column: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        self._check(column)
        return self._key.seal(pad(value.encode("utf-8")), self._context(column))

    def open(self, column: str, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        self._check(column)
        return unpad(self._key.open(blob, self._context(column))).decode("utf-8")
