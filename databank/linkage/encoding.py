"""Per-field keyed encodings of normalised identities: what the linkage tables and Splink see.

Every key is derived with HKDF from the 32-byte linkage secret, one per field group, so another
secret gives unrelated encodings and a stolen table cannot be tested against guessed names.

* Names: keyed Bloom filters of bigrams (``bloom.py``) of the given name, the family name and
  of all name tokens together, all under ONE name key so a given name compares with a family
  name (swapped names). Name tokens (whole canonical name, first token) share one token key for
  the same reason, as do the phonetic codes (jellyfish's Metaphone, a maintained C-backed
  library: abydos has more algorithms but its last release is from 2020).
* Birth date: a token of the date, of its day/month-swapped form (when that is a date too),
  and of its year, month and day; a flag for the 1-January convention.
* Sex, birth place, area (and, for data sets that have them, locality and street address).

Tokens are HMAC-SHA256 truncated to 64 bits (hex): at a million records the chance that two
different values collide is about 3e-8. Hardening of the filters (diffusion) is explained in
``bloom.py``; it is on by default and ``hardened=False`` exists to measure what it costs.
Record-level salting with the birth year was rejected: it makes the name filters of a record
whose year has a typo incomparable, and year typos are among the errors we must survive.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jellyfish
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from databank.linkage.bloom import BloomEncoder
from databank.linkage.normalise import Normalised

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BLOOM_COLUMNS",
    "ENCODING_SCHEMA_VERSION",
    "TOKEN_COLUMNS",
    "RecordEncoder",
    "plaintext_frame",
]

#: Bumped whenever a field, key derivation or parameter changes: encodings of two versions
#: never compare, so a model or a pool must be re-encoded.
ENCODING_SCHEMA_VERSION = "databank-linkage-2"
SECRET_LENGTH = 32
TOKEN_HEX = 16
#: Bits set per bigram in the street-address filter. An address has about 24 bigrams where a
#: name has 7 (FEBRL4); at the names' 15 its filter was 30 % full, and diffusion triples every
#: differing plain bit, so an address missing one word ("43 deloraine street" against
#: "43 deloraine street cornvale") compared like a stranger's. At 5 it is as full as a name's
#: filter (11 % against 10 %). Measured on FEBRL4 and FEBRL3 (hardened, F1), k = 15, 8, 5, 3:
#: 0.9948, 0.9960, 0.9969, 0.9963 and 0.9935, 0.9959, 0.9974, 0.9963 (scripts/LINKAGE.md).
#: The app stores no address (its forms have none), so its stored encodings are unchanged.
ADDRESS_HASHES = 5

BLOOM_COLUMNS = ("given_bf", "family_bf", "name_bf", "address_bf")
TOKEN_COLUMNS = (
    "given_tok",
    "given_first_tok",
    "family_tok",
    "family_first_tok",
    "given_ph",
    "family_ph",
    "dob_tok",
    "dob_swap_tok",
    "year_tok",
    "month_tok",
    "day_tok",
    "sex_tok",
    "place_tok",
    "area_tok",
    "locality_tok",
)


def _derive(secret: bytes, label: str) -> bytes:
    info = f"{ENCODING_SCHEMA_VERSION} {label}".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _phonetic(name: str) -> str | None:
    return jellyfish.metaphone(name) or None if name else None


def _fields(n: Normalised) -> dict[str, tuple[str, str | None]]:
    """Each token column's (key group, clear value), before keying."""
    swapped = None
    if n.birth_year and n.birth_month and n.birth_day and n.birth_day <= 12:
        swapped = f"{n.birth_year:04d}-{n.birth_day:02d}-{n.birth_month:02d}"
    return {
        "given_tok": ("name", n.given or None),
        "given_first_tok": ("name", n.given_first or None),
        "family_tok": ("name", n.family or None),
        "family_first_tok": ("name", n.family_first or None),
        "given_ph": ("phonetic", _phonetic(n.given)),
        "family_ph": ("phonetic", _phonetic(n.family)),
        "dob_tok": ("date", n.birth_date.isoformat() if n.birth_date else None),
        "dob_swap_tok": ("date", swapped),
        "year_tok": ("year", str(n.birth_year) if n.birth_year else None),
        "month_tok": ("month", str(n.birth_month) if n.birth_month else None),
        "day_tok": ("day", str(n.birth_day) if n.birth_day else None),
        "sex_tok": ("sex", n.sex),
        "place_tok": ("place", n.birth_place),
        "area_tok": ("area", n.area),
        "locality_tok": ("locality", n.locality),
    }


