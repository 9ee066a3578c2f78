"""Per-organisation handles of people: what an organisation's screens, APIs and CLI show.

Threat: the pooled person id is the join key of the whole databank. Shown to every organisation,
it would tell a partner that the person behind a shared case is the one it registered under a
name (registration answered with the same id), and let two organisations join their screens or
extracts. So it never leaves the server: each organisation sees a handle, an id enciphered under
a key derived for that organisation alone.

What is enciphered is an *anchor*: a subject (one organisation's record of the person) chosen by
the services (services/records/anchors.py), not the pooled id, since linkage merges pooled
persons: a handle of the pooled id would change when another organisation's record of the same
person is found, and tell the organisation that someone else knows them.

A person on another organisation's record (a partner's shared case, an entry about it) is shown
under a second key, for that (viewer, holder) pair: it tells the viewer that two of the holder's
records are the same person, as the records themselves do, but never joins them to the person the
viewer registered itself, so registering a guessed name cannot confirm who is behind a shared case.

A handle is one AES-256 block (a pseudorandom permutation of 128 bits) of the id: as long as a
UUID, so it takes the place of the id in paths and documents, and the server turns it back
without a lookup table. Without the key, one organisation's handle of a person says nothing about
another's, nor about the id. Decoding a handle under the wrong organisation's key gives an id that
matches no one, so a handle copied from another organisation's screen finds nothing.

Where no record anchors a person (the log naming someone whose records are all gone), the pooled
id itself is shown under a third key of the pair (`unanchored`), never turned back: such a handle
names the person on a page and leads nowhere.
"""

from __future__ import annotations

import hmac
import threading
from uuid import UUID

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from databank.crypto.envelope import KEY_LEN, aad


class PersonHandles:
    """Encipher and decipher ids (anchors, or the log's pooled ids) under one key per
    organisation, or per (viewer, holder) pair."""

    __slots__ = ("_keys", "_lock", "_root")

    def __init__(self, index_root: bytes) -> None:
        if not isinstance(index_root, bytes) or len(index_root) != KEY_LEN:
            raise ValueError(f"the index root key must be {KEY_LEN} bytes")
        self._root = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=aad("person-handle", 1)
        ).derive(index_root)
        self._keys: dict[tuple[UUID, UUID | None, bool], Cipher[modes.ECB]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "PersonHandles()"

    def _cipher(
        self, org_id: UUID, holder: UUID | None, unanchored: bool = False
    ) -> Cipher[modes.ECB]:
        scope = (org_id, None if holder == org_id else holder, unanchored)
        cipher = self._keys.get(scope)
        if cipher is None:
            parts: tuple[UUID | str, ...] = (org_id,) if scope[1] is None else (org_id, scope[1])
            if unanchored:
                # Its own key: an unanchored handle deciphers to no subject under the others.
                parts = (org_id, holder or org_id, "unanchored")
            key = hmac.digest(self._root, aad(*parts), "sha256")
            # ECB over exactly one block is the bare block cipher: a keyed permutation of ids.
            cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
            with self._lock:
                self._keys[scope] = cipher
        return cipher

    def handle(self, org_id: UUID, anchor_id: UUID, holder: UUID | None = None) -> UUID:
        """The handle `org_id` sees for `anchor_id` (a subject; the log enciphers pooled ids
        the same way), on its own records or (with `holder`, another organisation) on that
        organisation's records."""
        encryptor = self._cipher(org_id, holder).encryptor()
        return UUID(bytes=encryptor.update(anchor_id.bytes) + encryptor.finalize())

    def unanchored(self, org_id: UUID, person_id: UUID, holder: UUID | None = None) -> UUID:
        """The handle `org_id` sees for a pooled person no record anchors, on the records of
        `holder` (itself if None): under a key of its own, and never turned back."""
        encryptor = self._cipher(org_id, holder, unanchored=True).encryptor()
        return UUID(bytes=encryptor.update(person_id.bytes) + encryptor.finalize())

    def person(self, org_id: UUID, handle: UUID) -> UUID:
        """The id behind a handle `org_id` was shown (an unknown id for any other)."""
        decryptor = self._cipher(org_id, None).decryptor()
        return UUID(bytes=decryptor.update(handle.bytes) + decryptor.finalize())
