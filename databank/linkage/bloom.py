"""Keyed, diffused Bloom filters of name bigrams, built for many records at once with numpy.

Positions come from keyed random hashing: each bigram's k positions are read from an
HMAC-SHA256 of the bigram under the field key, never from double hashing (the scheme the
pattern-mining attacks of Kroll & Steinmetzer 2015 and Christen et al. 2018 exploit).

Hardening is the diffusion layer of Armknecht, Heng & Schnell ("Strengthening privacy-preserving
record linkage using diffusion", PoPETs 2023): the stored filter has ``out_bits`` bits, each the
XOR of ``taps`` bits of the plain filter chosen by a keyed permutation. No stored bit belongs to
one bigram any more, so the frequency of a bit or of a bit pattern no longer points at a
frequent bigram (the frequency and pattern-mining attacks), while the Hamming distance of two
diffused filters still grows with the distance of the plain ones, so similarity survives.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["BloomEncoder", "bigrams"]

CHUNK = 20_000  # records per numpy block: 20k x 1024 bytes dense, x3 while diffusing


def bigrams(text: str) -> list[str]:
    """Padded bigrams of one token ("_a", "ab", "b_"); none for an empty token."""
    if not text:
        return []
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


class BloomEncoder:
    """Builds the filters of one key: plain (``diffuse=False``) or diffused."""

    __slots__ = (
        "_cache",
        "_gram_ids",
        "_key",
        "_position_table",
        "_taps_index",
        "bits",
        "hashes",
        "out_bits",
    )

    def __init__(
        self,
        key: bytes,
        *,
        bits: int = 1024,
        hashes: int = 15,
        diffuse: bool = True,
        out_bits: int = 1024,
        taps: int = 3,
    ) -> None:
        self._key = key
        self.bits = bits
        self.hashes = hashes
        self.out_bits = out_bits if diffuse else bits
        self._cache: dict[str, npt.NDArray[np.int64]] = {}
        self._taps_index: npt.NDArray[np.int64] | None = None
        # Every bigram seen gets a number, the row of its positions in ``_position_table``.
        self._gram_ids: dict[str, int] = {}
        self._position_table = np.zeros((0, hashes), dtype=np.int64)
        if diffuse:
            # The keyed choice of which plain bits feed each stored bit: a PRNG seeded from the
            # key, so it is secret and the same for every record (distances must compare).
            seed = int.from_bytes(hmac.digest(key, b"diffusion taps", "sha256"), "big")
            rng = np.random.Generator(np.random.PCG64(seed))
            self._taps_index = np.stack(
                [rng.permutation(bits)[:out_bits] for _ in range(taps)], axis=1
            )

    def _positions(self, gram: str) -> npt.NDArray[np.int64]:
        found = self._cache.get(gram)
        if found is None:
            digest = hmac.digest(self._key, gram.encode("ascii"), "sha512")
            # 15 positions of 32 bits each from one 64-byte digest; 2**32 mod 1024 is unbiased.
            words = np.frombuffer(digest[: 4 * self.hashes], dtype=">u4").astype(np.int64)
            found = words % self.bits
            self._cache[gram] = found
        return found

    def encode_many(self, token_lists: Sequence[Sequence[str]]) -> list[bytes | None]:
        """One filter (bytes, big-endian bit order) per list of tokens; None when it is empty.

        Per record, Python only lists the distinct bigrams' numbers; setting the bits, the
        diffusion and the packing run in numpy on chunks of ``CHUNK`` records, so memory
        stays bounded (chunk x bits bytes) at any number of records.
        """
        out: list[bytes | None] = [None] * len(token_lists)
        gram_ids = self._gram_ids
        for start in range(0, len(token_lists), CHUNK):
            chunk = token_lists[start : start + CHUNK]
            rows: list[int] = []
            ids: list[int] = []
            for offset, tokens in enumerate(chunk):
                grams = {g for t in tokens for g in bigrams(t)}
                for gram in grams:
                    ids.append(gram_ids.setdefault(gram, len(gram_ids)))
                rows.extend([offset] * len(grams))
            if not rows:
                continue
            table = self._table(gram_ids)
            row_index = np.asarray(rows, dtype=np.int64)
            positions = table[np.asarray(ids, dtype=np.int64)]  # (grams, hashes)
            dense = np.zeros((len(chunk), self.bits), dtype=np.uint8)
            dense[np.repeat(row_index, self.hashes), positions.ravel()] = 1
            if self._taps_index is not None:
                dense = np.bitwise_xor.reduce(dense[:, self._taps_index], axis=2)
            packed = np.packbits(dense, axis=1)
            present = np.zeros(len(chunk), dtype=bool)
            present[row_index] = True
            for index in np.flatnonzero(present).tolist():
                out[start + index] = packed[index].tobytes()

        return out

    def _table(self, gram_ids: dict[str, int]) -> npt.NDArray[np.int64]:
        """The positions of every bigram numbered so far, one row per number."""
        if self._position_table.shape[0] < len(gram_ids):
            grams = sorted(gram_ids, key=gram_ids.__getitem__)
            self._position_table = np.stack([self._positions(g) for g in grams])
        return self._position_table