def _bloom_inputs(n: Normalised) -> dict[str, list[str]]:
    return {
        "given_bf": [n.given] if n.given else [],
        "family_bf": [n.family] if n.family else [],
        "name_bf": list(n.name_tokens),
        "address_bf": (n.address or "").split() if n.address else [],
    }


class RecordEncoder:
    """Encodes normalised identities with the linkage secret into a frame of encodings only."""

    __slots__ = ("_blooms", "_cache", "_token_keys", "hardened")

    def __init__(self, secret: bytes, *, hardened: bool = True) -> None:
        if not isinstance(secret, bytes) or len(secret) != SECRET_LENGTH:
            raise ValueError(f"linkage secret must be {SECRET_LENGTH} bytes")
        self.hardened = hardened
        groups = ("name", "phonetic", "date", "year", "month", "day", "sex", "place", "area")
        self._token_keys = {g: _derive(secret, f"token {g}") for g in (*groups, "locality")}
        name_bloom = BloomEncoder(_derive(secret, "bloom name"), diffuse=hardened)
        self._blooms = {
            "given_bf": name_bloom,
            "family_bf": name_bloom,
            "name_bf": name_bloom,
            "address_bf": BloomEncoder(
                _derive(secret, "bloom address"), hashes=ADDRESS_HASHES, diffuse=hardened
            ),
        }
        self._cache: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key=<hidden>, hardened={self.hardened})"

    def _token(self, group: str, value: str | None) -> str | None:
        if value is None:
            return None
        found = self._cache.get((group, value))
        if found is None:
            digest = hmac.digest(self._token_keys[group], value.encode("utf-8"), "sha256")
            found = digest.hex()[:TOKEN_HEX]
            if len(self._cache) < 2_000_000:
                self._cache[(group, value)] = found
        return found

    def encode(self, records: Sequence[Normalised], record_ids: Sequence[Any]) -> pd.DataFrame:
        """A frame with ``record_id``, the token and filter columns and ``dob_jan1``."""
        import pandas as pd

        return pd.DataFrame(_columns(records, record_ids, self._token, self._blooms))

    def encode_rows(self, records: Sequence[Normalised]) -> list[dict[str, Any]]:
        """The same encodings as one dict per record (no ``record_id``), without building a
        frame: what registration stores, a few records at a time (pandas cost more than the
        encoding itself at that size)."""
        columns = _columns(records, range(len(records)), self._token, self._blooms)
        del columns["record_id"]
        names = list(columns)
        rows = zip(*columns.values(), strict=True)
        return [dict(zip(names, values, strict=True)) for values in rows]


def _columns(
    records: Sequence[Normalised],
    record_ids: Sequence[Any],
    token: Callable[[str, str | None], str | None],
    blooms: dict[str, BloomEncoder] | None,
) -> dict[str, list[Any]]:
    if len(records) != len(record_ids):
        raise ValueError("records and record_ids differ in length")
    columns: dict[str, list[Any]] = {"record_id": list(record_ids)}
    for name in TOKEN_COLUMNS:
        columns[name] = []
    bloom_inputs: dict[str, list[list[str]]] = {name: [] for name in BLOOM_COLUMNS}
    jan1: list[bool] = []
    for n in records:
        for name, (group, value) in _fields(n).items():
            columns[name].append(token(group, value))
        for name, tokens in _bloom_inputs(n).items():
            bloom_inputs[name].append(tokens)
        jan1.append(n.birth_date_is_jan1)
    for name in BLOOM_COLUMNS:
        if blooms is None:  # the plaintext ceiling compares the clear strings instead
            columns[name] = [" ".join(t) or None for t in bloom_inputs[name]]
        else:
            columns[name] = blooms[name].encode_many(bloom_inputs[name])
    columns["dob_jan1"] = jan1
    return columns


def plaintext_frame(records: Sequence[Normalised], record_ids: Sequence[Any]) -> pd.DataFrame:
    """The same columns in CLEAR, for the benchmark's plaintext ceiling only; never stored."""
    import pandas as pd

    return pd.DataFrame(_columns(records, record_ids, lambda _group, value: value, None))
