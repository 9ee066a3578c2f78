"""Per-organisation handles of pooled people: what an organisation's screens, APIs and CLI show.

Threat: the pooled person id is the join key of the whole databank. Shown to every organisation,
it would tell a partner that the person behind a shared case is the one it registered under a
name (registration answered with the same id), and let two organisations join their screens or
extracts. So it never leaves the server: each organisation sees a handle, the pooled id enciphered
under a key derived for that organisation alone.

A person on another organisation's record (a partner's shared case, an entry about it) is shown
under a second key, for that (viewer, holder) pair: it tells the viewer that two of the holder's
records are the same person, as the records themselves do, but never joins them to the person the
viewer registered itself, so registering a guessed name cannot confirm who is behind a shared case.

A handle is one AES-256 block (a pseudorandom permutation of 128 bits) of the pooled id: as long
as a UUID, so it takes the place of the id in paths and documents, and the server turns it back
without a lookup table. Without the key, one organisation's handle of a person says nothing about
another's, nor about the pooled id. Decoding a handle under the wrong organisation's key gives an
id that matches no one, so a handle copied from another organisation's screen finds nothing.
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
    """Encipher and decipher pooled person ids under one key per organisation."""

    __slots__ = ("_keys", "_lock", "_root")

    def __init__(self, index_root: bytes) -> None:
        if not isinstance(index_root, bytes) or len(index_root) != KEY_LEN:
            raise ValueError(f"the index root key must be {KEY_LEN} bytes")
        self._root = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=aad("person-handle", 1)
        ).derive(index_root)
        self._keys: dict[tuple[UUID, UUID | None], Cipher[modes.ECB]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "PersonHandles()"

    def _cipher(self, org_id: UUID, holder: UUID | None) -> Cipher[modes.ECB]:
        scope = (org_id, None if holder == org_id else holder)
        cipher = self._keys.get(scope)
        if cipher is None:
            parts = (org_id,) if scope[1] is None else (org_id, scope[1])
            key = hmac.digest(self._root, aad(*parts), "sha256")
            # ECB over exactly one block is the bare block cipher: a keyed permutation of ids.
            cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
            with self._lock:
                self._keys[scope] = cipher
        return cipher

    def handle(self, org_id: UUID, person_id: UUID, holder: UUID | None = None) -> UUID:
        """The handle `org_id` sees for the pooled person `person_id`, on its own records or
        (with `holder`, another organisation) on that organisation's records."""
        encryptor = self._cipher(org_id, holder).encryptor()
        return UUID(bytes=encryptor.update(person_id.bytes) + encryptor.finalize())

    def person(self, org_id: UUID, handle: UUID) -> UUID:
        """The pooled id behind a handle `org_id` was shown (an unknown id for any other)."""
        decryptor = self._cipher(org_id, None).decryptor()
        return UUID(bytes=decryptor.update(handle.bytes) + decryptor.finalize())
