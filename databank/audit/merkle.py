"""RFC 6962 Merkle tree hashing: leaf and node hashes, the append-only frontier, inclusion proofs.

Throughout, a "leaf" is a leaf *hash*, `leaf_hash(body)`, never the entry body itself. Trees are
RFC 6962 (Certificate Transparency) trees, so any CT or tlog tool can check our roots and proofs.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_LEN",
    "Frontier",
    "inclusion_proof",
    "inclusion_proofs",
    "leaf_hash",
    "node_hash",
    "root_of",
    "verify_inclusion",
]

HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# The 0x00/0x01 prefixes separate leaves from interior nodes, so no interior node can be passed
# off as a leaf (second-preimage attack on unprefixed Merkle trees).
_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256

_FORMAT_V1 = 1
_HEADER = struct.Struct(">BQ")  # version, size


def leaf_hash(body: bytes) -> bytes:
    """SHA-256(0x00 || body): the hash of one log entry."""
    return _sha256(_LEAF + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The compact state of an append-only tree: its size and the roots of its perfect subtrees.

    `hashes` runs left to right, largest subtree first, one hash per set bit of `size` (so at most
    log2(size) + 1 of them). That is enough to append further leaves and to compute the root.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError("a tree size cannot be negative")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier hashes")
        if any(len(h) != HASH_LEN for h in hashes):
            raise ValueError("frontier hashes are 32 bytes")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash: one node hash per trailing 1-bit of size, amortised one per leaf."""
        hashes = self._hashes
        size = self._size
        self._size = size + 1
        while size & 1:
            leaf = _sha256(_NODE + hashes.pop() + leaf).digest()
            size >>= 1
        hashes.append(leaf)

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes (the same as calling append for each, with less overhead)."""
        hashes = self._hashes
        size = self._size
        pop, push, sha = hashes.pop, hashes.append, _sha256
        for leaf in leaves:
            n = size
            size += 1
            while n & 1:
                leaf = sha(_NODE + pop() + leaf).digest()
                n >>= 1
            push(leaf)
        self._size = size

    def root(self) -> bytes:
        """The RFC 6962 Merkle tree hash of every leaf appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        # MTH(D[0:n]) = node(perfect left subtree, MTH(rest)): fold from the right.
        it = reversed(self._hashes)
        root = next(it)
        for h in it:
            root = node_hash(h, root)
        return root

    def to_bytes(self) -> bytes:
        """Version byte 1, size as 8 bytes big-endian, then the frontier hashes."""
        return _HEADER.pack(_FORMAT_V1, self._size) + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        if len(data) < _HEADER.size:
            raise ValueError("frontier data is truncated")
        version, size = _HEADER.unpack_from(data)
        if version != _FORMAT_V1:
            raise ValueError(f"unknown frontier format version {version}")
        body = data[_HEADER.size :]
        if len(body) != HASH_LEN * size.bit_count():
            raise ValueError(f"frontier data for size {size} has the wrong length")
        # The length check above is the constructor's check of the hashes: this runs in every
        # append, so the frontier is made without checking them again.
        frontier = cls.__new__(cls)
        frontier._size = size
        frontier._hashes = [body[i : i + HASH_LEN] for i in range(0, len(body), HASH_LEN)]
        return frontier

    def copy(self) -> Frontier:
        return Frontier(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}…)"


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) by the RFC 6962 recursion (hi > lo)."""
    if hi - lo == 1:
        return leaves[lo]
    mid = lo + _split(hi - lo)
    return node_hash(_mth(leaves, lo, mid), _mth(leaves, mid, hi))


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash MTH(D[0:n]) of these leaf hashes."""
    return _mth(leaves, 0, len(leaves)) if leaves else EMPTY_ROOT


def _check_index(leaves: Sequence[bytes], index: int, size: int) -> None:
    if not 0 < size <= len(leaves):
        raise ValueError(f"tree size {size} is not between 1 and the {len(leaves)} leaves given")
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size]): the audit path of one leaf, leaf level first."""
    _check_index(leaves, index, size)
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:  # walk down from the root, collecting the sibling subtree at each split
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(_mth(leaves, mid, hi))
            hi = mid
        else:
            path.append(_mth(leaves, lo, mid))
            lo = mid
    path.reverse()
    return path


def inclusion_proofs(
    leaves: Sequence[bytes], size: int, indices: Iterable[int]
) -> dict[int, list[bytes]]:
    """Audit paths of many leaves of one tree, hashing every node once.

    Builds the tree bottom up, each level one bytes object of 32-byte hashes (about 64 bytes of
    memory per leaf in all). An odd node at the end of a level is carried up unchanged, which gives
    exactly RFC 6962's tree: its left subtrees are the perfect ones.
    """
    wanted = sorted(set(indices))
    if not wanted:
        return {}
    _check_index(leaves, wanted[0], size)
    _check_index(leaves, wanted[-1], size)
    level = b"".join(leaves[:size])
    if len(level) != HASH_LEN * size:
        raise ValueError("leaf hashes are 32 bytes")
    levels = [level]
    sha, node, pair = _sha256, _NODE, 2 * HASH_LEN
    while len(level) > HASH_LEN:
        complete = len(level) - len(level) % pair
        up = bytearray()
        for i in range(0, complete, pair):
            up += sha(node + level[i : i + pair]).digest()
        up += level[complete:]
        level = bytes(up)
        levels.append(level)
    proofs: dict[int, list[bytes]] = {}
    for index in wanted:
        path = []
        i = index
        for lvl in levels[:-1]:
            sibling = (i ^ 1) * HASH_LEN
            if sibling < len(lvl):  # no sibling: this node is carried up unchanged
                path.append(lvl[sibling : sibling + HASH_LEN])
            i >>= 1
        proofs[index] = path
    return proofs


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`.

    The algorithm of RFC 9162 section 2.1.3.2.
    """
    if not 0 <= index < size or len(leaf) != HASH_LEN:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_LEN:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
